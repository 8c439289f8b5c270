"""The wellbeing room's personal data (backend.personal): check-ins, alerts, visits, home signals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from backend.community.models import Person
from backend.personal import Declared, Erase, Held
from backend.wellbeing.models import (
    CheckIn,
    CheckInPlan,
    HomeAway,
    HomeHour,
    HomeQuietRule,
    HomeSensor,
    MissedCheckIn,
    Visit,
)


def _her_home(column: Any) -> Any:
    def rows(pid: int) -> ColumnElement[bool]:
        return column.in_(select(Person.household_id).where(Person.id == pid))

    return rows


_HOME = "her home's signals go with the last resident's account (wellbeing.quiet_home.release_home)"

DATA: tuple[Declared, ...] = (
    Held(
        CheckInPlan,
        "check_in_plan",
        why="her daily check-in: on or off, by when",
        about=("person_id",),
        acting=("set_by_id",),
    ),
    Held(
        CheckIn,
        "check_ins",
        why="each day she said she was well, and how (or who saw her)",
        about=("person_id",),
        by=("by_id",),
        words=("note",),
        erase_by=Erase.BLANK,
        blank_by={"note": ""},
        kept="a check-in she gave for a neighbour stays theirs, without her note",
    ),
    Held(
        MissedCheckIn,
        "wellbeing_alerts",
        why="missed check-ins, quiet homes and band signs about her, and how they ended",
        about=("person_id",),
        acting=("resolved_by_id",),
    ),
    Held(
        Visit,
        "visits",
        why="grid workers' visits and calls to her, their notes and follow-ups",
        about=("person_id",),
        acting=("by_id",),
        words=("note", "follow_up"),
    ),
    Held(
        HomeSensor,
        "home_sensors",
        why="the meters and sensors of her home",
        rows=_her_home(HomeSensor.household_id),
        acting=("bound_by_id",),
        words=("device",),
        erase=Erase.DOMAIN,
        kept=_HOME,
    ),
    Held(
        HomeHour,
        "home_hours_of_use",
        why="whether her home used power, water or the door each hour",
        rows=_her_home(HomeHour.household_id),
        erase=Erase.DOMAIN,
        kept=_HOME,
    ),
    Held(
        HomeAway,
        "home_away",
        why="when her home is marked away (a hospital stay), so nobody is alarmed",
        rows=_her_home(HomeAway.household_id),
        acting=("set_by_id",),
        words=("reason",),
        erase=Erase.DOMAIN,
        kept=_HOME,
    ),
    Held(
        HomeQuietRule,
        "home_quiet_rules",
        why="how long her home may be quiet before someone asks",
        rows=_her_home(HomeQuietRule.household_id),
        acting=("set_by_id",),
        erase=Erase.DOMAIN,
        kept=_HOME,
    ),
)
