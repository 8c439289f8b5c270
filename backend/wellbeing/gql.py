"""The daily check-in over GraphQL: turn it on, check in (or vouch for someone), the daily
line family see, and the missed windows staff follow up; the visits are in visits_gql."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.gql.base import mutation, optional_id, parse_clock, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated
from backend.wellbeing import quiet_home, screens, service
from backend.wellbeing.errors import NoCheckInPlanError
from backend.wellbeing.models import CheckIn, CheckInPlan, HomeSensor
from backend.wellbeing.visits_gql import VisitMutation, VisitQuery


@strawberry.type(name="CheckInPlan", description="The elder's daily check-in.")
class CheckInPlanView:
    by_time: str = strawberry.field(description="Any sign of the elder by this local time counts (10:00).")
    active: bool

    @classmethod
    def of(cls, plan: CheckInPlan) -> CheckInPlanView:
        return cls(by_time=f"{plan.by_time:%H:%M}", active=plan.active)


@strawberry.type(description="How today stands, in one line: not a stream of everything.")
class WellbeingToday:
    planned: bool
    by_time: str | None
    checked_in_at: dt.datetime | None
    via: str | None = strawberry.field(description="app, tv, phone, call, proxy.")
    missed: bool = strawberry.field(description="The window passed without a check-in and is being followed up.")
    line: str
    read_aloud_url: str


@strawberry.type
class CheckedIn:
    at: dt.datetime
    via: str


@strawberry.type(description="A missed window, quiet home or band reading still open: the elder to look in on.")
class MissedCheckInView:
    id: strawberry.ID
    person_id: strawberry.ID
    name: str
    address: str
    kind: str = strawberry.field(
        description="window, quiet:<electricity|water|door|tv>, vitals:<heart_rate|blood_oxygen>"
    )
    day: str
    since: dt.datetime
    step: int

    @classmethod
    def of(cls, m: screens.Missed) -> MissedCheckInView:
        return cls(
            id=strawberry.ID(str(m.id)),
            person_id=strawberry.ID(str(m.person_id)),
            name=m.name,
            address=m.address,
            kind=m.kind,
            day=m.day,
            since=m.since,
            step=m.step,
        )


@strawberry.type(name="HomeSensor", description="A device bound to a home.")
class HomeSensorView:
    id: strawberry.ID
    household_id: strawberry.ID
    source: str
    device: str
    kind: str

    @classmethod
    def of(cls, sensor: HomeSensor) -> HomeSensorView:
        return cls(
            id=strawberry.ID(str(sensor.id)),
            household_id=strawberry.ID(str(sensor.household_id)),
            source=sensor.source,
            device=sensor.device,
            kind=sensor.kind,
        )


@strawberry.type(name="HomeAway", description="A home marked away until a day (null: at home).")
class HomeAwayView:
    household_id: strawberry.ID
    until: dt.date | None
    reason: str


HomeSensorPayload = Annotated[HomeSensorView | NotFoundError | InvalidInputError, strawberry.union("HomeSensorPayload")]
HomeAwayPayload = Annotated[HomeAwayView | NotFoundError | InvalidInputError, strawberry.union("HomeAwayPayload")]
CheckInPlanPayload = Annotated[
    CheckInPlanView | NotFoundError | InvalidInputError, strawberry.union("CheckInPlanPayload")
]
CheckInPayload = Annotated[
    CheckedIn | NoCheckInPlanError | NotFoundError | InvalidInputError, strawberry.union("CheckInPayload")
]


def _checked(row: CheckIn | service.Checked) -> CheckedIn:
    return CheckedIn(at=row.at, via=row.via)


@strawberry.type
class WellbeingQuery(VisitQuery):
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Today's check-in of me (or an elder whose wellbeing I may see: view_wellbeing).",
    )
    async def wellbeing_today(self, info: Info, person_id: strawberry.ID | None = None) -> WellbeingToday:
        ctx = info.context
        rt, who = ctx.rt, optional_id(person_id, "personId")
        today = await screens.today(ctx.session, ctx.require_actor(), who, rt.catalog, ctx.locale, rt.settings.zone)
        return WellbeingToday(**vars(today), read_aloud_url=rt.read_aloud.url(today.line, locale=ctx.locale, slow=True))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Staff: the missed check-ins still open in the community, the oldest first.",
    )
    async def missed_check_ins(self, info: Info, community_id: strawberry.ID) -> list[MissedCheckInView]:
        ctx = info.context
        rows = await screens.missed(ctx.session, ctx.require_actor(), parse_id(community_id, "communityId"))
        return [MissedCheckInView.of(m) for m in rows]


@strawberry.type
class WellbeingMutation(VisitMutation):
    @mutation(description="Turn the daily check-in on or off (the elder, family managing settings, staff).")
    async def set_check_in_plan(
        self, info: Info, active: bool, by_time: str | None = None, person_id: strawberry.ID | None = None
    ) -> CheckInPlanPayload:
        ctx = info.context
        plan = await service.set_plan(
            ctx.session,
            ctx.rt.settings.content_dir,
            ctx.require_actor(),
            person_id=optional_id(person_id, "personId"),
            by_time=parse_clock(by_time, "byTime") if by_time else None,
            active=active,
        )
        return CheckInPlanView.of(plan)

    @mutation(
        description="I am well: my check-in; or, for someone else, that I saw them and they are well (staff, family, a neighbour of the building)."
    )
    async def check_in(
        self, info: Info, person_id: strawberry.ID | None = None, note: str | None = None
    ) -> CheckInPayload:
        ctx = info.context
        row = await service.check_in_by(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"), note=note or ""
        )
        return _checked(row)

    @mutation(
        description="Staff: bind a smart meter or door sensor (electricity, water, door) to a home; sender: who reports it."
    )
    async def bind_home_sensor(
        self, info: Info, household_id: strawberry.ID, sender: str, device: str, kind: str
    ) -> HomeSensorPayload:
        ctx = info.context
        sensor = await quiet_home.bind_sensor(
            ctx.session,
            ctx.require_actor(),
            household_id=parse_id(household_id, "householdId"),
            source=sender,
            device=device,
            kind=kind,
        )
        return HomeSensorView.of(sensor)

    @mutation(
        description="The home is away until a day (hospital, visiting family): its quiet raises nothing. No day: back home."
    )
    async def mark_home_away(
        self, info: Info, household_id: strawberry.ID, until: dt.date | None = None, reason: str = ""
    ) -> HomeAwayPayload:
        ctx = info.context
        home_id = parse_id(household_id, "householdId")
        row = await quiet_home.mark_away(
            ctx.session, ctx.require_actor(), household_id=home_id, until=until, reason=reason
        )
        return HomeAwayView(
            household_id=strawberry.ID(str(home_id)), until=row.until if row else None, reason=row.reason if row else ""
        )
