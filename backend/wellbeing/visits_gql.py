"""Visits (巡访关爱) over GraphQL, for staff: the visit plan (the worker's grid or the whole
community, the overdue on top), a visit or phone greeting recorded in a few taps, a follow-up
marked done, and a home's own quiet rule."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import clock
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.pagination import PageInfo, positioned_page
from backend.gql.permissions import IsAuthenticated
from backend.wellbeing import quiet_home, visits
from backend.wellbeing.models import Visit


@strawberry.type(name="Visit", description="A visit or phone greeting.")
class VisitView:
    id: strawberry.ID
    kind: str = strawberry.field(description="visit or call")
    how: str = strawberry.field(description="well, unwell, not_reached (not home, no answer)")
    at: dt.datetime
    by_name: str | None
    note: str
    follow_up: str
    follow_up_done_at: dt.datetime | None


async def _visit(info: Info, v: Visit | None) -> VisitView | None:
    if v is None:
        return None
    (by_name,) = await info.context.loaders.names_of([v.by_id])
    return VisitView(
        id=strawberry.ID(str(v.id)),
        kind=v.kind,
        how=v.how,
        at=v.at,
        by_name=by_name,
        note=v.note,
        follow_up=v.follow_up,
        follow_up_done_at=v.follow_up_done_at,
    )


@strawberry.type(description="An elder on the visit plan: when she is due, why more often, what was last seen.")
class VisitDue:
    due: strawberry.Private[visits.Due]

    @strawberry.field
    def person_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.due.person.id))

    @strawberry.field
    def name(self) -> str:
        return self.due.person.name

    @strawberry.field
    def age(self, info: Info) -> int | None:
        return self.due.person.age(clock.today(info.context.rt.settings.zone))

    @strawberry.field(description="For a phone greeting; the read is in the elder's access log.")
    def phone(self, info: Info) -> str:
        info.context.note_read(self.due.person.id, "phone", "visits")
        return self.due.person.phone

    @strawberry.field(description="Where to visit; the read is in the elder's access log.")
    def address(self, info: Info) -> str:
        info.context.note_read(self.due.person.id, "address", "visits")
        return self.due.household.address if self.due.household else ""

    @strawberry.field
    def grid_id(self) -> strawberry.ID | None:
        return strawberry.ID(str(self.due.grid_id)) if self.due.grid_id else None

    @strawberry.field(
        description="alone, old (80 or over), alert (a recent check-in, quiet-home or band alert), no_show."
    )
    def risks(self) -> list[str]:
        return list(self.due.risks)

    @strawberry.field(description="Why she is visited more often, in words.")
    def risk_words(self, info: Info) -> list[str]:
        ctx = info.context
        return [ctx.rt.catalog.text(ctx.locale, f"wellbeing.risk.{r}") for r in self.due.risks]

    @strawberry.field
    def every_days(self) -> int:
        return self.due.every_days

    @strawberry.field(description="Today when never visited.")
    def due_on(self) -> dt.date:
        return self.due.due_on

    @strawberry.field
    def overdue_days(self) -> int:
        return self.due.overdue_days

    @strawberry.field(description="The last visit or call that reached her.")
    async def last_visit(self, info: Info) -> VisitView | None:
        return await _visit(info, self.due.last)

    @strawberry.field(description="The last attempt, reached or not.")
    async def last_try(self, info: Info) -> VisitView | None:
        return await _visit(info, self.due.last_try)

    @strawberry.field(description="The latest follow-up not yet done.")
    async def open_follow_up(self, info: Info) -> VisitView | None:
        return await _visit(info, self.due.open_follow_up)


@strawberry.type(description="A page of the visit plan, and how many are on it in all.")
class VisitPlanPage:
    nodes: list[VisitDue]
    page_info: PageInfo
    total: int = strawberry.field(description="Elders on the plan as asked, every page.")
    overdue: int = strawberry.field(description="Of them, past their due day.")


@strawberry.type
class VisitRecorded:
    visit: VisitView
    checked_in: bool = strawberry.field(
        description="She was seen: any alert about her stopped, and today's check-in is kept if she has a plan."
    )
    health_note_kept: bool | None = strawberry.field(
        description="The health note went into her profile (false: she has not consented; null: none given)."
    )


@strawberry.type(description="A home's own quiet time for one kind (null hours: the community's).")
class HomeQuietRuleView:
    household_id: strawberry.ID
    kind: str
    quiet_hours: int | None


VisitPayload = Annotated[VisitRecorded | NotFoundError | InvalidInputError, strawberry.union("VisitPayload")]
FollowUpPayload = Annotated[VisitView | NotFoundError, strawberry.union("FollowUpPayload")]
HomeQuietRulePayload = Annotated[
    HomeQuietRuleView | NotFoundError | InvalidInputError, strawberry.union("HomeQuietRulePayload")
]


@strawberry.type
class VisitQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Staff: the visit plan of the community (one grid; mine: the grids I look after), the longest overdue first.",
    )
    async def visit_plan(
        self,
        info: Info,
        community_id: strawberry.ID,
        grid_id: strawberry.ID | None = None,
        overdue_only: bool = False,
        mine: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> VisitPlanPage:
        """A page at a time: each entry's phone and address is a read in her access log."""
        ctx = info.context
        found = await visits.plan(
            ctx.session,
            ctx.require_actor(),
            community_id=parse_id(community_id, "communityId"),
            content_dir=ctx.rt.settings.content_dir,
            grid_id=optional_id(grid_id, "gridId"),
            mine=mine,
            overdue_only=overdue_only,
        )
        page, info_ = positioned_page(found, visits.position, 5, first, after)
        overdue = sum(1 for d in found if d.overdue_days)
        return VisitPlanPage(nodes=[VisitDue(due=d) for d in page], page_info=info_, total=len(found), overdue=overdue)


