"""Paying a provider or merchant for what was ordered, and refunding it: the same rules for a
service booking and a shop order."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.actor import Actor
from backend.community.models import Person
from backend.errors import InvalidInput
from backend.wallet import ledger
from backend.wallet.models import AccountKind


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
    session: AsyncSession, *, ref: str, payer_id: int, provider_code: str, amount_fen: int, refund: bool, by_id: int
) -> None:
    """Payer's wallet to the provider's account (or back): raises InsufficientFunds."""
    wallet = await ledger.account(session, ledger.wallet_key(payer_id), AccountKind.WALLET, person_id=payer_id)
    provider = await ledger.account(session, ledger.provider_key(provider_code), AccountKind.PROVIDER)
    amount = amount_fen if refund else -amount_fen
    await ledger.post(
        session,
        kind="refund" if refund else "payment",
        legs=[(wallet, amount), (provider, -amount)],
        idempotency_key=f"{ref}:{'refund' if refund else 'pay'}",
        ref=ref,
        by_id=by_id,
    )
