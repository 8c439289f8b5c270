"""The community's noticeboard: staff publish announcements, policies, events and classes and
the numbers to ring; residents (in the app, on the TV, by phone) read them and sign up.

Every change that the channel shows emits `bulletin.changed`, which rebuilds the community's
channel loop in the background (tv_channel); nothing is rebuilt on request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.bulletin.errors import EventClosed, NotSignedUp
from backend.bulletin.models import (
    Announcement,
    Audience,
    CommunityEvent,
    Contact,
    ContactKind,
    EventKind,
    EventSignup,
    NoticeKind,
    SignupStatus,
)
from backend.community.models import Building, Community, Grid, Household, Person
from backend.db import utcnow
from backend.errors import DomainError, InvalidInput, NotFound
from backend.family.models import Scope
from backend.parts import Parts

CHANGED = "bulletin.changed"  # payload: {"community_id"}; the channel loop is rebuilt
SIGNUP_CHANGED = "bulletin.signup"  # payload: {"event_id", "person_id", "status", "by_id"}
EVENT_CANCELLED = "bulletin.event_cancelled"  # payload: {"event_id", "by_id"}
REMIND = "bulletin.remind"  # job: tell those signed up, before the event
REMIND_BEFORE = dt.timedelta(hours=2)
HORIZON = dt.timedelta(days=30)  # events shown ahead
_PHONE = re.compile(r"^\+?[0-9][0-9-]{2,18}$")


def _text(value: str, field: str, longest: int, *, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > longest:
        raise InvalidInput(field, field=field)
    return value


def _changed(session: AsyncSession, community_id: int) -> None:
    events.emit(session, CHANGED, {"community_id": community_id})


# Announcements and policies


@dataclass(frozen=True)
class NoticeInput:
    community_id: int
    kind: NoticeKind
    title: str
    body: str
    plain: str
    audience: Audience = Audience.COMMUNITY
    grid_id: int | None = None
    building_id: int | None = None
    min_age: int | None = None
    starts_at: dt.datetime | None = None  # None: now
    ends_at: dt.datetime | None = None  # None: until withdrawn


async def _check_audience(session: AsyncSession, given: NoticeInput) -> None:
    if given.audience == Audience.GRID:
        grid = await session.get(Grid, given.grid_id) if given.grid_id else None
        if grid is None or grid.community_id != given.community_id:
            raise InvalidInput("gridId", field="gridId")
    elif given.audience == Audience.BUILDING:
        building = await session.get(Building, given.building_id) if given.building_id else None
        grid = await session.get(Grid, building.grid_id) if building is not None else None
        if grid is None or grid.community_id != given.community_id:
            raise InvalidInput("buildingId", field="buildingId")
    elif given.audience == Audience.ELDERS:
        if given.min_age is None or not 50 <= given.min_age <= 120:
            raise InvalidInput("minAge", field="minAge")


async def publish(
    session: AsyncSession, actor: Actor, given: NoticeInput, *, announcement_id: int | None = None
) -> Announcement:
    """A new announcement, or a correction of one (`announcement_id`): staff of the community."""
    rules.require_staff_of(actor, given.community_id)
    now = utcnow()
    title = _text(given.title, "title", 60)
    plain = _text(given.plain, "plain", 200)
    body = _text(given.body, "body", 5000)
    starts = given.starts_at or now
    if given.ends_at is not None and (given.ends_at <= starts or given.ends_at <= now):
        raise InvalidInput("until", field="until")
    await _check_audience(session, given)
    if announcement_id is None:
        row = Announcement(community_id=given.community_id, published_by_id=actor.id)
        session.add(row)
    else:
        found = await session.get(Announcement, announcement_id, with_for_update=True)
        if found is None or found.community_id != given.community_id or found.withdrawn_at is not None:
            raise NotFound()
        row = found
    row.kind, row.title, row.body, row.plain = given.kind, title, body, plain
    row.audience = given.audience
    row.grid_id = given.grid_id if given.audience == Audience.GRID else None
    row.building_id = given.building_id if given.audience == Audience.BUILDING else None
    row.min_age = given.min_age if given.audience == Audience.ELDERS else None
    row.starts_at, row.ends_at, row.updated_at = starts, given.ends_at, now
    await session.flush()
    _changed(session, given.community_id)
    return row


async def withdraw(session: AsyncSession, actor: Actor, announcement_id: int) -> Announcement:
    row = await session.get(Announcement, announcement_id, with_for_update=True)
    if row is None or not actor.is_staff_of(row.community_id):
        raise NotFound()
    if row.withdrawn_at is None:
        row.withdrawn_at = row.updated_at = utcnow()
        _changed(session, row.community_id)
    return row


def _in_force(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        Announcement.withdrawn_at.is_(None),
        Announcement.starts_at <= now,
        (Announcement.ends_at.is_(None)) | (Announcement.ends_at > now),
    )


async def for_channel(session: AsyncSession, community_id: int, now: dt.datetime) -> list[Announcement]:
    """What the community's channel shows: announcements for everyone and for elders (the
    channel is broadcast; a building's or a grid's notice is for its own residents' screens)."""
    rows = await session.scalars(
        select(Announcement)
        .where(
            Announcement.community_id == community_id,
            Announcement.audience.in_([Audience.COMMUNITY, Audience.ELDERS]),
            _in_force(now),
        )
        .order_by(Announcement.kind.desc(), Announcement.starts_at.desc(), Announcement.id.desc())
    )
    return list(rows)


