"""The missed window's ladder: the elder reminded, called, then family, then the grid worker
with a visit to make (told again until someone records she is well); everyone told hears
when she has checked in. Lower than an alarm: everyday urgency, never the alarm's sound."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.community import repository as community_repository
from backend.community import service as community_service
from backend.community.models import Building, Community, GridAssignment, Household, Person
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.events import Event, consumer
from backend.health import band
from backend.jobs import JobRun
from backend.notify import service as notify
from backend.notify.models import Notification, Urgency
from backend.parts import Parts
from backend.wellbeing import quiet_home, service
from backend.wellbeing.models import MissedCheckIn


async def _tell(
    session: AsyncSession,
    parts: Parts,
    people_ids: Iterable[int],
    elder: Person,
    miss: MissedCheckIn,
    key: str,
    *,
    kind: str = "check_in",
    data: dict[str, str] | None = None,
    via: str = "",
    **words: str,
) -> None:
    people = await community_repository.people_by_ids(session, sorted(set(people_ids)))
    household = await session.get(Household, elder.household_id) if elder.household_id else None
    catalog = parts.catalog
    family, _, signal = miss.kind.partition(":")  # window; quiet:<kind>; vitals:<sign>
    if signal and key != "resolved":
        key = f"{family}_{key}"  # the same ladder, with the reason in words (she is well: the same words)
    sign = await band.sign_by_id(session, miss.sign_id) if miss.sign_id else None

    def reason(locale: str) -> str:
        if family == "vitals":
            if sign is None:  # the reading was erased with the consent
                return catalog.text(locale, "wellbeing.vitals.gone")
            return catalog.text(
                locale, f"wellbeing.vitals.{sign.kind}_{sign.side}", value=str(sign.value), limit=str(sign.limit)
            )
        if not signal or miss.quiet_since is None:
            return ""
        return catalog.text(locale, f"wellbeing.quiet.{signal}", since=_since(catalog, locale, miss, parts))

    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind=kind,
                title=catalog.text(p.locale, "wellbeing.title"),
                body=catalog.text(
                    p.locale,
                    f"wellbeing.{key}",
                    name=elder.name,
                    address=household.address if household else "",
                    how=catalog.text(p.locale, f"wellbeing.via.{via}", by_name=words.get("by_name", "")) if via else "",
                    reason=reason(p.locale),
                    **words,
                ),
                data={"kind": kind, "personId": str(elder.id), **(data or {})},
                # Family and workers are woken for it; it never rings like an alarm.
                urgency=Urgency.NORMAL if p.id == elder.id else Urgency.PROMPT,
                ref=service.miss_ref(miss.id),
            )
            for p in people
        ],
    )


def _since(catalog: Catalog, locale: str, miss: MissedCheckIn, parts: Parts) -> str:
    """When the home went quiet, as one says it: 今天08:00, 昨天18:00, 12月3日18:00."""
    assert miss.quiet_since is not None
    zone = parts.settings.zone
    at = miss.quiet_since.astimezone(zone)
    today = utcnow().astimezone(zone).date()
    time = f"{at:%H:%M}"
    if at.date() == today:
        return catalog.text(locale, "wellbeing.since.today", time=time)
    if at.date() == today - dt.timedelta(days=1):
        return catalog.text(locale, "wellbeing.since.yesterday", time=time)
    return catalog.text(locale, "wellbeing.since.day", month=at.month, day=at.day, time=time)


async def _grid_workers(session: AsyncSession, household_id: int | None) -> list[int]:
    if household_id is None:
        return []
    rows = await session.execute(
        select(GridAssignment.person_id)
        .join(Building, Building.grid_id == GridAssignment.grid_id)
        .join(Household, Household.building_id == Building.id)
        .where(Household.id == household_id)
    )
    return list(rows.scalars())


async def _climb(session: AsyncSession, parts: Parts, miss: MissedCheckIn) -> None:
    elder = await session.get(Person, miss.person_id)
    if elder is None or miss.resolved_at is not None:
        return
    step = await service.next_step(session, parts.settings.content_dir, miss)
    plan_by = await session.get(service.CheckInPlan, elder.id)
    by = f"{plan_by.by_time:%H:%M}" if plan_by else ""
    if step == "remind":
        await _tell(session, parts, [elder.id], elder, miss, "remind", by=by)
    elif step == "call":
        # The voice path alone: 1 on the call is the check-in (see _answered below).
        await _tell(session, parts, [elder.id], elder, miss, "call", kind="check_in_call", data={"path": "voice"})
    elif step == "family":
        family = await rules.family_receiving_alerts(session, elder.id)
        await _tell(session, parts, family, elder, miss, "family", by=by)
    else:
        workers = await _grid_workers(session, elder.household_id)
        await _tell(session, parts, workers, elder, miss, "visit", by=by)


@jobs.job_handler(service.WINDOW)
async def window_passed(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    miss = await service.window_passed(session, person_id=int(run.payload["person_id"]), day=str(run.payload["day"]))
    if miss is not None:
        await _climb(session, parts, miss)


@jobs.job_handler(service.STEP)
async def next_step(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    miss = await session.get(MissedCheckIn, int(run.payload["miss_id"]))
    if miss is not None:
        await _climb(session, parts, miss)


@consumer(community_service.SIGN_OF_LIFE, name="wellbeing.sign_of_life")
async def sign_of_life(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Someone at home used a door: the elder's check-in for the day, if one is on for her,
    and (for the doors a home's usual day is learnt from) an hour of its use."""
    person = await session.get(Person, int(event.payload["person_id"]))
    door, household_id = str(event.payload["door"]), event.payload.get("household_id")
    if person is None or person.deleted_at is not None:
        return
    await service.check_in(session, person=person, via=door)
    if household_id is not None and door in quiet_home.USE_DOORS:
        await quiet_home.record_use(session, int(household_id), door, parts.settings.zone)