@strawberry.type
class VisitMutation:
    @mutation(description="Staff: a visit or phone greeting, how she was, a note, anything to follow up.")
    async def record_visit(
        self,
        info: Info,
        person_id: strawberry.ID,
        kind: str,
        how: str,
        note: str = "",
        follow_up: str = "",
        health_note: str = "",
    ) -> VisitPayload:
        ctx = info.context
        done = await visits.record(
            ctx.session,
            ctx.require_actor(),
            person_id=parse_id(person_id, "personId"),
            kind=kind,
            how=how,
            note=note,
            follow_up=follow_up,
            health_note=health_note,
        )
        view = await _visit(info, done.visit)
        assert view is not None
        return VisitRecorded(visit=view, checked_in=done.checked_in, health_note_kept=done.health_note_kept)

    @mutation(description="Staff: the follow-up of a visit is done.")
    async def mark_follow_up_done(self, info: Info, visit_id: strawberry.ID) -> FollowUpPayload:
        ctx = info.context
        visit = await visits.follow_up_done(ctx.session, ctx.require_actor(), visit_id=parse_id(visit_id, "visitId"))
        view = await _visit(info, visit)
        assert view is not None
        return view

    @mutation(description="Staff: a home's own quiet time for a kind (2 to 168 hours); no hours: the community's.")
    async def set_home_quiet_rule(
        self, info: Info, household_id: strawberry.ID, kind: str, quiet_hours: int | None = None
    ) -> HomeQuietRulePayload:
        ctx = info.context
        home_id = parse_id(household_id, "householdId")
        row = await quiet_home.set_quiet_rule(
            ctx.session, ctx.require_actor(), household_id=home_id, kind=kind, quiet_hours=quiet_hours
        )
        return HomeQuietRuleView(
            household_id=strawberry.ID(str(home_id)), kind=kind, quiet_hours=row.quiet_hours if row else None
        )