@dataclass(frozen=True)
class Reader:
    """Whose eyes an announcement is for: a home (its building and grid) and who lives there."""

    community_id: int
    household: Household | None
    grid_id: int | None
    ages: tuple[int, ...]  # the ages of the people it is for (a home: everyone living there)


UNKNOWN_ELDER_AGE = 200  # flagged an elder by staff, birth date unknown: any elders' notice reaches them


async def reader_of(
    session: AsyncSession, people: Sequence[Person], household: Household | None, today: dt.date
) -> Reader:
    community_id = household.community_id if household is not None else 0
    building = await session.get(Building, household.building_id) if household is not None else None
    ages = []
    for p in people:
        age = p.age(today)
        if age is not None:
            ages.append(age)
        elif p.elder_flag:
            ages.append(UNKNOWN_ELDER_AGE)
    return Reader(community_id, household, building.grid_id if building else None, tuple(ages))


def _reaches(a: Announcement, reader: Reader) -> bool:
    if a.audience == Audience.COMMUNITY:
        return True
    if a.audience == Audience.GRID:
        return reader.grid_id is not None and a.grid_id == reader.grid_id
    if a.audience == Audience.BUILDING:
        return reader.household is not None and a.building_id == reader.household.building_id
    return any(age >= (a.min_age or 0) for age in reader.ages)


async def reader_for(session: AsyncSession, actor: Actor, person: Person, today: dt.date) -> Reader:
    """Whose eyes: the person's home, or only her community when she has no home on record."""
    household = await session.get(Household, person.household_id) if person.household_id else None
    if household is None:
        return Reader(rules.home_community_id(actor) or 0, None, None, ())
    return await reader_of(session, [person], household, today)


async def for_reader(session: AsyncSession, reader: Reader, now: dt.datetime) -> list[Announcement]:
    """What a resident or a home sees now: the community's, their grid's and building's, and
    those for their age; policies first, newest first."""
    rows = await session.scalars(
        select(Announcement)
        .where(Announcement.community_id == reader.community_id, _in_force(now))
        .order_by(Announcement.kind.desc(), Announcement.starts_at.desc(), Announcement.id.desc())
    )
    return [a for a in rows if _reaches(a, reader)]


