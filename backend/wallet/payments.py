"""Paying a provider or merchant for what was ordered, and refunding it: the same rules for a
service booking and a shop order."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.actor import Actor
from backend.community.models import Person
from backend.errors import InvalidInput
from backend.wallet import ledger, subsidies
from backend.wallet.models import Account, AccountKind


class PayFrom(StrEnum):
    BENEFICIARY = "beneficiary"  # the elder's own wallet (they, or staff with them, order)
    ME = "me"  # the wallet of whoever orders (family ordering from afar)


def placed_as(actor: Actor, beneficiary: Person, community_id: int) -> str:
    """self, staff (of the elder's community, for one who phoned or walked in) or family."""
    if beneficiary.id == actor.id:
        return "self"
    return "staff" if actor.is_staff_of(community_id) else "family"


def payer(actor: Actor, beneficiary: Person, placed: str, pay_from: PayFrom) -> Person:
    if placed == "family" and pay_from == PayFrom.BENEFICIARY:
        raise InvalidInput("payFrom", field="payFrom")  # an elder's wallet is theirs to spend
    return actor.person if pay_from == PayFrom.ME else beneficiary


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
) -> None:
    """To the provider: first from the beneficiary's subsidies that cover `category` (政府补贴
    is the elder's, whoever orders), the rest from the payer's wallet. Raises InsufficientFunds."""
    allowances = await subsidies.accounts_covering(session, content_dir, beneficiary_id, category)
    wallet = await ledger.account(session, ledger.wallet_key(payer_id), AccountKind.WALLET, person_id=payer_id)
    provider = await ledger.account(session, ledger.provider_key(provider_code), AccountKind.PROVIDER)
    balances = await ledger.locked(session, allowances)
    legs: list[tuple[Account, int]] = []
    left = amount_fen
    for allowance in allowances:
        take = min(balances[allowance.id].balance_fen, left)
        if take > 0:
            legs.append((allowance, -take))
            left -= take
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
