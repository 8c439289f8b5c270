"""Mutual help and the time bank over GraphQL: ask for help, volunteer, answer, confirm;
the time bank's balance and statement, gifts to parents and staff entries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.community import repository as community_repository
from backend.community.models import Building, Household
from backend.gql.base import mutation, optional_id, parse_clock, parse_id, parse_weekdays
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated
from backend.mutual_help import hours, screens, service
from backend.mutual_help.errors import HelpClosedError, HelpTakenError, NothingToConfirmError, WrongHelpCodeError
from backend.mutual_help.models import HelpKind, HelpOffer, HelpRequest, OfferStatus, Reach, RequestStatus, Volunteer
from backend.wallet.errors import NotEnoughTimeError

HelpKindEnum = strawberry.enum(HelpKind, name="HelpKind")
HelpRequestStatus = strawberry.enum(RequestStatus, name="HelpRequestStatus")
HelpReach = strawberry.enum(Reach, name="HelpReach")
HelpOfferStatus = strawberry.enum(OfferStatus, name="HelpOfferStatus")


@strawberry.type
class HelpVolunteer:
    name: str
    status: HelpOfferStatus  # type: ignore[valid-type]
    minutes_credited: int | None


@strawberry.type(name="HelpRequest", description="A request for help and who is coming.")
class HelpRequestView:
    id: strawberry.ID
    kind: HelpKindEnum  # type: ignore[valid-type]
    kind_name: str
    elder_name: str
    asked_by_name: str
    place: str = strawberry.field(description="Where: the whole address only to the elder's side and to who is going.")
    note: str
    starts_at: dt.datetime
    minutes: int
    needed: int
    status: HelpRequestStatus  # type: ignore[valid-type]
    reach: HelpReach  # type: ignore[valid-type]
    volunteers: list[HelpVolunteer] = strawberry.field(description="Who was asked and who is going (the elder's side).")
    my_answer: HelpOfferStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="A volunteer's own answer: asked, accepted, declined, too late."
    )
    confirm_code: str | None = strawberry.field(
        description="The elder's side only: the code to give the volunteer when it is done."
    )


@strawberry.type(name="VolunteerProfile")
class VolunteerView:
    skills: list[HelpKindEnum]  # type: ignore[valid-type]
    weekdays: list[int]
    from_time: str
    until_time: str
    active: bool
    answers_alarms: bool
    alarms_in_quiet_hours: bool

    @classmethod
    def of(cls, v: Volunteer) -> VolunteerView:
        return cls(
            skills=[HelpKind(k) for k in v.skills],
            weekdays=[int(ch) for ch in v.weekdays],
            from_time=f"{v.from_time:%H:%M}",
            until_time=f"{v.until_time:%H:%M}",
            active=v.active,
            answers_alarms=v.answers_alarms,
            alarms_in_quiet_hours=v.alarms_in_quiet_hours,
        )


@strawberry.type
class TimeBankEntry:
    at: dt.datetime
    minutes: int = strawberry.field(description="+ in, - out.")
    kind: str = strawberry.field(description="time_served, time_gift, time_staff_entry.")
    memo: str


@strawberry.type
class TimeBank:
    balance_minutes: int
    entries: list[TimeBankEntry]


@strawberry.type
class TimeRecorded:
    minutes: int
    balance_minutes: int


@strawberry.input
class HelpInput:
    kind: HelpKindEnum  # type: ignore[valid-type]
    starts_at: dt.datetime
    minutes: int = 60
    note: str = ""
    place: str | None = None
    needed: int = 1

    def need(self) -> service.Need:
        return service.Need(
            kind=self.kind,
            starts_at=self.starts_at,
            minutes=self.minutes,
            note=self.note,
            place=self.place,
            needed=self.needed,
        )


@strawberry.input
class VolunteerInput:
    skills: list[HelpKindEnum]  # type: ignore[valid-type]
    weekdays: list[int]
    from_time: str
    until_time: str
    active: bool = True
    answers_alarms: bool = strawberry.field(default=False, description="Call me when a neighbour raises an alarm.")
    alarms_in_quiet_hours: bool = strawberry.field(default=False, description="Even in my quiet hours.")

    def offer(self) -> service.Offer:
        return service.Offer(
            skills=list(self.skills),
            weekdays=parse_weekdays(self.weekdays),
            from_time=parse_clock(self.from_time, "fromTime"),
            until_time=parse_clock(self.until_time, "untilTime"),
            active=self.active,
            answers_alarms=self.answers_alarms,
            alarms_in_quiet_hours=self.alarms_in_quiet_hours,
        )


HelpRequestPayload = Annotated[
    HelpRequestView
    | HelpTakenError
    | HelpClosedError
    | NothingToConfirmError
    | WrongHelpCodeError
    | NotFoundError
    | InvalidInputError,
    strawberry.union("HelpRequestPayload"),
]
VolunteerPayload = Annotated[VolunteerView | NotFoundError | InvalidInputError, strawberry.union("VolunteerPayload")]
TimePayload = Annotated[
    TimeRecorded | NotEnoughTimeError | NotFoundError | InvalidInputError, strawberry.union("TimePayload")
]


async def _views(info: Info, requests: list[HelpRequest]) -> list[HelpRequestView]:
    """Requests as the asker sees them in three queries; a volunteer sees the building until
    they have said they are going (the address is the elder's, not everyone's)."""
    ctx = info.context
    actor = ctx.require_actor()
    session = ctx.session
    offers = await service.offers_of(session, [r.id for r in requests])
    names = {
        p.id: p.name
        for p in await community_repository.people_by_ids(
            session,
            sorted(
                {r.elder_id for r in requests}
                | {r.asked_by_id for r in requests}
                | {o.volunteer_id for os in offers.values() for o in os}
            ),
        )
    }
    views = []
    for r in requests:
        mine: HelpOffer | None = next((o for o in offers[r.id] if o.volunteer_id == actor.id), None)
        asker_side = mine is None and await service.asker_side(session, actor, r)
        going = mine is not None and mine.status == OfferStatus.ACCEPTED
        place = r.place if asker_side or going else await _building_of(info, r.household_id)
        views.append(
            HelpRequestView(
                id=strawberry.ID(str(r.id)),
                kind=r.kind,
                kind_name=screens.kind_name(ctx.rt.catalog, ctx.locale, r.kind),
                elder_name=names.get(r.elder_id, ""),
                asked_by_name=names.get(r.asked_by_id, ""),
                place=place,
                note=r.note,
                starts_at=r.starts_at,
                minutes=r.minutes,
                needed=r.needed,
                status=r.status,
                reach=r.reach,
                volunteers=[
                    HelpVolunteer(
                        name=names.get(o.volunteer_id, ""), status=o.status, minutes_credited=o.minutes_credited
                    )
                    for o in offers[r.id]
                ]
                if asker_side
                else [],
                my_answer=mine.status if mine is not None else None,
                confirm_code=r.confirm_code if asker_side else None,
            )
        )
    return views


async def _building_of(info: Info, household_id: int) -> str:
    household = await info.context.session.get(Household, household_id)
    building = await info.context.session.get(Building, household.building_id) if household else None
    return building.name if building else ""


async def _one(info: Info, request: HelpRequest) -> HelpRequestView:
    [view] = await _views(info, [request])
    return view


@strawberry.type
class MutualHelpQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="My requests for help (or an elder's I order for), newest first.",
    )
    async def my_help_requests(self, info: Info, person_id: strawberry.ID | None = None) -> list[HelpRequestView]:
        ctx = info.context
        rows = await service.requests_of(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        return await _views(info, list(rows))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A volunteer's list: requests I am asked to help with or going to, soonest first.",
    )
    async def help_asked_of_me(self, info: Info) -> list[HelpRequestView]:
        ctx = info.context
        rows = await service.asked_of(ctx.session, ctx.require_actor())
        return await _views(info, [r for r, _ in rows])

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="What I offer as a volunteer (null if I do not)."
    )
    async def volunteer_profile(self, info: Info) -> VolunteerView | None:
        ctx = info.context
        found = await ctx.session.get(Volunteer, ctx.require_actor().id)
        return VolunteerView.of(found) if found else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The time bank: my banked minutes (or an elder's I order for, or a resident's I serve) and the statement.",
    )
    async def time_bank(self, info: Info, person_id: strawberry.ID | None = None) -> TimeBank:
        ctx = info.context
        found = await hours.statement(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))
        return TimeBank(
            balance_minutes=found.balance_minutes,
            entries=[TimeBankEntry(at=e.at, minutes=e.minutes, kind=e.kind, memo=e.memo) for e in found.lines],
        )


@strawberry.type
class MutualHelpMutation:
    @mutation(description="Ask neighbours for help (for me, or an elder I order for): the nearest who fit are asked.")
    async def ask_for_help(
        self, info: Info, input: HelpInput, person_id: strawberry.ID | None = None
    ) -> HelpRequestPayload:
        ctx = info.context
        who = optional_id(person_id, "personId")
        request = await service.ask(
            ctx.session, ctx.rt.settings.content_dir, ctx.require_actor(), person_id=who, need=input.need()
        )
        return await _one(info, request)

    @mutation(description="I volunteer: what I can do and when (staff: for someone who volunteers in person).")
    async def set_volunteer_profile(
        self, info: Info, input: VolunteerInput, person_id: strawberry.ID | None = None
    ) -> VolunteerPayload:
        ctx = info.context
        who = optional_id(person_id, "personId")
        row = await service.set_volunteer(ctx.session, ctx.require_actor(), person_id=who, offer=input.offer())
        return VolunteerView.of(row)

    @mutation(description="A volunteer asked: I will go.")
    async def accept_help_request(self, info: Info, id: strawberry.ID) -> HelpRequestPayload:
        ctx = info.context
        return await _one(info, await service.accept(ctx.session, ctx.require_actor(), request_id=parse_id(id)))

    @mutation(description="A volunteer asked: not this time.")
    async def decline_help_request(self, info: Info, id: strawberry.ID) -> HelpRequestPayload:
        ctx = info.context
        offer = await service.decline(ctx.session, ctx.require_actor(), request_id=parse_id(id))
        request = await ctx.session.get(HelpRequest, offer.request_id)
        assert request is not None
        return await _one(info, request)

    @mutation(
        description="It was done: the elder's side confirms, or the volunteer enters the code the elder shows. Hours are credited once."
    )
    async def confirm_help_done(self, info: Info, id: strawberry.ID, code: str | None = None) -> HelpRequestPayload:
        ctx = info.context
        request = await service.confirm_by(
            ctx.session, ctx.rt.settings.content_dir, ctx.require_actor(), request_id=parse_id(id), code=code
        )
        return await _one(info, request)

    @mutation(description="Call a request off (the elder's side); whoever was going is told.")
    async def cancel_help_request(self, info: Info, id: strawberry.ID) -> HelpRequestPayload:
        ctx = info.context
        return await _one(info, await service.cancel(ctx.session, ctx.require_actor(), request_id=parse_id(id)))

    @mutation(description="Give banked minutes to my parent (an elder I am linked to as family).")
    async def give_time(
        self, info: Info, to_person_id: strawberry.ID, minutes: int, idempotency_key: str | None = None
    ) -> TimePayload:
        ctx = info.context
        to_id, content = parse_id(to_person_id, "toPersonId"), ctx.rt.settings.content_dir
        left = await hours.give(ctx.session, content, ctx.require_actor(), to_id, minutes, idempotency_key)
        return TimeRecorded(minutes=minutes, balance_minutes=left)

    @mutation(description="Staff: record minutes of help by hand for someone without a smartphone, with the reason.")
    async def record_time(
        self, info: Info, person_id: strawberry.ID, minutes: int, reason: str, idempotency_key: str | None = None
    ) -> TimePayload:
        ctx, who = info.context, parse_id(person_id, "personId")
        recorded, balance = await hours.record(
            ctx.session, ctx.rt.settings.content_dir, ctx.require_actor(), who, minutes, reason, idempotency_key
        )
        return TimeRecorded(minutes=recorded, balance_minutes=balance)
