"""The notice board as the elder's doors show it (the home's 活动 and 公告: the TV's lists,
the phone line's keys 7 and 8, a speaker's reply): events with the places left and whether
she is on the list, and the announcements meant for her home, in the room's words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.access.subject import Actor
from backend.bulletin import service
from backend.bulletin.models import Announcement, CommunityEvent, SignupStatus
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.parts import Parts, Screen


def when(texts: Catalog, locale: str, at: dt.datetime) -> str:
    return texts.text(locale, "bulletin.when", month=at.month, day=at.day, time=f"{at:%H:%M}")


def event_state(texts: Catalog, locale: str, left: int, status: SignupStatus | None) -> str:
    """Her place on it, else the places left, else that she may wait for one."""
    if status == SignupStatus.CONFIRMED:
        return texts.text(locale, "bulletin.event_state.signed_up")
    if status == SignupStatus.WAITING:
        return texts.text(locale, "bulletin.event_state.waiting")
    if left:
        return texts.text(locale, "bulletin.event_state.places_left", left=left)
    return texts.text(locale, "bulletin.event_state.full")


def event_said(texts: Catalog, locale: str, event: CommunityEvent, *, when: str, state: str) -> str:
    return texts.text(locale, "bulletin.event_line", when=when, title=event.title, place=event.place, state=state)


def announcement_said(texts: Catalog, locale: str, announcement: Announcement) -> str:
    return texts.text(locale, "bulletin.announcement_line", title=announcement.title, plain=announcement.plain)


async def event_lines(
    session: AsyncSession, person_id: int, rows: Sequence[CommunityEvent]
) -> list[tuple[CommunityEvent, int, SignupStatus | None]]:
    """Each event with its places left and her signup's state, in two queries."""
    taken = await service.taken(session, [e.id for e in rows])
    mine = await service.signups_of(session, person_id, [e.id for e in rows])
    return [(e, max(0, e.capacity - taken[e.id][0]), mine[e.id].status if e.id in mine else None) for e in rows]


async def events(session: AsyncSession, parts: Parts, actor: Actor, locale: str, /) -> Screen:
    """The home's 社区活动 entry: what is coming in her community and her place on each."""
    texts, zone = parts.catalog, parts.settings.zone
    reader = await service.reader_for(session, actor, actor.person, clock.today(zone))
    rows = await service.upcoming(session, reader.community_id, utcnow())
    lines = [
        event_said(
            texts,
            locale,
            e,
            when=when(texts, locale, e.starts_at.astimezone(zone)),
            state=event_state(texts, locale, left, status),
        )
        for e, left, status in await event_lines(session, actor.id, rows)
    ]
    return Screen(tuple(lines), texts.text(locale, "bulletin.no_events"))


async def announcements(session: AsyncSession, parts: Parts, actor: Actor, locale: str, /) -> Screen:
    """The home's 公告 entry: what the community, her grid and her building say to her home."""
    reader = await service.reader_for(session, actor, actor.person, clock.today(parts.settings.zone))
    rows = await service.for_reader(session, reader, utcnow())
    return Screen(
        tuple(announcement_said(parts.catalog, locale, a) for a in rows),
        parts.catalog.text(locale, "bulletin.no_announcements"),
    )
