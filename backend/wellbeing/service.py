"""The daily check-in (平安报): an elder, family managing their settings, or staff turn on a
daily check-in with a window; any sign of the elder by then counts (I am well in the app, OK
on the TV, a call to the line, 1 on the check-in call, someone who saw them). A window that
passes without one climbs a ladder of its own (content/wellbeing/check_in.json): lower than
an alarm, never dropped, stopped the moment anyone checks in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.community import repository as community_repository
from backend.community.models import Community, Household, Person
from backend.db import is_postgres, utcnow
from backend.errors import InvalidInput, NotFound
from backend.family.models import Scope
from backend.notify import service as notify
from backend.parts import Parts
from backend.wellbeing import quiet_home
from backend.wellbeing.errors import NoCheckInPlan
from backend.wellbeing.models import CheckIn, CheckInPlan, MissedCheckIn

WINDOW = "wellbeing.window"  # job: the window of one day has passed
STEP = "wellbeing.step"  # job: the next step of a missed window's ladder
QUIET_HOMES = "wellbeing.quiet_homes"  # standing job: every home against its usual day
PRUNE = "wellbeing.prune"  # standing job: hours of use past the retention go
RESOLVED = "wellbeing.resolved"  # payload: {"miss_id", "by_id", "via"}; those told hear she is well
EARLIEST, LATEST = dt.time(5, 0), dt.time(20, 0)  # a window ends in the day, when someone can act
VIAS = ("app", "tv", "phone", "call", "proxy")
WINDOW_MISSED = "window"  # a missed check-in window; a quiet home is quiet:<kind>


@dataclass(frozen=True)
class Ladder:
    steps: tuple[tuple[str, int], ...]  # (step, seconds after the window)
    repeat_every_s: int
    default_by: dt.time


@cache
def ladder_for(content_dir: Path, community_code: str) -> Ladder:
    own = content_dir / "wellbeing" / f"{community_code}.json"
    data = json.loads((own if own.exists() else content_dir / "wellbeing" / "check_in.json").read_text("utf-8"))
    return Ladder(
        steps=tuple((str(s["step"]), int(s["after_s"])) for s in data["steps"]),
        repeat_every_s=int(data["repeat_every_s"]),
        default_by=dt.time.fromisoformat(data["default_by_time"]),
    )


def miss_ref(miss_id: int) -> str:
    """What a missed window's messages are about: a check-in stops them."""
    return f"checkin:{miss_id}"


def local_day(at: dt.datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).date().isoformat()


def window_end(day: dt.date, plan: CheckInPlan, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, plan.by_time, zone).astimezone(dt.UTC)


async def _community_of(session: AsyncSession, person: Person) -> Community:
    _, community = await rules.home_of(session, person)
    return community


# Plans


async def set_plan(
    session: AsyncSession,
    content_dir: Path,
    actor: Actor,
    *,
    person_id: int | None,
    by_time: dt.time | None,
    active: bool,
) -> CheckInPlan:
    """The elder, family managing their settings, or staff of their community."""
    elder = (await rules.acting_for(session, actor, person_id)).person
    community = await _community_of(session, elder)
    zone = ZoneInfo(community.timezone)
    plan = await session.get(CheckInPlan, elder.id, with_for_update=True)
    if plan is None:
        plan = CheckInPlan(person_id=elder.id, community_id=community.id, set_by_id=actor.id)
        session.add(plan)
    chosen = by_time or plan.by_time or ladder_for(content_dir, community.code).default_by
    if not EARLIEST <= chosen <= LATEST:
        raise InvalidInput("byTime", field="byTime")
    plan.by_time, plan.active, plan.set_by_id, plan.updated_at = chosen, active, actor.id, utcnow()
    plan.community_id = community.id
    await session.flush()
    if active:
        await schedule_window(session, plan, zone, utcnow())
    else:
        await jobs.cancel(session, window_key(elder.id))
    return plan


def window_key(person_id: int) -> str:
    return f"checkin:{person_id}:window"


async def schedule_window(session: AsyncSession, plan: CheckInPlan, zone: ZoneInfo, after: dt.datetime) -> None:
    """The next end of the window after `after`: today's if it is still ahead, else tomorrow's."""
    today = after.astimezone(zone).date()
    day = today if window_end(today, plan, zone) > after else today + dt.timedelta(days=1)
    await jobs.schedule(
        session,
        WINDOW,
        window_end(day, plan, zone),
        {"person_id": plan.person_id, "day": day.isoformat()},
        key=window_key(plan.person_id),
    )


# Checking in


async def check_in(
    session: AsyncSession, *, person: Person, via: str, by: Person | None = None, note: str = ""
) -> CheckIn | None:
    """A sign the elder is well, today in their community's zone; the first of the day is
    kept. Any open alert about them (a missed window, a quiet home, a band's reading) is
    resolved and its ladder stops. None: no plan, no check-in kept (a call to the line is not
    a check-in for someone who never asked for one)."""
    return (await seen_well(session, person=person, via=via, by=by, note=note))[0]