async def for_staff(session: AsyncSession, actor: Actor, community_id: int) -> list[Announcement]:
    """Everything not withdrawn, scheduled ones included, newest first."""
    rules.require_staff_of(actor, community_id)
    rows = await session.scalars(
        select(Announcement)
        .where(Announcement.community_id == community_id, Announcement.withdrawn_at.is_(None))
        .order_by(Announcement.starts_at.desc(), Announcement.id.desc())
        .limit(200)
    )
    return list(rows)


async def announcement(session: AsyncSession, reader: Reader, announcement_id: int) -> Announcement:
    row = await session.get(Announcement, announcement_id)
    if row is None or row.community_id != reader.community_id or not _reaches(row, reader):
        raise NotFound()
    return row


async def next_change(session: AsyncSession, community_id: int, now: dt.datetime) -> dt.datetime | None:
    """When what the channel shows next changes by itself: a notice begins or ends, an event
    is over."""
    soonest = [
        await session.scalar(
            select(func.min(Announcement.starts_at)).where(
                Announcement.community_id == community_id,
                Announcement.withdrawn_at.is_(None),
                Announcement.starts_at > now,
            )
        ),
        await session.scalar(
            select(func.min(Announcement.ends_at)).where(
                Announcement.community_id == community_id,
                Announcement.withdrawn_at.is_(None),
                Announcement.ends_at > now,
            )
        ),
        await session.scalar(
            select(func.min(CommunityEvent.ends_at)).where(
                CommunityEvent.community_id == community_id,
                CommunityEvent.cancelled_at.is_(None),
                CommunityEvent.ends_at > now,
            )
        ),
    ]
    found = [at for at in soonest if at is not None]
    return min(found) if found else None


# Events and classes


@dataclass(frozen=True)
class EventInput:
    community_id: int
    kind: EventKind
    title: str
    plain: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    description: str = ""


async def create_event(session: AsyncSession, actor: Actor, given: EventInput) -> CommunityEvent:
    rules.require_staff_of(actor, given.community_id)
    now = utcnow()
    if given.starts_at <= now:
        raise InvalidInput("startsAt", field="startsAt")
    if given.ends_at <= given.starts_at or given.ends_at - given.starts_at > dt.timedelta(hours=12):
        raise InvalidInput("endsAt", field="endsAt")
    if not 1 <= given.capacity <= 10_000:
        raise InvalidInput("capacity", field="capacity")
    row = CommunityEvent(
        community_id=given.community_id,
        kind=given.kind,
        title=_text(given.title, "title", 60),
        plain=_text(given.plain, "plain", 200),
        place=_text(given.place, "place", 100),
        description=_text(given.description, "description", 5000, required=False),
        starts_at=given.starts_at,
        ends_at=given.ends_at,
        capacity=given.capacity,
        created_by_id=actor.id,
    )
    session.add(row)
    await session.flush()
    await jobs.schedule(
        session, REMIND, max(now, given.starts_at - REMIND_BEFORE), {"event_id": row.id}, key=remind_key(row.id)
    )
    _changed(session, given.community_id)
    return row


def remind_key(event_id: int) -> str:
    return f"bulletin:event:{event_id}:remind"


async def cancel_event(session: AsyncSession, actor: Actor, event_id: int) -> CommunityEvent:
    """Called off: everyone signed up or waiting is told, and the reminder does not go."""
    row = await session.get(CommunityEvent, event_id, with_for_update=True)
    if row is None or not actor.is_staff_of(row.community_id):
        raise NotFound()
    if row.cancelled_at is None:
        row.cancelled_at = utcnow()
        await jobs.cancel(session, remind_key(row.id))
        events.emit(session, EVENT_CANCELLED, {"event_id": row.id, "by_id": actor.id})
        _changed(session, row.community_id)
    return row


