"""Quiet-home signals (未用电, 未出门): smart meters, door sensors and the TV portal's use report
a home's activity; each home learns its own usual day (per hour of day, over the last two
weeks) and a kind that has gone quiet when it is usually in use starts the same ladder as a
missed check-in, with the reason in plain words. Only whether each hour saw any use is kept,
and only for the retention.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import Household, Person
from backend.db import is_postgres, utcnow
from backend.errors import InvalidInput, NotFound
from backend.wellbeing.models import HomeAway, HomeHour, HomeQuietRule, HomeSensor

KINDS = ("electricity", "water", "door", "tv")
MIN_QUIET_HOURS, MAX_QUIET_HOURS = 2, 168
SENSOR_KINDS = ("electricity", "water", "door")  # tv: the portal reports its own use
MOST_AHEAD = dt.timedelta(minutes=5)  # a device's clock a little fast
ROWS_AT_ONCE = 500


@dataclass(frozen=True)
class Rule:
    quiet_hours: int
    usual_share: float
    min_usual_hours: int


@dataclass(frozen=True)
class Rules:
    kinds: dict[str, Rule]
    baseline_days: int
    min_days: int


@cache
def rules_for(content_dir: Path) -> Rules:
    data = json.loads((content_dir / "wellbeing" / "quiet_home.json").read_text("utf-8"))
    return Rules(
        kinds={
            k: Rule(int(r["quiet_hours"]), float(r["usual_share"]), int(r["min_usual_hours"]))
            for k, r in data["kinds"].items()
        },
        baseline_days=int(data["baseline_days"]),
        min_days=int(data["min_days"]),
    )


def on_the_hour(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


# Devices and away


async def bind_sensor(
    session: AsyncSession, actor: Actor, *, household_id: int, source: str, device: str, kind: str
) -> HomeSensor:
    """Staff of the home's community bind a device to it (a device moved is bound anew)."""
    household = await session.get(Household, household_id)
    if household is None or not actor.is_staff_of(household.community_id):
        raise NotFound()
    source, device = source.strip(), device.strip()
    if kind not in SENSOR_KINDS:
        raise InvalidInput("kind", field="kind")
    if not source or len(source) > 60 or not device or len(device) > 100:
        raise InvalidInput("device", field="device")
    sensor = await session.scalar(select(HomeSensor).where(HomeSensor.source == source, HomeSensor.device == device))
    if sensor is None:
        sensor = HomeSensor(source=source, device=device, household_id=household.id, kind=kind, bound_by_id=actor.id)
        session.add(sensor)
    sensor.household_id, sensor.kind, sensor.bound_by_id, sensor.bound_at = household.id, kind, actor.id, utcnow()
    await session.flush()
    return sensor


async def mark_away(
    session: AsyncSession, actor: Actor, *, household_id: int, until: dt.date | None, reason: str
) -> HomeAway | None:
    """Away until a day (hospital, visiting family): someone living there, family managing
    their settings, or staff. `until` None: back home."""
    if not await rules.manages_home(session, actor, household_id):
        raise NotFound()
    row = await session.get(HomeAway, household_id)
    if until is None:
        if row is not None:
            await session.delete(row)
        return None
    if until < utcnow().date() or until > utcnow().date() + dt.timedelta(days=366) or len(reason) > 100:
        raise InvalidInput("until", field="until")
    if row is None:
        row = HomeAway(household_id=household_id, until=until, set_by_id=actor.id)
        session.add(row)
    row.until, row.reason, row.set_by_id = until, reason.strip(), actor.id
    await session.flush()
    return row