async def seen_well(
    session: AsyncSession, *, person: Person, via: str, by: Person | None = None, note: str = ""
) -> tuple[CheckIn | None, int]:
    """check_in, and how many open alerts it resolved (for those who must say so)."""
    if via not in VIAS or len(note) > 200:
        raise InvalidInput("via", field="via")
    now = utcnow()
    resolved = await resolve_open(session, person, via=via, by=by, at=now)
    plan = await session.get(CheckInPlan, person.id)
    if plan is None or not plan.active:
        return None, resolved
    community = await session.get(Community, plan.community_id)
    assert community is not None
    day = local_day(now, ZoneInfo(community.timezone))
    values = {
        "person_id": person.id,
        "local_day": day,
        "at": now,
        "via": via,
        "by_id": by.id if by is not None and by.id != person.id else None,
        "note": note.strip(),
    }
    insert = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert(CheckIn).values(values).on_conflict_do_nothing(index_elements=["person_id", "local_day"])
    )
    kept = await session.scalar(select(CheckIn).where(CheckIn.person_id == person.id, CheckIn.local_day == day))
    return kept, resolved


async def resolve_open(session: AsyncSession, person: Person, *, via: str, by: Person | None, at: dt.datetime) -> int:
    """Someone knows the elder is well: every open alert about them stops climbing, and
    everyone told hears it. How many there were."""
    misses = await open_misses_of(session, person.id)
    for miss in misses:
        miss.resolved_at, miss.resolved_by_id, miss.resolved_via = at, (by or person).id, via
        await notify.settle(session, miss_ref(miss.id))
        events.emit(session, RESOLVED, {"miss_id": miss.id, "by_id": (by or person).id, "via": via})
    return len(misses)


async def open_misses_of(session: AsyncSession, person_id: int) -> Sequence[MissedCheckIn]:
    rows = await session.execute(
        select(MissedCheckIn).where(MissedCheckIn.person_id == person_id, MissedCheckIn.resolved_at.is_(None))
    )
    return rows.scalars().all()


@dataclass(frozen=True)
class Checked:
    at: dt.datetime
    via: str


async def check_in_by(session: AsyncSession, actor: Actor, *, person_id: int | None, note: str = "") -> Checked:
    """我很好 from the app; or someone who saw the elder records it for them (proxy): staff of
    their community, family, or a neighbour of the same building. Without a plan it still
    resolves an open quiet-home or band alert about her."""
    elder, via, by = actor.person, "app", None
    if person_id is not None and person_id != actor.id:
        found = await session.get(Person, person_id)
        if found is None or not await _may_vouch(session, actor, found):
            raise NotFound()
        elder, via, by = found, "proxy", actor.person
    kept, resolved = await seen_well(session, person=elder, via=via, by=by, note=note)
    if kept is None and not resolved:
        raise NoCheckInPlan()
    return Checked(kept.at, kept.via) if kept else Checked(utcnow(), via)


async def _may_vouch(session: AsyncSession, actor: Actor, elder: Person) -> bool:
    if await rules.is_staff_for(session, actor, elder.id):
        return True
    if await rules.active_link(session, elder_id=elder.id, family_id=actor.id) is not None:
        return True
    mine = await session.get(Household, actor.person.household_id) if actor.person.household_id else None
    theirs = await session.get(Household, elder.household_id) if elder.household_id else None
    return mine is not None and theirs is not None and mine.building_id == theirs.building_id


# The ladder


async def window_passed(session: AsyncSession, *, person_id: int, day: str) -> MissedCheckIn | None:
    """The window of `day` has ended: tomorrow's is set, and without a check-in a missed
    window starts its ladder (returned). Run twice, it starts one."""
    plan = await session.get(CheckInPlan, person_id)
    if plan is None or not plan.active:
        return None
    community = await session.get(Community, plan.community_id)
    assert community is not None
    zone = ZoneInfo(community.timezone)
    await schedule_window(session, plan, zone, window_end(dt.date.fromisoformat(day), plan, zone))
    checked = await session.scalar(select(CheckIn.id).where(CheckIn.person_id == person_id, CheckIn.local_day == day))
    if checked is not None:
        return None
    existing = await session.scalar(
        select(MissedCheckIn).where(
            MissedCheckIn.person_id == person_id, MissedCheckIn.local_day == day, MissedCheckIn.kind == WINDOW_MISSED
        )
    )
    if existing is not None:
        return None
    miss = MissedCheckIn(person_id=person_id, community_id=community.id, local_day=day, started_at=utcnow())
    session.add(miss)
    await session.flush()
    return miss


