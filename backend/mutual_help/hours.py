"""The hours of help in the time bank, as mutual help offers them: a statement one may see,
minutes given to one's parent, minutes staff record by hand for help given offline. The rules
of who may are here; the ledger's are in wallet.time_bank."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import STAFF_ROLES, Community, Person
from backend.errors import Forbidden, NotFound
from backend.family.models import Scope
from backend.wallet import time_bank


@dataclass(frozen=True)
class Line:
    at: dt.datetime
    minutes: int
    kind: str
    memo: str


@dataclass(frozen=True)
class Statement:
    balance_minutes: int
    lines: list[Line]


async def statement(session: AsyncSession, actor: Actor, person_id: int | None) -> Statement:
    """My banked minutes (or an elder's I order for, or a resident's I serve), and the lines."""
    person = (await rules.acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    entries = await time_bank.statement(session, person.id)
    lines = [Line(tx.created_at, e.amount, tx.kind, tx.memo) for _, e, tx in entries]
    return Statement(await time_bank.balance(session, person.id), lines)


def _key(idempotency_key: str | None) -> str:
    return (idempotency_key or uuid.uuid4().hex)[:80]


async def give(
    session: AsyncSession, content_dir: Path, actor: Actor, to_id: int, minutes: int, idempotency_key: str | None
) -> int:
    """Minutes given to my parent (an elder I am linked to as family): my balance after."""
    if await rules.active_link(session, elder_id=to_id, family_id=actor.id) is None:
        raise NotFound()
    key = f"gift:{actor.id}:{_key(idempotency_key)}"
    await time_bank.give(session, content_dir, giver_id=actor.id, receiver_id=to_id, minutes=minutes, key=key)
    return await time_bank.balance(session, actor.id)


async def record(
    session: AsyncSession,
    content_dir: Path,
    actor: Actor,
    person_id: int,
    minutes: int,
    reason: str,
    idempotency_key: str | None,
) -> tuple[int, int]:
    """Staff record minutes of help by hand: (the minutes recorded, the person's balance after).
    Staff of one of the person's communities (a volunteer may live elsewhere), never for
    themselves."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound()
    served = rules.staff_communities_of(actor, await rules.community_ids_of(session, person.id), frozenset(STAFF_ROLES))
    if person.id == actor.id or not served:
        raise Forbidden()
    community = await session.get(Community, served[0])
    assert community is not None
    entry = await time_bank.record_by_staff(
        session,
        content_dir,
        community.timezone,
        person_id=person.id,
        community_id=community.id,
        minutes=minutes,
        reason=reason,
        by_id=actor.id,
        key=f"staff:{actor.id}:{_key(idempotency_key)}",
    )
    return entry.minutes, await time_bank.balance(session, person.id)
