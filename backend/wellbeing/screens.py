"""What the wellbeing room shows, as plain data in the person's words: the daily line family
see, and the elders staff are to look in on. Every door maps these; none composes them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.community import repository as community_repository
from backend.content.catalog import Catalog
from backend.wellbeing import service


@dataclass(frozen=True)
class Today:
    planned: bool
    by_time: str | None  # "10:00"
    checked_in_at: dt.datetime | None
    via: str | None
    missed: bool  # the window passed without a check-in and is being followed up
    line: str  # how today stands, in one line


async def today(
    session: AsyncSession, actor: Actor, person_id: int | None, catalog: Catalog, locale: str, zone: ZoneInfo
) -> Today:
    """Today's check-in of the asker, or of an elder whose wellbeing they may see."""
    _, now = await service.today_of(session, actor, person_id=person_id)
    by = f"{now.by_time:%H:%M}" if now.by_time else ""
    if not now.planned:
        line = catalog.text(locale, "wellbeing.today.off")
    elif now.check_in is not None:
        by_name = ""
        if now.check_in.by_id:  # someone vouched for her: their name
            vouched = await community_repository.people_by_ids(session, [now.check_in.by_id])
            by_name = vouched[0].name if vouched else ""
        how = catalog.text(locale, f"wellbeing.via.{now.check_in.via}", by_name=by_name)
        at = f"{now.check_in.at.astimezone(now.zone or zone):%H:%M}"
        line = catalog.text(locale, "wellbeing.today.done", time=at, how=how)
    elif now.missed is not None:
        line = catalog.text(locale, "wellbeing.today.missed", by=by)
    else:
        line = catalog.text(locale, "wellbeing.today.waiting", by=by)
    return Today(
        planned=now.planned,
        by_time=by or None,
        checked_in_at=now.check_in.at if now.check_in else None,
        via=now.check_in.via if now.check_in else None,
        missed=now.missed is not None and now.check_in is None,
        line=line,
    )


@dataclass(frozen=True)
class Missed:
    id: int
    person_id: int
    name: str
    address: str
    kind: str
    day: str
    since: dt.datetime
    step: int


async def missed(session: AsyncSession, actor: Actor, community_id: int) -> list[Missed]:
    """Staff: the missed check-ins still open, the oldest first, with whom and where."""
    rows = await service.open_misses(session, actor, community_id=community_id)
    people = {p.id: p for p in await community_repository.people_by_ids(session, [m.person_id for m in rows])}
    homes = {
        h.id: h
        for h in await community_repository.households_by_ids(
            session, [p.household_id for p in people.values() if p.household_id]
        )
    }
    found = []
    for m in rows:
        person = people.get(m.person_id)
        home = homes.get(person.household_id) if person and person.household_id else None
        name, address = (person.name if person else ""), (home.address if home else "")
        found.append(Missed(m.id, m.person_id, name, address, m.kind, m.local_day, m.started_at, m.step))
    return found
