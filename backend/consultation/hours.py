"""A desk's clock: the reply promise counts minutes of opening hours only, in the
community's zone. Asked at 22:00, a 10-minute promise is due at 08:40 when the desk opens at
08:30; asked on Friday at 16:00, a lawyer's one working day (his 8 hours) runs to Monday."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONGEST_CLOSED_DAYS = 14  # a desk open on no weekday still ends somewhere


def open_days(weekdays: str) -> set[int]:
    return {int(ch) for ch in weekdays if ch in "0123456"}


def is_open(at: dt.datetime, *, opens: dt.time, closes: dt.time, weekdays: str, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    return local.weekday() in open_days(weekdays) and opens <= local.time() < closes


def after_open_minutes(
    start: dt.datetime, minutes: float, *, opens: dt.time, closes: dt.time, weekdays: str, zone: ZoneInfo
) -> dt.datetime:
    """The moment `minutes` of opening hours have passed since `start` (UTC in, UTC out)."""
    days = open_days(weekdays)
    left = dt.timedelta(minutes=minutes)
    local = start.astimezone(zone)
    day = local.date()
    for _ in range(LONGEST_CLOSED_DAYS * 8):
        if day.weekday() in days:
            window_start = dt.datetime.combine(day, opens, zone)
            window_end = dt.datetime.combine(day, closes, zone)
            begin = max(window_start, local)
            if begin < window_end:
                if begin + left <= window_end:
                    return (begin + left).astimezone(dt.UTC)
                left -= window_end - begin
        day += dt.timedelta(days=1)
    return (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)