async def set_quiet_rule(
    session: AsyncSession, actor: Actor, *, household_id: int, kind: str, quiet_hours: int | None
) -> HomeQuietRule | None:
    """Staff of the home's community give it its own quiet time for a kind (None: back to the
    community's), between 2 hours and a week."""
    household = await session.get(Household, household_id)
    if household is None or not actor.is_staff_of(household.community_id):
        raise NotFound()
    if kind not in KINDS:
        raise InvalidInput("kind", field="kind")
    row = await session.get(HomeQuietRule, (household_id, kind))
    if quiet_hours is None:
        if row is not None:
            await session.delete(row)
        return None
    if not MIN_QUIET_HOURS <= quiet_hours <= MAX_QUIET_HOURS:
        raise InvalidInput("quietHours", field="quietHours")
    if row is None:
        row = HomeQuietRule(household_id=household_id, kind=kind, quiet_hours=quiet_hours, set_by_id=actor.id)
        session.add(row)
    row.quiet_hours, row.set_by_id, row.updated_at = quiet_hours, actor.id, utcnow()
    await session.flush()
    return row


# Readings


@dataclass(frozen=True)
class Reading:
    device: str
    at: dt.datetime
    value: float


@dataclass(frozen=True)
class Taken:
    accepted: int
    unknown: int  # not a device bound to a home, or outside the time kept


async def take(
    session: AsyncSession, *, source: str, readings: Sequence[Reading], zone: ZoneInfo, retention_days: int
) -> Taken:
    """A batch from one source: each reading marks its hour as seen, and as used when its
    value is above zero (energy or water used in the interval, the door opened)."""
    devices = {r.device for r in readings}
    sensors = {
        s.device: s
        for s in (
            await session.scalars(select(HomeSensor).where(HomeSensor.source == source, HomeSensor.device.in_(devices)))
        ).all()
    }
    now = utcnow()
    oldest = now - dt.timedelta(days=retention_days)
    hours: dict[tuple[int, str, dt.datetime], list[int]] = {}
    unknown = 0
    for r in readings:
        sensor = sensors.get(r.device)
        if sensor is None or not oldest <= r.at <= now + MOST_AHEAD:
            unknown += 1
            continue
        seen = hours.setdefault((sensor.household_id, sensor.kind, on_the_hour(r.at)), [0, 0])
        seen[0] += 1
        seen[1] = max(seen[1], 1 if r.value > 0 else 0)
    await _mark(session, [(h, k, at, n, bool(used)) for (h, k, at), (n, used) in hours.items()], zone)
    return Taken(len(readings) - unknown, unknown)


# Doors whose use teaches a home's usual day (a call to the line is too rare to learn from).
USE_DOORS = frozenset({"tv"})


async def record_use(session: AsyncSession, household_id: int, kind: str, zone: ZoneInfo) -> None:
    """The home used something of ours just now (the TV portal)."""
    await _mark(session, [(household_id, kind, on_the_hour(utcnow()), 1, True)], zone)


async def _mark(session: AsyncSession, rows: Iterable[tuple[int, str, dt.datetime, int, bool]], zone: ZoneInfo) -> None:
    values = [
        {"household_id": h, "kind": k, "hour": at, "local_hour": at.astimezone(zone).hour, "readings": n, "used": used}
        for h, k, at, n, used in rows
    ]
    insert = pg_insert if is_postgres(session) else sqlite_insert
    for start in range(0, len(values), ROWS_AT_ONCE):
        statement = insert(HomeHour).values(values[start : start + ROWS_AT_ONCE])
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["household_id", "kind", "hour"],
                set_={
                    "readings": HomeHour.readings + statement.excluded.readings,
                    "used": or_(HomeHour.used, statement.excluded.used),
                },
            )
        )