async def upcoming(
    session: AsyncSession, community_id: int, now: dt.datetime, *, limit: int = 50
) -> list[CommunityEvent]:
    """Events not yet over and not called off, soonest first, for the next 30 days."""
    rows = await session.scalars(
        select(CommunityEvent)
        .where(
            CommunityEvent.community_id == community_id,
            CommunityEvent.cancelled_at.is_(None),
            CommunityEvent.ends_at > now,
            CommunityEvent.starts_at < now + HORIZON,
        )
        .order_by(CommunityEvent.starts_at, CommunityEvent.id)
        .limit(limit)
    )
    return list(rows)


async def taken(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Places taken and people waiting, per event."""
    rows = await session.execute(
        select(EventSignup.event_id, EventSignup.status, func.count())
        .where(EventSignup.event_id.in_(list(event_ids)), EventSignup.status != SignupStatus.WITHDRAWN)
        .group_by(EventSignup.event_id, EventSignup.status)
    )
    found: dict[int, list[int]] = {eid: [0, 0] for eid in event_ids}
    for eid, status, count in rows.all():
        found[eid][0 if status == SignupStatus.CONFIRMED else 1] += count
    return {eid: (c, w) for eid, (c, w) in found.items()}


async def signups_of(session: AsyncSession, person_id: int, event_ids: Sequence[int]) -> dict[int, EventSignup]:
    rows = await session.scalars(
        select(EventSignup).where(EventSignup.person_id == person_id, EventSignup.event_id.in_(list(event_ids)))
    )
    return {s.event_id: s for s in rows}


async def event(session: AsyncSession, event_id: int) -> CommunityEvent:
    row = await session.get(CommunityEvent, event_id)
    if row is None:
        raise NotFound()
    return row


async def _open_event(session: AsyncSession, event_id: int, community_ids: set[int]) -> CommunityEvent:
    row = await session.get(CommunityEvent, event_id, with_for_update=True)
    if row is None or row.community_id not in community_ids:
        raise NotFound()
    if row.cancelled_at is not None or row.starts_at <= utcnow():
        raise EventClosed()
    return row


async def sign_up(session: AsyncSession, *, person: Person, by_id: int | None, door: str, event_id: int) -> EventSignup:
    """A place if one is left, else the end of the waiting list. Signing up again while signed
    up changes nothing. `person` is who goes; the door has already said they may."""
    household = await session.get(Household, person.household_id) if person.household_id else None
    event = await _open_event(session, event_id, {household.community_id} if household else set())
    mine = (await signups_of(session, person.id, [event.id])).get(event.id)
    if mine is not None and mine.status != SignupStatus.WITHDRAWN:
        return mine
    confirmed, _waiting = (await taken(session, [event.id]))[event.id]
    status = SignupStatus.CONFIRMED if confirmed < event.capacity else SignupStatus.WAITING
    if mine is None:
        mine = EventSignup(event_id=event.id, person_id=person.id, status=status, door=door)
        session.add(mine)
    mine.status, mine.signed_up_by_id, mine.door, mine.queued_at = status, by_id, door, utcnow()
    await session.flush()
    events.emit(
        session,
        SIGNUP_CHANGED,
        {"event_id": event.id, "person_id": person.id, "status": status.value, "by_id": by_id},
    )
    return mine


async def withdraw_signup(session: AsyncSession, *, person: Person, by_id: int | None, event_id: int) -> EventSignup:
    """Not going after all: the first on the waiting list gets the place, and is told."""
    household = await session.get(Household, person.household_id) if person.household_id else None
    event = await _open_event(session, event_id, {household.community_id} if household else set())
    mine = (await signups_of(session, person.id, [event.id])).get(event.id)
    if mine is None or mine.status == SignupStatus.WITHDRAWN:
        raise NotSignedUp()
    freed = mine.status == SignupStatus.CONFIRMED
    mine.status = SignupStatus.WITHDRAWN
    await session.flush()
    if freed:
        first = await session.scalar(
            select(EventSignup)
            .where(EventSignup.event_id == event.id, EventSignup.status == SignupStatus.WAITING)
            .order_by(EventSignup.queued_at, EventSignup.id)
            .limit(1)
        )
        if first is not None:
            first.status = SignupStatus.CONFIRMED
            events.emit(
                session,
                SIGNUP_CHANGED,
                {"event_id": event.id, "person_id": first.person_id, "status": "promoted", "by_id": None},
            )
    return mine


async def person_to_sign_up(session: AsyncSession, actor: Actor, person_id: int | None) -> Person:
    """Myself, an elder who lets me order for them, or a resident I serve."""
    return (await rules.acting_for(session, actor, person_id, Scope.ORDER_FOR)).person


async def roster(
    session: AsyncSession, actor: Actor, event_id: int
) -> tuple[CommunityEvent, list[tuple[EventSignup, Person]]]:
    """Staff: who is coming and who is waiting, in order."""
    event = await session.get(CommunityEvent, event_id)
    if event is None or not actor.is_staff_of(event.community_id):
        raise NotFound()
    rows = await session.execute(
        select(EventSignup, Person)
        .join(Person, Person.id == EventSignup.person_id)
        .where(EventSignup.event_id == event_id, EventSignup.status != SignupStatus.WITHDRAWN)
        .order_by(EventSignup.status, EventSignup.queued_at, EventSignup.id)
    )
    return event, [(s, p) for s, p in rows.all()]


async def confirmed_people(session: AsyncSession, event_id: int) -> list[Person]:
    rows = await session.scalars(
        select(Person)
        .join(EventSignup, EventSignup.person_id == Person.id)
        .where(EventSignup.event_id == event_id, EventSignup.status == SignupStatus.CONFIRMED)
        .order_by(Person.id)
    )
    return list(rows)


async def everyone_signed_up(session: AsyncSession, event_id: int) -> list[Person]:
    rows = await session.scalars(
        select(Person)
        .join(EventSignup, EventSignup.person_id == Person.id)
        .where(EventSignup.event_id == event_id, EventSignup.status != SignupStatus.WITHDRAWN)
        .order_by(Person.id)
    )
    return list(rows)


# Contacts


@dataclass(frozen=True)
class ContactInput:
    kind: ContactKind
    name: str
    phone: str
    hours: str = ""


async def set_contacts(
    session: AsyncSession, actor: Actor, community_id: int, given: Sequence[ContactInput]
) -> list[Contact]:
    """The community's numbers, replaced as a whole, in the order given."""
    rules.require_staff_of(actor, community_id)
    if len(given) > 30:
        raise InvalidInput("contacts", field="contacts")
    checked = []
    for c in given:
        phone = c.phone.strip().replace(" ", "")
        if not _PHONE.match(phone):
            raise InvalidInput("phone", field="phone")
        checked.append((c.kind, _text(c.name, "name", 60), phone, _text(c.hours, "hours", 60, required=False)))
    for old in await contacts(session, community_id):
        await session.delete(old)
    await session.flush()
    rows = [
        Contact(community_id=community_id, position=i, kind=kind, name=name, phone=phone, hours=hours)
        for i, (kind, name, phone, hours) in enumerate(checked)
    ]
    session.add_all(rows)
    await session.flush()
    _changed(session, community_id)
    return rows


async def contacts(session: AsyncSession, community_id: int) -> list[Contact]:
    rows = await session.scalars(
        select(Contact).where(Contact.community_id == community_id).order_by(Contact.position, Contact.id)
    )
    return list(rows)


async def community(session: AsyncSession, community_id: int) -> Community:
    found = await session.get(Community, community_id)
    if found is None:
        raise NotFound()
    return found


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: her places at events and classes go to the next in line."""
    mine = await session.execute(
        select(EventSignup.event_id).where(
            EventSignup.person_id == actor.id, EventSignup.status != SignupStatus.WITHDRAWN
        )
    )
    for event_id in mine.scalars().all():
        with contextlib.suppress(DomainError):  # over or called off: nobody waits for her there
            await withdraw_signup(session, person=actor.person, by_id=actor.id, event_id=event_id)
