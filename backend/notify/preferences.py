"""Which paths a person wants, in which order, and when they want quiet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import utcnow
from backend.errors import InvalidInput
from backend.notify.models import DEFAULT_PATHS, PATHS, NotificationSettings, Urgency

# The paths that reach a person wherever they are: a provider's call rings only for alarms and
# the TV only while it is on at home, so a choice without one of these could leave everyday
# messages nowhere.
EVERYDAY_PATHS = frozenset({"push", "sms"})


async def settings_of(session: AsyncSession, person_id: int) -> NotificationSettings:
    return (await settings_of_many(session, [person_id]))[person_id]


async def settings_of_many(session: AsyncSession, person_ids: Collection[int]) -> dict[int, NotificationSettings]:
    """Everyone's settings in one query; the defaults for whoever never chose."""
    rows = await session.scalars(select(NotificationSettings).where(NotificationSettings.person_id.in_(person_ids)))
    found = {row.person_id: row for row in rows}
    return {pid: found.get(pid) or NotificationSettings(person_id=pid, paths=list(DEFAULT_PATHS)) for pid in person_ids}


async def update(
    session: AsyncSession,
    person_id: int,
    *,
    by_id: int,
    paths: list[str] | None,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
) -> NotificationSettings:
    if paths is not None:
        if not paths or len(set(paths)) != len(paths) or any(p not in PATHS for p in paths):
            raise InvalidInput(f"paths: {'/'.join(PATHS)}", field="paths")
        if not set(paths) & EVERYDAY_PATHS:
            raise InvalidInput("paths: push or sms for everyday messages", field="paths")
    if (quiet_start is None) != (quiet_end is None) or (quiet_start is not None and quiet_start == quiet_end):
        raise InvalidInput("quietHours", field="quietHours")
    row = await session.get(NotificationSettings, person_id, with_for_update=True)
    if row is None:
        row = NotificationSettings(person_id=person_id, paths=list(DEFAULT_PATHS))
        session.add(row)
    if paths is not None:
        row.paths = list(paths)
    row.quiet_start, row.quiet_end = quiet_start, quiet_end
    row.updated_at, row.updated_by_id = utcnow(), by_id
    await session.flush()
    return row


def ladder(prefs: NotificationSettings, urgency: Urgency) -> list[str]:
    """The paths to try, in order. An alarm tries the person's choice first, then every other
    path too: nobody can opt out of being reached when someone needs help."""
    chosen = [p for p in prefs.paths if p in PATHS] or list(DEFAULT_PATHS)
    if urgency == Urgency.EMERGENCY:
        return chosen + [p for p in PATHS if p not in chosen]
    return chosen


def quiet_until(prefs: NotificationSettings, now: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    """When quiet hours are on now, the moment they end (UTC); otherwise None."""
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return None
    local = now.astimezone(tz)
    start, end, t = prefs.quiet_start, prefs.quiet_end, local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=tz).astimezone(dt.UTC)