@consumer(band.OUT_OF_RANGE, name="wellbeing.vital_out_of_range")
async def vital_out_of_range(session: AsyncSession, event: Event, parts: Parts) -> None:
    """A band's reading outside the elder's limits, where the community's policy makes it a
    wellbeing alert: the check-in ladder, once a day per sign, with the reading in words."""
    sign = await band.sign_by_id(session, int(event.payload["sign_id"]))
    elder = await session.get(Person, int(event.payload["person_id"]))
    household = await session.get(Household, elder.household_id) if elder and elder.household_id else None
    community = await session.get(Community, household.community_id) if household else None
    if sign is None or elder is None or community is None:
        return
    day = service.local_day(sign.at, ZoneInfo(community.timezone))
    miss = await service.open_alert(session, elder.id, community.id, day, f"vitals:{sign.kind}", sign_id=sign.id)
    if miss is not None:
        await _climb(session, parts, miss)


@consumer(service.RESOLVED, name="wellbeing.tell_resolved")
async def tell_resolved(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Everyone told of the missed window (but the elder and whoever checked in) hears she is well."""
    miss = await session.get(MissedCheckIn, int(event.payload["miss_id"]))
    elder = await session.get(Person, miss.person_id) if miss else None
    by = await session.get(Person, int(event.payload["by_id"]))
    if miss is None or elder is None:
        return
    ref = service.miss_ref(miss.id)
    told = (await notify.told_about(session, [ref]))[ref] - {elder.id, by.id if by else 0}
    await _tell(
        session, parts, told, elder, miss, "resolved", via=str(event.payload["via"]), by_name=by.name if by else ""
    )


async def _answered(session: AsyncSession, n: Notification, path: str) -> None:
    """The elder took a message about her missed window on the phone (1 on the call) or on
    her TV (OK): that is her check-in."""
    if path not in ("voice", "tv"):
        return
    elder = await session.get(Person, n.person_id)
    miss = await session.get(MissedCheckIn, int((n.ref or "").partition(":")[2] or 0))
    if elder is None or miss is None or miss.person_id != elder.id:
        return
    await service.check_in(session, person=elder, via="call" if path == "voice" else "tv")


notify.register_arrival_hook("checkin", _answered)


jobs.standing(service.QUIET_HOMES)
jobs.standing(service.PRUNE)


@jobs.job_handler(service.QUIET_HOMES)
async def check_quiet_homes(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """Every home against its usual day; a kind gone quiet starts the ladder (once a day)."""
    settings = parts.settings
    now = utcnow()
    for quiet in await quiet_home.quiet_homes(session, settings.content_dir, settings.zone, now):
        elder = await quiet_home.elder_of(session, quiet.household_id)
        household = await session.get(Household, quiet.household_id)
        community = await session.get(Community, household.community_id) if household else None
        if elder is None or community is None:
            continue
        day = service.local_day(now, ZoneInfo(community.timezone))
        miss = await service.open_alert(
            session, elder.id, community.id, day, f"quiet:{quiet.kind}", quiet_since=quiet.since
        )
        if miss is not None:
            await _climb(session, parts, miss)
    await jobs.schedule(
        session,
        service.QUIET_HOMES,
        now + dt.timedelta(seconds=settings.quiet_home_every_s),
        key=jobs.standing_key(service.QUIET_HOMES),
    )


@jobs.job_handler(service.PRUNE)
async def prune(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """Hours of use and a band's readings out of range past the retention go, every day."""
    await quiet_home.prune(session, parts.settings.home_readings_retention_days)
    await band.prune(session, utcnow() - dt.timedelta(days=parts.settings.home_readings_retention_days))
    await jobs.schedule(session, service.PRUNE, utcnow() + dt.timedelta(days=1), key=jobs.standing_key(service.PRUNE))
