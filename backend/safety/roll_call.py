"""The roll-call (bao ping'an): every home of a community (or of one grid) is asked whether it is safe. A home
answers that it is safe with OK on its TV, a button in the app, or key 1 on the phone line; staff and
each grid worker see who has not, elders living alone and the oldest first. When the time is
up, the family and the grid worker of every home that has not answered are told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs, live
from backend.access import rules
from backend.access.subject import Actor
from backend.clock import today
from backend.community.models import Building, Grid, GridAssignment, Household, Person
from backend.config import Settings
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.notify import service as notify
from backend.safety.models import RollCall, RollCallHome
from backend.safety.service import boxes_channel

STARTED = "safety.roll_call_started"  # payload: {"roll_call_id"}: ask every home
DUE = "safety.roll_call_due"  # job: the time is up
MOST_MINUTES = 24 * 60


async def _homes(session: AsyncSession, community_id: int, grid_id: int | None) -> list[int]:
    """Homes where someone lives, in the community (or the grid)."""
    query = (
        select(Household.id)
        .join(Person, Person.household_id == Household.id)
        .where(Household.community_id == community_id, Person.deleted_at.is_(None))
    )
    if grid_id is not None:
        query = query.join(Building, Building.id == Household.building_id).where(Building.grid_id == grid_id)
    return sorted(set((await session.scalars(query.distinct())).all()))


async def start(
    session: AsyncSession,
    *,
    community_id: int,
    grid_id: int | None,
    minutes: int,
    reason: str,
    started_by: Actor | None = None,
    warning_id: int | None = None,
) -> RollCall:
    """Staff start one (for their community, or a grid of it); a severe warning starts one by
    the community's policy (`started_by` None)."""
    if started_by is not None:
        rules.require_staff_of(started_by, community_id)
    if not 5 <= minutes <= MOST_MINUTES:
        raise InvalidInput("minutes", field="minutes")
    if grid_id is not None:  # a grid of this community with buildings; another's would be an empty call
        buildings = await session.scalar(
            select(func.count())
            .select_from(Building)
            .join(Grid, Grid.id == Building.grid_id)
            .where(Building.grid_id == grid_id, Grid.community_id == community_id)
        )
        if not buildings:
            raise InvalidInput("gridId", field="gridId")
    now = utcnow()
    call = RollCall(
        community_id=community_id,
        grid_id=grid_id,
        started_by_id=started_by.id if started_by else None,
        warning_id=warning_id,
        reason=reason.strip()[:200],
        started_at=now,
        answer_by=now + dt.timedelta(minutes=minutes),
    )
    session.add(call)
    await session.flush()
    homes = await _homes(session, community_id, grid_id)
    session.add_all(RollCallHome(roll_call_id=call.id, household_id=h) for h in homes)
    await jobs.schedule(session, DUE, call.answer_by, {"roll_call_id": call.id}, key=f"roll_call:{call.id}")
    events.emit(session, STARTED, {"roll_call_id": call.id})
    live.after_commit(session, [(boxes_channel(community_id), {"kind": "roll_call", "id": call.id})])
    return call


async def answer(
    session: AsyncSession, *, roll_call_id: int, household_id: int, person_id: int | None, door: str
) -> RollCallHome:
    """平安. A second answer changes nothing; a home not asked (or a roll-call over) is NOT_FOUND."""
    home = await session.get(RollCallHome, (roll_call_id, household_id), with_for_update=True)
    call = await session.get(RollCall, roll_call_id)
    if home is None or call is None or call.closed_at is not None:
        raise NotFound()
    if home.answered_at is None:
        home.answered_at, home.answered_by_id, home.door = utcnow(), person_id, door
        await notify.settle(session, f"roll_call:{call.id}:{household_id}")  # the question needs no more chasing
        live.after_commit(session, [(roll_call_channel(call.community_id), {"kind": "roll_call", "id": call.id})])
    return home


async def answer_by(session: AsyncSession, actor: Actor, roll_call_id: int) -> RollCall:
    """平安 from the app: the asker's own home's answer (someone with no home has none to give)."""
    if actor.person.household_id is None:
        raise NotFound()
    await answer(
        session, roll_call_id=roll_call_id, household_id=actor.person.household_id, person_id=actor.id, door="app"
    )
    call = await session.get(RollCall, roll_call_id)
    assert call is not None  # answer found it
    return call


async def homes_of(session: AsyncSession, roll_call_id: int) -> list[int]:
    rows = await session.scalars(select(RollCallHome.household_id).where(RollCallHome.roll_call_id == roll_call_id))
    return list(rows)


