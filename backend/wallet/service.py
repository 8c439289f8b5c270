"""Wallets: who may see and top up whose, and the movements that do it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.actor import Actor
from backend.community import repository as community_repository
from backend.community.models import Person, Role
from backend.community.service import managed_person
from backend.errors import InvalidInput, NotFound
from backend.events import emit
from backend.family.models import Scope
from backend.wallet import ledger
from backend.wallet.errors import PaymentUnavailable
from backend.wallet.gateway import PaymentGateway
from backend.wallet.models import Account, AccountKind, LedgerEntry, LedgerTransaction

MAX_TOP_UP_FEN = 200_000  # ¥2,000 at a time
CASH_TAKERS = frozenset({Role.SERVICE_CENTRE, Role.ADMIN, Role.GRID_WORKER})


class TopUpMethod(StrEnum):
    CASH = "cash"  # paid at the service centre, recorded by staff
    ONLINE = "online"  # paid by the person or their family through the payment gateway


@dataclass(frozen=True)
class Statement:
    person: Person
    balance_fen: int
    entries: Sequence[tuple[LedgerEntry, LedgerTransaction]]


async def wallet_of(session: AsyncSession, actor: Actor, *, person_id: int | None, last: int = 20) -> Statement:
    person = await managed_person(session, actor, person_id, Scope.ORDER_FOR)
    return await _statement(session, person, last)


async def _statement(session: AsyncSession, person: Person, last: int = 20) -> Statement:
    wallet = await ledger.find(session, ledger.wallet_key(person.id))
    if wallet is None:
        return Statement(person, 0, [])  # nothing ever paid in
    return Statement(person, wallet.balance_fen, await ledger.entries_of(session, wallet.id, min(max(last, 1), 100)))


async def _wallet(session: AsyncSession, person_id: int) -> Account:
    return await ledger.account(session, ledger.wallet_key(person_id), AccountKind.WALLET, person_id=person_id)


async def top_up(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int | None,
    amount_fen: int,
    method: TopUpMethod,
    idempotency_key: str,
    gateway: PaymentGateway | None,
) -> tuple[Statement, LedgerTransaction]:
    """Money into a wallet: cash handed to staff of the person's community, or paid online by
    the person or family who may order for them. A replay returns the first top-up."""
    if not 1 <= amount_fen <= MAX_TOP_UP_FEN:
        raise InvalidInput("amountFen", field="amountFen")
    if not 8 <= len(idempotency_key) <= 100:
        raise InvalidInput("idempotencyKey", field="idempotencyKey")
    person = await managed_person(session, actor, person_id, Scope.ORDER_FOR)
    key = f"top_up:{actor.id}:{idempotency_key}"
    wallet = await _wallet(session, person.id)
    first = await _recorded(session, key)
    if method == TopUpMethod.CASH:
        communities = sorted(
            cid
            for cid in await community_repository.community_ids_of(session, person.id)
            if actor.roles_in(cid) & CASH_TAKERS
        )
        if not communities:
            raise NotFound()  # only staff of the person's community take cash for them
        source = await ledger.account(
            session, ledger.cash_desk_key(communities[0]), AccountKind.CASH_DESK, community_id=communities[0]
        )
        memo = "cash"
    else:
        if gateway is None:
            raise PaymentUnavailable()
        # Charged once: a replay finds the recorded top-up, and the gateway dedupes by the
        # key should two copies race here.
        memo = (
            first.memo
            if first is not None
            else await gateway.charge(
                payer_id=actor.id, amount_fen=amount_fen, idempotency_key=key, purpose=f"top_up:{person.id}"
            )
        )
        source = await ledger.account(session, ledger.GATEWAY_KEY, AccountKind.GATEWAY)
    tx, new = await ledger.post(
        session,
        kind="top_up",
        legs=[(source, -amount_fen), (wallet, amount_fen)],
        idempotency_key=key,
        ref=f"wallet:{person.id}",
        memo=memo,
        by_id=actor.id,
    )
    if new:
        emit(session, "wallet.topped_up", {"transaction_id": tx.id, "person_id": person.id})
    return await _statement(session, person), tx


async def _recorded(session: AsyncSession, key: str) -> LedgerTransaction | None:
    return (
        await session.execute(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
    ).scalar_one_or_none()