async def next_step(session: AsyncSession, content_dir: Path, miss: MissedCheckIn) -> str:
    """Take the ladder's next step (after the last, its last again) and time the one after."""
    community = await session.get(Community, miss.community_id)
    assert community is not None
    ladder = ladder_for(content_dir, community.code)
    miss.step += 1
    name = ladder.steps[min(miss.step, len(ladder.steps)) - 1][0]
    if miss.step < len(ladder.steps):
        due = miss.started_at + dt.timedelta(seconds=ladder.steps[miss.step][1])
    else:
        due = utcnow() + dt.timedelta(seconds=ladder.repeat_every_s)
    await jobs.schedule(session, STEP, max(due, utcnow()), {"miss_id": miss.id}, key=f"checkin:miss:{miss.id}:step")
    return name


# Reading


async def due_today(session: AsyncSession, person_id: int) -> bool:
    """A check-in is on for them and none has come today: the TV asks for one."""
    plan = await session.get(CheckInPlan, person_id)
    if plan is None or not plan.active:
        return False
    community = await session.get(Community, plan.community_id)
    assert community is not None
    day = local_day(utcnow(), ZoneInfo(community.timezone))
    found = await session.scalar(select(CheckIn.id).where(CheckIn.person_id == person_id, CheckIn.local_day == day))
    return found is None


@dataclass(frozen=True)
class Today:
    planned: bool
    by_time: dt.time | None
    check_in: CheckIn | None
    missed: MissedCheckIn | None
    zone: ZoneInfo | None = None  # the community's, to say the time in


async def today_of(session: AsyncSession, actor: Actor, *, person_id: int | None) -> tuple[Person, Today]:
    """The daily line family with view_wellbeing see: today's check-in, or that it is missed
    and being followed up; not a stream of everything."""
    elder = (await rules.acting_for(session, actor, person_id, Scope.VIEW_WELLBEING)).person
    plan = await session.get(CheckInPlan, elder.id)
    if plan is None or not plan.active:
        return elder, Today(False, None, None, None)
    community = await session.get(Community, plan.community_id)
    assert community is not None
    day = local_day(utcnow(), ZoneInfo(community.timezone))
    found = await session.scalar(select(CheckIn).where(CheckIn.person_id == elder.id, CheckIn.local_day == day))
    missed = await session.scalar(
        select(MissedCheckIn)
        .where(MissedCheckIn.person_id == elder.id, MissedCheckIn.local_day == day)
        .order_by(MissedCheckIn.id)
        .limit(1)
    )
    return elder, Today(True, plan.by_time, found, missed, ZoneInfo(community.timezone))


async def open_misses(session: AsyncSession, actor: Actor, *, community_id: int) -> Sequence[MissedCheckIn]:
    """Staff: every missed window still open in the community, the oldest first (a grid
    worker: those of her own grids)."""
    if not actor.is_staff_of(community_id):
        raise NotFound()
    rows = await session.execute(
        select(MissedCheckIn)
        .where(
            MissedCheckIn.community_id == community_id,
            MissedCheckIn.resolved_at.is_(None),
            await rules.in_view(session, actor, community_id, MissedCheckIn.person_id),
        )
        .order_by(MissedCheckIn.started_at)
    )
    return rows.scalars().all()


async def open_alert(
    session: AsyncSession,
    person_id: int,
    community_id: int,
    day: str,
    kind: str,
    *,
    quiet_since: dt.datetime | None = None,
    sign_id: int | None = None,
) -> MissedCheckIn | None:
    """The ladder for a quiet home's kind or a band's sign, once a day (still quiet or out of
    range tomorrow, it starts again: it is never dropped); None when today's is open already.
    Two readings handled at once start one: the insert yields to the unique key, not a check
    before it."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    new_id = await session.scalar(
        insert(MissedCheckIn)
        .values(
            person_id=person_id,
            community_id=community_id,
            local_day=day,
            kind=kind,
            quiet_since=quiet_since,
            sign_id=sign_id,
            started_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["person_id", "local_day", "kind"])
        .returning(MissedCheckIn.id)
    )
    return await session.get(MissedCheckIn, new_id) if new_id is not None else None


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: her daily check-in stops, and nobody is chased about her."""
    now = utcnow()
    await session.execute(update(CheckInPlan).where(CheckInPlan.person_id == actor.id).values(active=False))
    await session.execute(
        update(MissedCheckIn)
        .where(MissedCheckIn.person_id == actor.id, MissedCheckIn.resolved_at.is_(None))
        .values(resolved_at=now, resolved_via="deleted")  # her account
    )


async def erase_home(session: AsyncSession, parts: Parts, person_id: int) -> None:
    """Her home's signals go with the last resident's account (Erase.DOMAIN)."""
    person = await session.get(Person, person_id)
    if person is None or person.household_id is None:
        return
    if not await community_repository.others_live_there(session, person):
        await quiet_home.release_home(session, person.household_id)
