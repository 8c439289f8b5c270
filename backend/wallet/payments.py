"""Paying a provider or merchant for what was ordered, and refunding it: the same rules for a
service booking and a shop order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.access.rules import Grant, Placed
from backend.community.models import Person
from backend.db import utcnow
from backend.errors import InvalidInput
from backend.family.models import FamilyLink
from backend.wallet import ledger, subsidies
from backend.wallet.errors import SpendingLimitReached
from backend.wallet.models import Account, AccountKind, LedgerEntry, LedgerTransaction


class PayFrom(StrEnum):
    BENEFICIARY = "beneficiary"  # the elder's own wallet (they, or staff with them, order)
    ME = "me"  # the wallet of whoever orders (family ordering from afar)


@dataclass(frozen=True)
class Payer:
    person: Person
    through: FamilyLink | None = None  # family spending the elder's own wallet, within its limit


def payer(grant: Grant, pay_from: PayFrom) -> Payer:
    """Who pays for what `grant` orders: the wallet of whoever orders, or the beneficiary's."""
    if pay_from == PayFrom.ME:
        return Payer(grant.actor.person)
    if grant.placed_as != Placed.FAMILY:
        return Payer(grant.person)
    # An elder's wallet is theirs to spend: family only where the elder allowed it (the link
    # is the one the grant was made through, read once for the whole order).
    if grant.link is None or not grant.link.elder_wallet_allowed:
        raise InvalidInput("payFrom", field="payFrom")
    return Payer(grant.person, grant.link)


def month_start(tz: ZoneInfo) -> dt.datetime:
    local = utcnow().astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def spent_through(session: AsyncSession, link: FamilyLink, since: dt.datetime) -> int:
    """What the family member has spent from the elder's wallet since `since`, net of refunds."""
    wallet = await ledger.find(session, ledger.wallet_key(link.elder_id))
    if wallet is None:
        return 0
    refs = select(LedgerTransaction.ref).where(
        LedgerTransaction.by_id == link.family_id,
        LedgerTransaction.kind == "payment",
        LedgerTransaction.created_at >= since,
    )
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id == wallet.id, LedgerTransaction.ref.in_(refs))
    )
    return -int(total or 0)


async def pay(
    session: AsyncSession,
    *,
    ref: str,
    payer_id: int,
    beneficiary_id: int,
    provider_code: str,
    amount_fen: int,
    category: str,
    content_dir: Path,
    by_id: int,
    through: FamilyLink | None = None,
    timezone: str,
) -> None:
    """To the provider: first from the beneficiary's subsidies that cover `category` (政府补贴
    is the elder's, whoever orders), the rest from the payer's wallet. Raises InsufficientFunds."""
    allowances = await subsidies.accounts_covering(session, content_dir, beneficiary_id, category)
    wallet = await ledger.account(session, ledger.wallet_key(payer_id), AccountKind.WALLET, person_id=payer_id)
    provider = await ledger.account(session, ledger.provider_key(provider_code), AccountKind.PROVIDER)
    balances = await ledger.locked(session, [*allowances, wallet])  # the limit is checked on a locked wallet
    legs: list[tuple[Account, int]] = []
    left = amount_fen
    for allowance in allowances:
        take = min(balances[allowance.id].balance, left)
        if take > 0:
            legs.append((allowance, -take))
            left -= take
    if left and through is not None and through.monthly_limit_fen is not None:
        spent = await spent_through(session, through, month_start(clock.zone(timezone)))
        if spent + left > through.monthly_limit_fen:
            raise SpendingLimitReached(through.monthly_limit_fen, max(0, through.monthly_limit_fen - spent))
    if left:
        legs.append((wallet, -left))
    legs.append((provider, amount_fen))
    await ledger.post(session, kind="payment", legs=legs, idempotency_key=f"{ref}:pay", ref=ref, by_id=by_id)


async def refund(session: AsyncSession, *, ref: str, by_id: int) -> None:
    """Exactly what was paid for `ref`, back where it came from (subsidy to subsidy)."""
    paid = await ledger.by_key(session, f"{ref}:pay")
    if paid is None:
        return
    legs = [(account, -amount) for account, amount in await ledger.legs_of(session, paid)]
    await ledger.post(session, kind="refund", legs=legs, idempotency_key=f"{ref}:refund", ref=ref, by_id=by_id)
