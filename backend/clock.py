"""One clock for the community's local time: times are UTC in the database and shown in the
community's zone (the `LINLI_DEFAULT_TIMEZONE` setting, Asia/Shanghai by default)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def today(tz: ZoneInfo) -> dt.date:
    """The local date now (a birthday, a month's allowance, a day's points)."""
    return dt.datetime.now(tz).date()


def clock_time(at: dt.datetime, tz: ZoneInfo) -> str:
    """A moment as a notice says it: the local "14:05"."""
    return f"{at.astimezone(tz):%H:%M}"
