"""The noticeboard over GraphQL: residents read announcements, events and contacts and sign
up; staff publish them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import clock
from backend.access import rules
from backend.bulletin import service
from backend.bulletin.errors import EventClosedError, NotSignedUpError
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
from backend.community.models import Person
from backend.db import utcnow
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated, IsStaff

AnnouncementKind = strawberry.enum(NoticeKind, name="AnnouncementKind")
AnnouncementAudience = strawberry.enum(Audience, name="AnnouncementAudience")
CommunityEventKind = strawberry.enum(EventKind, name="CommunityEventKind")
EventSignupStatus = strawberry.enum(SignupStatus, name="EventSignupStatus")
CommunityContactKind = strawberry.enum(ContactKind, name="CommunityContactKind")


def _aloud(info: Info, text: str) -> str:
    return info.context.rt.read_aloud.url(text, locale=info.context.locale, slow=True, shared=True)


@strawberry.type(
    name="Announcement", description="An announcement, or a policy residents are entitled to, of the community."
)
class AnnouncementView:
    id: strawberry.ID
    kind: AnnouncementKind  # type: ignore[valid-type]
    title: str
    body: str
    plain_text: str = strawberry.field(description="The short plain form: shown large, read aloud.")
    read_aloud_url: str
    audience: AnnouncementAudience  # type: ignore[valid-type]
    grid_id: strawberry.ID | None
    building_id: strawberry.ID | None
    min_age: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime | None

    @classmethod
    def of(cls, a: Announcement, info: Info) -> AnnouncementView:
        return cls(
            id=strawberry.ID(str(a.id)),
            kind=a.kind,
            title=a.title,
            body=a.body,
            plain_text=a.plain,
            read_aloud_url=_aloud(info, f"{a.title}。{a.plain}"),
            audience=a.audience,
            grid_id=strawberry.ID(str(a.grid_id)) if a.grid_id else None,
            building_id=strawberry.ID(str(a.building_id)) if a.building_id else None,
            min_age=a.min_age,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
        )


@strawberry.type(name="CommunityEvent", description="A community event or a class, and my place in it.")
class CommunityEventView:
    id: strawberry.ID
    kind: CommunityEventKind  # type: ignore[valid-type]
    title: str
    plain_text: str
    read_aloud_url: str
    description: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    places_left: int
    waiting: int = strawberry.field(description="People on the waiting list.")
    my_signup: EventSignupStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="The person's sign-up: confirmed, waiting, withdrawn, or null if never signed up."
    )
    cancelled: bool

    @classmethod
    def of(cls, e: CommunityEvent, info: Info, taken: tuple[int, int], mine: EventSignup | None) -> CommunityEventView:
        return cls(
            id=strawberry.ID(str(e.id)),
            kind=e.kind,
            title=e.title,
            plain_text=e.plain,
            read_aloud_url=_aloud(info, f"{e.title}。{e.plain}"),
            description=e.description,
            place=e.place,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            capacity=e.capacity,
            places_left=max(0, e.capacity - taken[0]),
            waiting=taken[1],
            my_signup=mine.status if mine is not None else None,
            cancelled=e.cancelled_at is not None,
        )


@strawberry.type(name="CommunityContact", description="A number to ring: the service centre, the police station, …")
class ContactView:
    kind: CommunityContactKind  # type: ignore[valid-type]
    name: str
    phone: str
    hours: str

    @classmethod
    def of(cls, c: Contact) -> ContactView:
        return cls(kind=c.kind, name=c.name, phone=c.phone, hours=c.hours)


@strawberry.type(description="The community's numbers, in the order shown.")
class CommunityContactList:
    contacts: list[ContactView]


@strawberry.type(description="One person on an event's list (staff).")
class EventAttendee:
    person_id: strawberry.ID
    name: str
    status: EventSignupStatus  # type: ignore[valid-type]
    door: str
    signed_up_at: dt.datetime

    @classmethod
    def of(cls, signup: EventSignup, person: Person) -> EventAttendee:
        return cls(
            person_id=strawberry.ID(str(person.id)),
            name=person.name,
            status=signup.status,
            door=signup.door,
            signed_up_at=signup.queued_at,
        )


@strawberry.type(description="Who is coming to an event and who is waiting, in order (staff).")
class EventRoster:
    event: CommunityEventView
    attendees: list[EventAttendee]


@strawberry.input
class AnnouncementInput:
    community_id: strawberry.ID
    kind: AnnouncementKind  # type: ignore[valid-type]
    title: str
    body: str
    plain_text: str
    audience: AnnouncementAudience = Audience.COMMUNITY  # type: ignore[valid-type]
    grid_id: strawberry.ID | None = None
    building_id: strawberry.ID | None = None
    min_age: int | None = None
    starts_at: dt.datetime | None = None
    until: dt.datetime | None = None

    def given(self) -> service.NoticeInput:
        return service.NoticeInput(
            community_id=parse_id(self.community_id, "communityId"),
            kind=self.kind,
            title=self.title,
            body=self.body,
            plain=self.plain_text,
            audience=self.audience,
            grid_id=optional_id(self.grid_id, "gridId"),
            building_id=optional_id(self.building_id, "buildingId"),
            min_age=self.min_age,
            starts_at=self.starts_at,
            ends_at=self.until,
        )


@strawberry.input
class CommunityEventInput:
    community_id: strawberry.ID
    kind: CommunityEventKind  # type: ignore[valid-type]
    title: str
    plain_text: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    description: str = ""

    def given(self) -> service.EventInput:
        return service.EventInput(
            community_id=parse_id(self.community_id, "communityId"),
            kind=self.kind,
            title=self.title,
            plain=self.plain_text,
            place=self.place,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            capacity=self.capacity,
            description=self.description,
        )


@strawberry.input
class CommunityContactInput:
    kind: CommunityContactKind  # type: ignore[valid-type]
    name: str
    phone: str
    hours: str = ""


AnnouncementPayload = Annotated[
    AnnouncementView | NotFoundError | InvalidInputError, strawberry.union("AnnouncementPayload")
]
CommunityEventPayload = Annotated[
    CommunityEventView | NotFoundError | InvalidInputError, strawberry.union("CommunityEventPayload")
]
EventSignupPayload = Annotated[
    CommunityEventView | EventClosedError | NotSignedUpError | NotFoundError | InvalidInputError,
    strawberry.union("EventSignupPayload"),
]
SetCommunityContactsPayload = Annotated[
    CommunityContactList | InvalidInputError, strawberry.union("SetCommunityContactsPayload")
]


async def _event_views(info: Info, rows: list[CommunityEvent], person_id: int | None) -> list[CommunityEventView]:
    session = info.context.session
    ids = [e.id for e in rows]
    taken = await service.taken(session, ids)
    mine = await service.signups_of(session, person_id, ids) if person_id is not None else {}
    return [CommunityEventView.of(e, info, taken[e.id], mine.get(e.id)) for e in rows]


@strawberry.type
class BulletinQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Announcements and policies in force for me (or an elder I may act for): my community's, my grid's and building's, and those for my age.",
    )
    async def announcements(self, info: Info, person_id: strawberry.ID | None = None) -> list[AnnouncementView]:
        ctx = info.context
        person = await service.person_to_sign_up(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))
        rows = await service.for_reader(
            ctx.session,
            await service.reader_for(ctx.session, ctx.require_actor(), person, clock.today(ctx.rt.settings.zone)),
            utcnow(),
        )
        return [AnnouncementView.of(a, info) for a in rows]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Events and classes of the next 30 days in my community (or an elder's), with my sign-up.",
    )
    async def community_events(self, info: Info, person_id: strawberry.ID | None = None) -> list[CommunityEventView]:
        ctx = info.context
        person = await service.person_to_sign_up(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))
        reader = await service.reader_for(ctx.session, ctx.require_actor(), person, clock.today(ctx.rt.settings.zone))
        rows = await service.upcoming(ctx.session, reader.community_id, utcnow())
        return await _event_views(info, rows, person.id)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="The numbers my community wants me to have at hand."
    )
    async def community_contacts(self, info: Info, community_id: strawberry.ID | None = None) -> list[ContactView]:
        ctx = info.context
        actor = ctx.require_actor()
        cid = optional_id(community_id, "communityId") or rules.home_community_id(actor)
        if cid is None or cid not in actor.community_ids:
            return []
        return [ContactView.of(c) for c in await service.contacts(ctx.session, cid)]

    @strawberry.field(
        permission_classes=[IsStaff],
        description="Staff: the community's announcements not withdrawn, scheduled ones too, newest first.",
    )
    async def staff_announcements(self, info: Info, community_id: strawberry.ID) -> list[AnnouncementView]:
        ctx = info.context
        rows = await service.for_staff(ctx.session, ctx.require_actor(), parse_id(community_id, "communityId"))
        return [AnnouncementView.of(a, info) for a in rows]

    @strawberry.field(permission_classes=[IsStaff], description="Staff: who is coming to an event, and who waits.")
    async def event_roster(self, info: Info, event_id: strawberry.ID) -> EventRoster:
        ctx = info.context
        event, rows = await service.roster(ctx.session, ctx.require_actor(), parse_id(event_id, "eventId"))
        [view] = await _event_views(info, [event], None)
        return EventRoster(event=view, attendees=[EventAttendee.of(s, p) for s, p in rows])


@strawberry.type
class BulletinMutation:
    @mutation(permissions=[IsStaff], description="Staff: publish an announcement or a policy.")
    async def publish_announcement(self, info: Info, input: AnnouncementInput) -> AnnouncementPayload:
        ctx = info.context
        return AnnouncementView.of(await service.publish(ctx.session, ctx.require_actor(), input.given()), info)

    @mutation(permissions=[IsStaff], description="Staff: correct an announcement (it stays one announcement).")
    async def update_announcement(self, info: Info, id: strawberry.ID, input: AnnouncementInput) -> AnnouncementPayload:
        ctx = info.context
        row = await service.publish(ctx.session, ctx.require_actor(), input.given(), announcement_id=parse_id(id))
        return AnnouncementView.of(row, info)

    @mutation(permissions=[IsStaff], description="Staff: take an announcement down now.")
    async def withdraw_announcement(self, info: Info, id: strawberry.ID) -> AnnouncementPayload:
        ctx = info.context
        return AnnouncementView.of(await service.withdraw(ctx.session, ctx.require_actor(), parse_id(id)), info)

    @mutation(permissions=[IsStaff], description="Staff: a new event or class, with its places.")
    async def create_community_event(self, info: Info, input: CommunityEventInput) -> CommunityEventPayload:
        ctx = info.context
        row = await service.create_event(ctx.session, ctx.require_actor(), input.given())
        [view] = await _event_views(info, [row], None)
        return view

    @mutation(permissions=[IsStaff], description="Staff: call an event off; everyone on its list is told.")
    async def cancel_community_event(self, info: Info, id: strawberry.ID) -> CommunityEventPayload:
        ctx = info.context
        row = await service.cancel_event(ctx.session, ctx.require_actor(), parse_id(id))
        [view] = await _event_views(info, [row], None)
        return view

    @mutation(permissions=[IsStaff], description="Staff: the community's numbers, replaced as a whole, in this order.")
    async def set_community_contacts(
        self, info: Info, community_id: strawberry.ID, contacts: list[CommunityContactInput]
    ) -> SetCommunityContactsPayload:
        ctx = info.context
        given = [service.ContactInput(c.kind, c.name, c.phone, c.hours) for c in contacts]
        rows = await service.set_contacts(
            ctx.session, ctx.require_actor(), parse_id(community_id, "communityId"), given
        )
        return CommunityContactList(contacts=[ContactView.of(c) for c in rows])

    @mutation(description="Sign me (or an elder who lets me order for them) up: a place, or the waiting list.")
    async def sign_up_for_event(
        self, info: Info, event_id: strawberry.ID, person_id: strawberry.ID | None = None
    ) -> EventSignupPayload:
        ctx = info.context
        actor = ctx.require_actor()
        person = await service.person_to_sign_up(ctx.session, actor, optional_id(person_id, "personId"))
        signup = await service.sign_up(
            ctx.session, person=person, by_id=actor.id, door="app", event_id=parse_id(event_id, "eventId")
        )
        event = await service.event(ctx.session, signup.event_id)
        [view] = await _event_views(info, [event], person.id)
        return view

    @mutation(description="Not going after all: the place goes to the first on the waiting list.")
    async def withdraw_from_event(
        self, info: Info, event_id: strawberry.ID, person_id: strawberry.ID | None = None
    ) -> EventSignupPayload:
        ctx = info.context
        actor = ctx.require_actor()
        person = await service.person_to_sign_up(ctx.session, actor, optional_id(person_id, "personId"))
        signup = await service.withdraw_signup(
            ctx.session, person=person, by_id=actor.id, event_id=parse_id(event_id, "eventId")
        )
        event = await service.event(ctx.session, signup.event_id)
        [view] = await _event_views(info, [event], person.id)
        return view
