"""Visits (巡访关爱): every elder of a community is visited or greeted by phone at the
community's general interval, and more often when at risk (living alone, 80 or over, a recent
missed check-in, quiet home or band alert, a recent booked visit where nobody was home). A
visit is recorded in a few taps: how the elder was, a note, anything to follow up; a health
note goes into the emergency profile only with the elder's consent. Seeing the elder well or
unwell is also her check-in: any alert still climbing about her stops. The plan is worked out
when asked (the visits, alerts and bookings are the record); the overdue are on top.
Policy: content/wellbeing/visits.json.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import Building, Community, Household, Membership, Person, Role
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.health import service as health
from backend.services import repository as services
from backend.wellbeing import service
from backend.wellbeing.models import MissedCheckIn, Visit

KINDS = ("visit", "call")
HOWS = ("well", "unwell", "not_reached")  # not_reached: not home, no answer; still due
RISKS = ("alone", "old", "alert", "no_show")
MAX_TEXT = 200
CHUNK = 1000


@dataclass(frozen=True)
class Policy:
    every_days: int
    at_risk_every_days: int
    old_age: int
    recent_days: int


@cache
def policy_for(content_dir: Path, community_code: str) -> Policy:
    data = json.loads((content_dir / "wellbeing" / "visits.json").read_text("utf-8"))
    own = {**data, **data.get("communities", {}).get(community_code, {})}
    return Policy(int(own["every_days"]), int(own["at_risk_every_days"]), int(own["old_age"]), int(own["recent_days"]))


@dataclass(frozen=True)
class Due:
    person: Person
    household: Household | None
    grid_id: int | None
    risks: tuple[str, ...]
    every_days: int
    last: Visit | None  # the last visit or call that reached her
    last_try: Visit | None  # the last attempt, reached or not
    open_follow_up: Visit | None
    due_on: dt.date
    overdue_days: int


async def plan(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    content_dir: Path,
    grid_id: int | None = None,
    mine: bool = False,
    overdue_only: bool = False,
) -> list[Due]:
    """The community's elders, the overdue first (the longest overdue on top), then the soonest
    due. Staff of the community; `grid_id` narrows it to a grid, `mine` to the grids the
    asker looks after (a grid worker's own round)."""
    community = await session.get(Community, community_id)
    if community is None or not actor.is_staff_of(community_id):
        raise NotFound()
    policy = policy_for(content_dir, community.code)
    zone = ZoneInfo(community.timezone)
    now = utcnow()
    today = now.astimezone(zone).date()
    rows = await _elders(session, actor, community_id, today, grid_id=grid_id, mine=mine)
    if not rows:
        return []
    risks_of = await _risks(session, community_id, rows, policy, now, today)
    last, last_try, follow_ups = await _latest_visits(session, community_id)
    found = []
    for person, household, grid in rows:
        risks = risks_of(person, household)
        every = policy.at_risk_every_days if risks else policy.every_days
        seen = last.get(person.id)
        due_on = seen.at.astimezone(zone).date() + dt.timedelta(days=every) if seen else today
        overdue = max(0, (today - due_on).days)
        if overdue_only and (overdue == 0 and seen is not None):
            continue
        found.append(
            Due(
                person,
                household,
                grid,
                risks,
                every,
                seen,
                last_try.get(person.id),
                follow_ups.get(person.id),
                due_on,
                overdue,
            )
        )
    found.sort(key=position)
    return found


Row = tuple[Person, Household | None, int | None]  # an elder, her home and its grid


async def _elders(
    session: AsyncSession, actor: Actor, community_id: int, today: dt.date, *, grid_id: int | None, mine: bool
) -> list[Row]:
    """The community's elders the asker may see, narrowed to a grid or to her own grids."""
    query = (
        select(Person, Household, Building.grid_id)
        .join(Membership, Membership.person_id == Person.id)
        .outerjoin(Household, Household.id == Person.household_id)
        .outerjoin(Building, Building.id == Household.building_id)
        .where(
            Membership.community_id == community_id,
            Membership.role == Role.RESIDENT,
            Person.deleted_at.is_(None),
        )
    )
    if grid_id is not None:
        query = query.where(Building.grid_id == grid_id)
    if mine:
        query = query.where(Building.grid_id.in_(sorted(await actor.grid_ids(session))))
    # A grid worker's plan is her own grids' elders, whatever she asks.
    query = query.where(await rules.in_view(session, actor, community_id, Person.id))
    return [(p, h, g) for p, h, g in (await session.execute(query)).all() if p.is_elder(today)]


async def _risks(
    session: AsyncSession, community_id: int, rows: list[Row], policy: Policy, now: dt.datetime, today: dt.date
) -> Callable[[Person, Household | None], tuple[str, ...]]:
    """What puts each elder at risk (visited more often): living alone, old age, a missed
    check-in or a missed booking lately."""
    living = await _living_in(session, {h.id for _, h, _ in rows if h is not None})
    recent = now - dt.timedelta(days=policy.recent_days)
    # Each by the community, not by a list of ids: a subdistrict's community can be thousands.
    alerted = set(
        (
            await session.scalars(
                select(MissedCheckIn.person_id).where(
                    MissedCheckIn.community_id == community_id, MissedCheckIn.started_at >= recent
                )
            )
        ).all()
    )
    no_shows = await services.no_shows_since(session, community_id, recent)

    def risks(person: Person, household: Household | None) -> tuple[str, ...]:
        age = person.age(today)
        found = {
            "alone": household is not None and living.get(household.id, 0) == 1,
            "old": age is not None and age >= policy.old_age,
            "alert": person.id in alerted,
            "no_show": person.id in no_shows,
        }
        return tuple(name for name, at_risk in found.items() if at_risk)

    return risks


def position(d: Due) -> tuple[int, int, int, int, int]:
    """Her place in the plan: the longest overdue first; never visited next; then the soonest
    due; at risk before not. Whole numbers, so a page's cursor can carry it."""
    return (-d.overdue_days, int(d.last is not None), d.due_on.toordinal(), int(not d.risks), d.person.id)


async def _living_in(session: AsyncSession, household_ids: set[int]) -> dict[int, int]:
    if not household_ids:
        return {}
    rows = await session.execute(
        select(Person.household_id, func.count())
        .where(Person.household_id.in_(household_ids), Person.deleted_at.is_(None))
        .group_by(Person.household_id)
    )
    return {int(h): int(n) for h, n in rows.all() if h is not None}


async def _latest_visits(
    session: AsyncSession, community_id: int
) -> tuple[dict[int, Visit], dict[int, Visit], dict[int, Visit]]:
    """Per elder of the community: the last visit that reached her, the last attempt, the last
    open follow-up. Grouped queries for the ids, then the rows themselves."""
    mine = Visit.community_id == community_id
    reached = select(func.max(Visit.id)).where(mine, Visit.how != "not_reached").group_by(Visit.person_id)
    tried = select(func.max(Visit.id)).where(mine).group_by(Visit.person_id)
    open_ones = (
        select(func.max(Visit.id))
        .where(mine, Visit.follow_up != "", Visit.follow_up_done_at.is_(None))
        .group_by(Visit.person_id)
    )
    wanted = set((await session.scalars(reached)).all())
    tries = set((await session.scalars(tried)).all())
    opens = set((await session.scalars(open_ones)).all())
    visits: dict[int, Visit] = {}
    ids = sorted(wanted | tries | opens)
    for at in range(0, len(ids), CHUNK):  # bound the statement's parameters
        chunk = ids[at : at + CHUNK]
        visits.update({v.id: v for v in (await session.scalars(select(Visit).where(Visit.id.in_(chunk)))).all()})
    return (
        {visits[i].person_id: visits[i] for i in wanted},
        {visits[i].person_id: visits[i] for i in tries},
        {visits[i].person_id: visits[i] for i in opens},
    )


@dataclass(frozen=True)
class Recorded:
    visit: Visit
    checked_in: bool  # she was seen: any alert about her stopped, today's check-in kept
    health_note_kept: bool | None  # None: no health note given


async def record(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int,
    kind: str,
    how: str,
    note: str = "",
    follow_up: str = "",
    health_note: str = "",
) -> Recorded:
    """Staff of the elder's community record a visit or a phone greeting."""
    elder = await session.get(Person, person_id)
    household = await session.get(Household, elder.household_id) if elder and elder.household_id else None
    if elder is None or household is None or not actor.is_staff_of(household.community_id):
        raise NotFound()
    if kind not in KINDS:
        raise InvalidInput("kind", field="kind")
    if how not in HOWS:
        raise InvalidInput("how", field="how")
    for name, text in (("note", note), ("followUp", follow_up), ("healthNote", health_note)):
        if len(text) > MAX_TEXT:
            raise InvalidInput(name, field=name)
    visit = Visit(
        person_id=elder.id,
        community_id=household.community_id,
        by_id=actor.id,
        kind=kind,
        how=how,
        at=utcnow(),
        note=note.strip(),
        follow_up=follow_up.strip(),
    )
    session.add(visit)
    checked_in = False
    if how != "not_reached":
        kept, resolved = await service.seen_well(session, person=elder, via="proxy", by=actor.person, note=note.strip())
        checked_in = bool(resolved) or kept is not None
    kept_note: bool | None = None
    if health_note.strip():
        kept_note = await health.add_note(session, elder.id, health_note.strip(), by=actor.person)
    await session.flush()
    return Recorded(visit, checked_in, kept_note)


async def follow_up_done(session: AsyncSession, actor: Actor, *, visit_id: int) -> Visit:
    visit = await session.get(Visit, visit_id, with_for_update=True)
    if visit is None or not actor.is_staff_of(visit.community_id) or not visit.follow_up:
        raise NotFound()
    if visit.follow_up_done_at is None:
        visit.follow_up_done_at = utcnow()
    return visit
