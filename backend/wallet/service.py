"""Wallets: who may see and top up whose, and the movements that do it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, idempotency
from backend.access import rules
from backend.access.rules import acting_for
from backend.access.subject import Actor
from backend.community.models import Person, Role
from backend.config import Settings
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.events import emit
from backend.family.models import Scope
from backend.gateways.payments import PaymentGateway
from backend.wallet import ledger, subsidies
from backend.wallet.errors import PaymentUnavailable
from backend.wallet.models import Account, AccountKind, LedgerEntry, LedgerTransaction, SubsidyGrant
from backend.wallet.subsidies import SubsidyPolicy

MAX_TOP_UP_FEN = 200_000  # ¥2,000 at a time
CASH_TAKERS = frozenset({Role.SERVICE_CENTRE, Role.ADMIN, Role.GRID_WORKER})


class TopUpMethod(StrEnum):
    CASH = "cash"  # paid at the service centre, recorded by staff
    ONLINE = "online"  # paid by the person or their family through the payment gateway


GRANTERS = frozenset({Role.SERVICE_CENTRE, Role.ADMIN})


@dataclass(frozen=True)
class Statement:
    person: Person
    balance_fen: int
    subsidies: list[tuple[SubsidyPolicy, int]]  # 政府补贴 left under each policy
    entries: Sequence[tuple[Account, LedgerEntry, LedgerTransaction]]  # wallet and subsidies, newest first
    points: int  # 积分, counted apart from money
    points_entries: Sequence[tuple[Account, LedgerEntry, LedgerTransaction]]


async def wallet_of(
    session: AsyncSession, settings: Settings, actor: Actor, *, person_id: int | None, last: int = 20
) -> Statement:
    person = (await acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    return await _statement(session, settings, person, last)


async def _statement(session: AsyncSession, settings: Settings, person: Person, last: int = 20) -> Statement:
    allowances = await subsidies.balances_of(session, settings.content_dir, person.id)
    keys = [ledger.wallet_key(person.id), *(subsidies.subsidy_key(person.id, p.code) for p, _ in allowances)]
    accounts = await ledger.find_many(session, keys)
    wallet = next((a for a in accounts if a.kind == AccountKind.WALLET), None)
    last = min(max(last, 1), 100)
    entries = await ledger.entries_of(session, [a.id for a in accounts], last)
    points = await ledger.find(session, ledger.points_key(person.id))
    points_entries = await ledger.entries_of(session, [points.id] if points else [], last)
    return Statement(
        person,
        wallet.balance if wallet else 0,
        allowances,
        entries,
        points.balance if points else 0,
        points_entries,
    )


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
    settings: Settings,
) -> tuple[Statement, LedgerTransaction]:
    """Money into a wallet: cash handed to staff of the person's community, or paid online by
    the person or family who may order for them. A replay returns the first top-up."""
    if not 1 <= amount_fen <= MAX_TOP_UP_FEN:
        raise InvalidInput("amountFen", field="amountFen")
    key = idempotency.scoped_key(idempotency_key, "top_up", actor.id)
    person = (await acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    wallet = await _wallet(session, person.id)
    first = await ledger.by_key(session, key)
    if method == TopUpMethod.CASH:
        communities = rules.staff_communities_of(actor, await rules.community_ids_of(session, person.id), CASH_TAKERS)
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
    return await _statement(session, settings, person), tx


async def _grantable(
    session: AsyncSession, settings: Settings, actor: Actor, person_id: int, policy_code: str
) -> tuple[Person, SubsidyPolicy]:
    """Staff of the elder's service centre (or admins) give and end staff-granted subsidies."""
    person = await session.get(Person, person_id)
    if person is None or not await rules.is_staff_for(session, actor, person_id, GRANTERS):
        raise NotFound()
    policy = subsidies.subsidy_policies(settings.content_dir).get(policy_code)
    if policy is None or not policy.needs_grant:
        raise InvalidInput("policyCode", field="policyCode")
    return person, policy


async def grant_subsidy(
    session: AsyncSession, settings: Settings, actor: Actor, *, person_id: int, policy_code: str
) -> tuple[SubsidyGrant, SubsidyPolicy]:
    """From now on; this month's allowance comes at once if the elder qualifies today."""
    person, policy = await _grantable(session, settings, actor, person_id, policy_code)
    grant = await session.get(SubsidyGrant, (person.id, policy.code))
    if grant is None:
        grant = SubsidyGrant(person_id=person.id, policy_code=policy.code, granted_by_id=actor.id, granted_at=utcnow())
        session.add(grant)
    elif grant.ended_at is not None:
        grant.granted_by_id, grant.granted_at, grant.ended_at, grant.ended_by_id = actor.id, utcnow(), None, None
    await session.flush()
    first = clock.today(settings.zone).replace(day=1)
    if not await subsidies.eligible(session, policy, first, (person.id - 1, person.id)):
        raise InvalidInput("policyCode", field="policyCode")  # not in its communities, or too young
    await subsidies.credit(session, policy, person.id, subsidies.month_of(first))
    return grant, policy


async def end_subsidy(
    session: AsyncSession, settings: Settings, actor: Actor, *, person_id: int, policy_code: str
) -> tuple[SubsidyGrant, SubsidyPolicy]:
    """No more monthly allowances; what was given this month stays until it expires."""
    person, policy = await _grantable(session, settings, actor, person_id, policy_code)
    grant = await session.get(SubsidyGrant, (person.id, policy.code))
    if grant is None:
        raise NotFound()
    if grant.ended_at is None:
        grant.ended_at, grant.ended_by_id = utcnow(), actor.id
    return grant, policy
