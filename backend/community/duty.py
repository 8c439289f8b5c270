"""The duty rota: which staff are on duty when (day and night shifts, a weekly pattern, and
exceptions for single dates). An alarm's staff tiers go to whoever is on duty first, so the
night worker's phone rings at 3 a.m. and the rest of the staff sleep unless nobody answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.clock import zone
from backend.community.models import STAFF_ROLES, Community, DutyAssignment, DutyShift, Membership, Role
from backend.errors import InvalidInput, NotFound

ROTA_EDITORS = frozenset({Role.ADMIN, Role.SERVICE_CENTRE})
MAX_SHIFTS = 4
MAX_SHIFT_NAME = 20
DAYS = range(7)


@dataclass(frozen=True)
class Shift:
    """A shift as staff see it: its hours, who works it on each weekday, and the exceptions
    from a given date on."""

    name: str
    starts: dt.time
    ends: dt.time
    weekly: dict[int, list[int]]  # weekday (0 = Monday) → person ids
    exceptions: list[tuple[dt.date, int, bool]]  # (date, person id, on duty)


def _covers(shift: DutyShift, local: dt.datetime) -> dt.date | None:
    """The date the shift that covers this local moment started on, or None if it does not."""
    t = local.time()
    if shift.starts < shift.ends:
        return local.date() if shift.starts <= t < shift.ends else None
    if t >= shift.starts:
        return local.date()
    if t < shift.ends:
        return local.date() - dt.timedelta(days=1)
    return None


async def on_duty(session: AsyncSession, community_ids: Collection[int], at: dt.datetime) -> dict[int, set[int]]:
    """Who is on duty at `at` in each community (by its own time zone); an empty set where
    nobody is, or the community keeps no rota."""
    found: dict[int, set[int]] = {cid: set() for cid in community_ids}
    if not community_ids:
        return found
    rows = await session.execute(
        select(DutyShift, Community.timezone)
        .join(Community, Community.id == DutyShift.community_id)
        .where(DutyShift.community_id.in_(list(community_ids)))
    )
    current: dict[int, tuple[int, dt.date]] = {}  # shift id → (community id, date it started)
    for shift, tz in rows.all():
        started = _covers(shift, at.astimezone(zone(tz)))
        if started is not None:
            current[shift.id] = (shift.community_id, started)
    if not current:
        return found
    assignments = await session.scalars(select(DutyAssignment).where(DutyAssignment.shift_id.in_(list(current))))
    off: set[tuple[int, int]] = set()
    on: list[tuple[int, int]] = []
    for a in assignments:
        community_id, started = current[a.shift_id]
        if a.on_date == started and a.off:
            off.add((a.shift_id, a.person_id))
        elif a.on_date == started or a.weekday == started.weekday():
            on.append((a.shift_id, a.person_id))
    for shift_id, person_id in on:
        if (shift_id, person_id) not in off:
            found[current[shift_id][0]].add(person_id)
    return found


def _require_editor(actor: Actor, community_id: int) -> None:
    if not actor.roles_in(community_id) & ROTA_EDITORS:
        raise NotFound()


async def _check_staff(session: AsyncSession, community_id: int, person_ids: Collection[int]) -> None:
    """Only the community's own staff can be on its rota."""
    staff = set(
        (
            await session.scalars(
                select(Membership.person_id).where(
                    Membership.community_id == community_id,
                    Membership.role.in_(list(STAFF_ROLES)),
                    Membership.person_id.in_(list(person_ids)),
                )
            )
        ).all()
    )
    if set(person_ids) - staff:
        raise InvalidInput("personIds", field="personIds")


async def set_shift(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    name: str,
    starts: dt.time,
    ends: dt.time,
    weekly: Sequence[tuple[int, Sequence[int]]],
) -> DutyShift:
    """Create or replace a shift and its weekly pattern; its exceptions stay."""
    _require_editor(actor, community_id)
    name = name.strip()
    if not 1 <= len(name) <= MAX_SHIFT_NAME:
        raise InvalidInput("name", field="name")
    if starts == ends:
        raise InvalidInput("hours", field="ends")
    if any(day not in DAYS for day, _ in weekly) or len({day for day, _ in weekly}) != len(weekly):
        raise InvalidInput("weekday", field="weekday")
    await _check_staff(session, community_id, {p for _, people in weekly for p in people})
    shift = await session.scalar(
        select(DutyShift).where(DutyShift.community_id == community_id, DutyShift.name == name).with_for_update()
    )
    if shift is None:
        count = len((await session.scalars(select(DutyShift.id).where(DutyShift.community_id == community_id))).all())
        if count >= MAX_SHIFTS:
            raise InvalidInput("shifts", field="name")
        shift = DutyShift(community_id=community_id, name=name, starts=starts, ends=ends)
        session.add(shift)
        await session.flush()
    shift.starts, shift.ends = starts, ends
    await session.execute(
        delete(DutyAssignment).where(DutyAssignment.shift_id == shift.id, DutyAssignment.weekday.is_not(None))
    )
    session.add_all(
        DutyAssignment(shift_id=shift.id, person_id=p, weekday=day) for day, people in weekly for p in set(people)
    )
    return shift


async def set_exception(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    shift_name: str,
    on_date: dt.date,
    person_id: int,
    on: bool,
) -> None:
    """One date differs from the weekly pattern: `person_id` works that shift (on) or does
    not (off). Setting it again replaces it."""
    _require_editor(actor, community_id)
    shift = await session.scalar(
        select(DutyShift).where(DutyShift.community_id == community_id, DutyShift.name == shift_name.strip())
    )
    if shift is None:
        raise InvalidInput("shift", field="shift")
    await _check_staff(session, community_id, [person_id])
    await session.execute(
        delete(DutyAssignment).where(
            DutyAssignment.shift_id == shift.id,
            DutyAssignment.on_date == on_date,
            DutyAssignment.person_id == person_id,
        )
    )
    session.add(DutyAssignment(shift_id=shift.id, person_id=person_id, on_date=on_date, off=not on))


async def rota(session: AsyncSession, community_id: int, since: dt.date) -> list[Shift]:
    """The community's shifts, each with its weekly pattern and its exceptions from `since`."""
    shifts = list(
        (
            await session.scalars(
                select(DutyShift).where(DutyShift.community_id == community_id).order_by(DutyShift.starts)
            )
        ).all()
    )
    if not shifts:
        return []
    rows = (
        await session.scalars(
            select(DutyAssignment)
            .where(DutyAssignment.shift_id.in_([s.id for s in shifts]))
            .order_by(DutyAssignment.on_date, DutyAssignment.id)
        )
    ).all()
    found = []
    for s in shifts:
        weekly: dict[int, list[int]] = {}
        exceptions: list[tuple[dt.date, int, bool]] = []
        for a in rows:
            if a.shift_id != s.id:
                continue
            if a.weekday is not None:
                weekly.setdefault(a.weekday, []).append(a.person_id)
            elif a.on_date is not None and a.on_date >= since:
                exceptions.append((a.on_date, a.person_id, not a.off))
        found.append(Shift(s.name, s.starts, s.ends, dict(sorted(weekly.items())), exceptions))
    return found
