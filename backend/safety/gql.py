"""Official warnings and the roll-call over GraphQL: residents see the warnings of their
community and answer that they are safe; staff start a roll-call and see who has not answered; admins set
the community's policy for warnings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.access import rules
from backend.db import utcnow
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated, IsStaff
from backend.safety import roll_call, service
from backend.safety.models import OfficialWarning, RollCall, Severity, WarningPolicy

WarningSeverity = strawberry.enum(Severity, name="WarningSeverity")


@strawberry.type(name="OfficialWarning", description="A warning from the local warning-release system (CAP 1.2).")
class OfficialWarningView:
    id: strawberry.ID
    event: str
    severity: WarningSeverity  # type: ignore[valid-type]
    headline: str
    description: str
    instruction: str
    effective: dt.datetime | None
    expires: dt.datetime | None
    read_aloud_url: str

    @classmethod
    def of(cls, w: OfficialWarning, info: Info) -> OfficialWarningView:
        url = info.context.rt.read_aloud.url(service.words(w), locale=service.CAP_LOCALE, slow=True, shared=True)
        return cls(
            id=strawberry.ID(str(w.id)),
            event=w.event,
            severity=w.severity,
            headline=w.headline,
            description=w.description,
            instruction=w.instruction,
            effective=w.effective,
            expires=w.expires,
            read_aloud_url=url,
        )


@strawberry.type(name="WarningPolicy", description="A community's policy for official warnings.")
class WarningPolicyView:
    community_id: strawberry.ID
    show_from: WarningSeverity  # type: ignore[valid-type]
    roll_call_from: WarningSeverity | None  # type: ignore[valid-type]
    roll_call_minutes: int

    @classmethod
    def of(cls, p: WarningPolicy) -> WarningPolicyView:
        return cls(
            community_id=strawberry.ID(str(p.community_id)),
            show_from=p.show_from,
            roll_call_from=p.roll_call_from,
            roll_call_minutes=p.roll_call_minutes,
        )


@strawberry.type(description="A roll-call my home is asked in.")
class MyRollCall:
    id: strawberry.ID
    reason: str
    answer_by: dt.datetime
    answered: bool


@strawberry.type(description="A home that has not answered a roll-call yet.")
class SilentHome:
    household_id: strawberry.ID
    address: str
    names: list[str]
    phones: list[str] = strawberry.field(description="To ring them (the staff's purpose); masked in logs.")
    alone: bool = strawberry.field(description="One person lives there.")
    oldest_age: int | None


@strawberry.type(
    name="RollCall", description="A roll-call: who has answered, and who has not (living alone and oldest first)."
)
class RollCallView:
    id: strawberry.ID
    community_id: strawberry.ID
    grid_id: strawberry.ID | None
    reason: str
    started_at: dt.datetime
    answer_by: dt.datetime
    closed_at: dt.datetime | None
    asked: int
    answered: int
    not_answered: list[SilentHome]

    @classmethod
    def of(cls, s: roll_call.Standing, info: Info) -> RollCallView:
        call = s.call
        for u in s.unanswered:
            for p in u.residents:
                info.context.note_read(p.id, "phone", "roll_call")
        return cls(
            id=strawberry.ID(str(call.id)),
            community_id=strawberry.ID(str(call.community_id)),
            grid_id=strawberry.ID(str(call.grid_id)) if call.grid_id else None,
            reason=call.reason,
            started_at=call.started_at,
            answer_by=call.answer_by,
            closed_at=call.closed_at,
            asked=s.asked,
            answered=s.answered,
            not_answered=[
                SilentHome(
                    household_id=strawberry.ID(str(u.household.id)),
                    address=u.household.address,
                    names=[p.name for p in u.residents],
                    phones=[p.phone for p in u.residents],
                    alone=u.alone,
                    oldest_age=u.oldest_age,
                )
                for u in s.unanswered
            ],
        )


RollCallPayload = Annotated[RollCallView | NotFoundError | InvalidInputError, strawberry.union("RollCallPayload")]
AnswerRollCallPayload = Annotated[MyRollCall | NotFoundError, strawberry.union("AnswerRollCallPayload")]
WarningPolicyPayload = Annotated[WarningPolicyView | InvalidInputError, strawberry.union("WarningPolicyPayload")]


def _mine(call: RollCall, answered: bool) -> MyRollCall:
    return MyRollCall(id=strawberry.ID(str(call.id)), reason=call.reason, answer_by=call.answer_by, answered=answered)


@strawberry.type
class SafetyQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Official warnings in force where I live.")
    async def official_warnings(self, info: Info) -> list[OfficialWarningView]:
        ctx = info.context
        community_id = rules.home_community_id(ctx.require_actor())
        if community_id is None:
            return []
        return [OfficialWarningView.of(w, info) for w in await service.shown_now(ctx.session, community_id, utcnow())]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Roll-calls my home is asked in now.")
    async def my_roll_calls(self, info: Info) -> list[MyRollCall]:
        ctx = info.context
        household_id = ctx.require_actor().person.household_id
        if household_id is None:
            return []
        found = await roll_call.open_for_home(ctx.session, household_id)
        return [_mine(call, home.answered_at is not None) for call, home in found]

    @strawberry.field(
        permission_classes=[IsStaff], description="Staff: a roll-call and the homes that have not answered."
    )
    async def roll_call(self, info: Info, id: strawberry.ID) -> RollCallView:
        ctx = info.context
        standing = await roll_call.standing(ctx.session, ctx.rt.settings, ctx.require_actor(), parse_id(id))
        return RollCallView.of(standing, info)

    @strawberry.field(permission_classes=[IsStaff], description="Staff: the community's roll-calls still open.")
    async def open_roll_calls(self, info: Info, community_id: strawberry.ID) -> list[RollCallView]:
        ctx = info.context
        actor = ctx.require_actor()
        calls = await roll_call.open_calls(ctx.session, actor, parse_id(community_id, "communityId"))
        return [
            RollCallView.of(await roll_call.standing(ctx.session, ctx.rt.settings, actor, c.id), info) for c in calls
        ]


@strawberry.type
class SafetyMutation:
    @mutation(
        permissions=[IsStaff], description="Staff: ask every home of my community (or one grid) whether it is safe."
    )
    async def start_roll_call(
        self,
        info: Info,
        community_id: strawberry.ID,
        reason: str,
        minutes: int = 60,
        grid_id: strawberry.ID | None = None,
    ) -> RollCallPayload:
        ctx, actor = info.context, info.context.require_actor()
        call = await roll_call.start(
            ctx.session,
            community_id=parse_id(community_id, "communityId"),
            grid_id=optional_id(grid_id, "gridId"),
            minutes=minutes,
            reason=reason,
            started_by=actor,
        )
        return RollCallView.of(await roll_call.standing(ctx.session, ctx.rt.settings, actor, call.id), info)

    @mutation(description="My home is safe (the answer to a roll-call).")
    async def answer_roll_call(self, info: Info, roll_call_id: strawberry.ID) -> AnswerRollCallPayload:
        ctx = info.context
        call = await roll_call.answer_by(ctx.session, ctx.require_actor(), parse_id(roll_call_id, "rollCallId"))
        return _mine(call, True)

    @mutation(
        permissions=[IsStaff], description="Staff: which warnings show here, and which start a roll-call by themselves."
    )
    async def set_warning_policy(
        self,
        info: Info,
        community_id: strawberry.ID,
        show_from: WarningSeverity,  # type: ignore[valid-type]
        roll_call_from: WarningSeverity | None = None,  # type: ignore[valid-type]
        roll_call_minutes: int = 60,
    ) -> WarningPolicyPayload:
        ctx = info.context
        row = await service.set_policy(
            ctx.session,
            ctx.require_actor(),
            community_id=parse_id(community_id, "communityId"),
            show_from=show_from,
            roll_call_from=roll_call_from,
            roll_call_minutes=roll_call_minutes,
        )
        return WarningPolicyView.of(row)
