"""Reminders: a message at a time, once (an appointment tomorrow) or every day (medicine at 08:00).

Each reminder is one durable job at a time; a daily one schedules its next day when it runs,
keeping the local wall-clock time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access.rules import acting_for
from backend.access.subject import Actor
from backend.community.models import Person
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.gateways.sms import Sms
from backend.notify import service
from backend.notify.models import Reminder
from backend.parts import Parts

DUE = "notify.reminder"
MAX_TEXT = 200
MAX_ACTIVE = 50  # per person: a list an elder can still have read to them


def reminder_key(reminder_id: int) -> str:
    return f"reminder:{reminder_id}"


def next_daily(at_local: dt.time, after: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The next moment the local clock shows `at_local`, strictly after `after` (UTC)."""
    local = after.astimezone(tz)
    candidate = dt.datetime.combine(local.date(), at_local, tzinfo=tz)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), at_local, tzinfo=tz)
    return candidate.astimezone(dt.UTC)


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int | None,
    text: str,
    at: dt.datetime,
    daily: bool,
    tz: ZoneInfo,
) -> Reminder:
    """`tz`: the community's zone; a time without one is read in it."""
    target = (await acting_for(session, actor, person_id)).person
    text = " ".join(text.split())
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput("text", field="text")
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    now = utcnow()
    if daily:
        first = next_daily(at.astimezone(tz).time(), now - dt.timedelta(seconds=1), tz)
    elif at <= now:
        raise InvalidInput("at", field="at")
    else:
        first = at.astimezone(dt.UTC)
    active = await for_person(session, target.id)
    if len(active) >= MAX_ACTIVE:
        raise InvalidInput("reminders", field="at")
    reminder = Reminder(person_id=target.id, created_by_id=actor.id, text=text, next_at=first, daily=daily)
    session.add(reminder)
    await session.flush()
    await jobs.schedule(session, DUE, first, {"reminder_id": reminder.id}, key=reminder_key(reminder.id))
    return reminder


async def cancel(session: AsyncSession, actor: Actor, reminder_id: int) -> Reminder:
    reminder = await session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None:
        raise NotFound()
    await acting_for(session, actor, reminder.person_id)
    reminder.active = False
    await jobs.cancel(session, reminder_key(reminder.id))
    return reminder


async def for_person(session: AsyncSession, person_id: int) -> Sequence[Reminder]:
    return (
        (
            await session.execute(
                select(Reminder)
                .where(Reminder.person_id == person_id, Reminder.active.is_(True))
                .order_by(Reminder.next_at, Reminder.id)
            )
        )
        .scalars()
        .all()
    )


async def due(session: AsyncSession, parts: Parts, reminder_id: int) -> None:
    reminder = await session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None or not reminder.active:
        return
    person = await session.get(Person, reminder.person_id)
    if person is None:
        return
    catalog = parts.catalog
    await service.send(
        session,
        parts,
        person,
        kind="reminder",
        title=catalog.text(person.locale, "notify.reminder_title"),
        body=reminder.text,
        data={"kind": "reminder", "reminderId": str(reminder.id)},
        ref=reminder_key(reminder.id),
        sms=Sms("reminder", {"text": reminder.text}),
    )
    reminder.last_sent_at = utcnow()
    if not reminder.daily:
        reminder.active = False
        return
    tz = parts.settings.zone
    reminder.next_at = next_daily(reminder.next_at.astimezone(tz).time(), max(reminder.next_at, utcnow()), tz)
    await jobs.schedule(session, DUE, reminder.next_at, {"reminder_id": reminder.id}, key=reminder_key(reminder.id))