async def still_waiting(session: AsyncSession, roll_call_id: int, household_id: int) -> bool:
    """The question to a home still needs to reach it: not answered, the roll-call not over."""
    home = await session.get(RollCallHome, (roll_call_id, household_id))
    call = await session.get(RollCall, roll_call_id)
    return home is not None and home.answered_at is None and call is not None and call.closed_at is None


def roll_call_channel(community_id: int) -> str:
    """Staff screens following a community's roll-calls."""
    return f"community:{community_id}:roll_call"


async def open_for_home(session: AsyncSession, household_id: int) -> list[tuple[RollCall, RollCallHome]]:
    rows = await session.execute(
        select(RollCall, RollCallHome)
        .join(RollCallHome, RollCallHome.roll_call_id == RollCall.id)
        .where(RollCallHome.household_id == household_id, RollCall.closed_at.is_(None))
        .order_by(RollCall.id)
    )
    return [(c, h) for c, h in rows.all()]


@dataclass(frozen=True)
class Unanswered:
    household: Household
    residents: list[Person]
    alone: bool  # one person lives there
    oldest_age: int | None


@dataclass(frozen=True)
class Standing:
    call: RollCall
    asked: int
    answered: int
    unanswered: list[Unanswered]  # living alone first, then the oldest


async def _call_for_staff(session: AsyncSession, actor: Actor, roll_call_id: int) -> RollCall:
    call = await session.get(RollCall, roll_call_id)
    if call is None or not actor.is_staff_of(call.community_id):
        raise NotFound()
    return call


async def standing(session: AsyncSession, settings: Settings, actor: Actor, roll_call_id: int) -> Standing:
    """Who has not answered. A grid worker (and no more than that) sees their own grids' homes."""
    call = await _call_for_staff(session, actor, roll_call_id)
    only_grids = await rules.grids_in_view(session, actor, call.community_id)
    homes = (await session.scalars(select(RollCallHome).where(RollCallHome.roll_call_id == call.id))).all()
    answered = sum(1 for h in homes if h.answered_at is not None)
    waiting_ids = [h.household_id for h in homes if h.answered_at is None]
    rows = (
        await session.execute(
            select(Household, Building.grid_id)
            .join(Building, Building.id == Household.building_id)
            .where(Household.id.in_(waiting_ids))
        )
    ).all()
    people = (
        await session.scalars(
            select(Person).where(Person.household_id.in_(waiting_ids), Person.deleted_at.is_(None)).order_by(Person.id)
        )
    ).all()
    by_home: dict[int, list[Person]] = {}
    for p in people:
        by_home.setdefault(p.household_id or 0, []).append(p)
    day = today(settings.zone)
    found = []
    for household, grid_id in rows:
        if only_grids is not None and grid_id not in only_grids:
            continue
        residents = by_home.get(household.id, [])
        ages = [a for p in residents if (a := p.age(day)) is not None]
        found.append(Unanswered(household, residents, len(residents) == 1, max(ages) if ages else None))
    found.sort(key=lambda u: (not u.alone, -(u.oldest_age or 0), u.household.id))
    return Standing(call, len(homes), answered, found)


async def open_calls(session: AsyncSession, actor: Actor, community_id: int) -> list[RollCall]:
    rules.require_staff_of(actor, community_id)
    rows = await session.scalars(
        select(RollCall)
        .where(RollCall.community_id == community_id, RollCall.closed_at.is_(None))
        .order_by(RollCall.id.desc())
    )
    return list(rows)


async def close(session: AsyncSession, roll_call_id: int) -> tuple[RollCall, list[int]] | None:
    """The time is up: closed, and the homes that did not answer (to follow up)."""
    call = await session.get(RollCall, roll_call_id, with_for_update=True)
    if call is None or call.closed_at is not None:
        return None
    call.closed_at = utcnow()
    silent = (
        await session.scalars(
            select(RollCallHome.household_id).where(
                RollCallHome.roll_call_id == call.id, RollCallHome.answered_at.is_(None)
            )
        )
    ).all()
    live.after_commit(session, [(boxes_channel(call.community_id), {"kind": "roll_call_over", "id": call.id})])
    return call, list(silent)


async def grid_workers_of(session: AsyncSession, household_ids: list[int]) -> dict[int, list[int]]:
    """The grid workers of each home's grid."""
    rows = await session.execute(
        select(Household.id, GridAssignment.person_id)
        .join(Building, Building.id == Household.building_id)
        .join(GridAssignment, GridAssignment.grid_id == Building.grid_id)
        .where(Household.id.in_(household_ids))
    )
    found: dict[int, list[int]] = {}
    for household_id, person_id in rows.all():
        found.setdefault(household_id, []).append(person_id)
    return found