async def prune(session: AsyncSession, retention_days: int) -> int:
    """Hours older than the retention are deleted: the baseline needs no more."""
    result = await session.execute(delete(HomeHour).where(HomeHour.hour < utcnow() - dt.timedelta(days=retention_days)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Quiet homes


@dataclass(frozen=True)
class Quiet:
    household_id: int
    kind: str
    since: dt.datetime  # the end of the last hour of use


async def quiet_homes(session: AsyncSession, content_dir: Path, zone: ZoneInfo, now: dt.datetime) -> list[Quiet]:
    """Every home and kind quiet for longer than its rule while usually in use then. One
    grouped query for all homes; the hour-by-hour baseline only for the few long quiet."""
    conf = rules_for(content_dir)
    window_start = now - dt.timedelta(days=conf.baseline_days)
    # One grouped query for every home: when each kind was first seen, and last used.
    rows = await session.execute(
        select(
            HomeHour.household_id,
            HomeHour.kind,
            func.min(HomeHour.hour),
            func.max(case((HomeHour.used.is_(True), HomeHour.hour))),
        )
        .where(HomeHour.hour >= window_start)
        .group_by(HomeHour.household_id, HomeHour.kind)
    )
    last_used: dict[tuple[int, str], dt.datetime] = {}
    first_seen: dict[tuple[int, str], dt.datetime] = {}
    for household_id, kind, earliest, latest_used in rows.all():
        first_seen[(household_id, kind)] = earliest
        if latest_used is not None:
            last_used[(household_id, kind)] = latest_used
    away = set(
        (
            await session.scalars(select(HomeAway.household_id).where(HomeAway.until >= now.astimezone(zone).date()))
        ).all()
    )
    own_rules = {(r.household_id, r.kind): r.quiet_hours for r in (await session.scalars(select(HomeQuietRule))).all()}
    candidates = []
    for key, latest in last_used.items():
        rule = conf.kinds.get(key[1])
        since = latest + dt.timedelta(hours=1)
        if rule is None or key[0] in away:
            continue
        if now - since < dt.timedelta(hours=own_rules.get(key, rule.quiet_hours)):
            continue
        days = (now - first_seen[key]).total_seconds() / 86400
        if days >= conf.min_days:
            candidates.append((key, since, min(days, conf.baseline_days)))
    if not candidates:
        return []
    shares = await _shares(session, {k[0] for k, _, _ in candidates}, window_start)
    found = []
    for (household_id, kind), since, days in candidates:
        rule = conf.kinds[kind]
        usual = shares.get((household_id, kind), {})
        quiet_hours = {
            (since + dt.timedelta(hours=i)).astimezone(zone).hour
            for i in range(int((now - since).total_seconds() // 3600))
        }
        usually_used = [h for h in quiet_hours if usual.get(h, 0) / days >= rule.usual_share]
        if len(usually_used) >= rule.min_usual_hours:
            found.append(Quiet(household_id, kind, since))
    return found


async def _shares(
    session: AsyncSession, household_ids: set[int], window_start: dt.datetime
) -> dict[tuple[int, str], dict[int, int]]:
    """For each home and kind: on how many days each hour of the day saw use."""
    rows = await session.execute(
        select(
            HomeHour.household_id,
            HomeHour.kind,
            HomeHour.local_hour,
            func.sum(case((HomeHour.used.is_(True), 1), else_=0)),
        )
        .where(HomeHour.household_id.in_(household_ids), HomeHour.hour >= window_start)
        .group_by(HomeHour.household_id, HomeHour.kind, HomeHour.local_hour)
    )
    found: dict[tuple[int, str], dict[int, int]] = {}
    for household_id, kind, hour, used in rows.all():
        found.setdefault((household_id, kind), {})[int(hour)] = int(used or 0)
    return found


async def elder_of(session: AsyncSession, household_id: int) -> Person | None:
    """Whom a quiet home's ladder is about: the eldest who lives there."""
    people = (
        await session.scalars(select(Person).where(Person.household_id == household_id, Person.deleted_at.is_(None)))
    ).all()
    dated = [p for p in people if p.birth_date is not None]
    return min(dated, key=lambda p: p.birth_date or dt.date.max) if dated else (people[0] if people else None)


HOME_TABLES = (HomeSensor, HomeHour, HomeAway, HomeQuietRule)


async def release_home(session: AsyncSession, household_id: int) -> None:
    """Nobody lives there any more (the last resident's account erased): the hours describe
    her days, the away mark her stays, and the sensors would go on reporting on whoever
    moves in. Staff bind them again for the next resident, as they do the TV box."""
    for table in HOME_TABLES:
        await session.execute(delete(table).where(table.household_id == household_id))
