"""The phone line in the staff console: recent calls with each turn of the pipeline, and the
call-back requests callers left, open until someone marks them done."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, cast

import strawberry
from strawberry.types import Info

from backend.gql.base import mutation, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsStaff
from backend.phone import service
from backend.phone.models import CallbackFor, CallbackRequest, Direction, PhoneCall, PhoneCallEvent

CallDirection = strawberry.enum(Direction, name="CallDirection")
CallbackAskedOf = strawberry.enum(CallbackFor, name="CallbackAskedOf")


@strawberry.type(
    description="One turn of a call: the question, what was heard or keyed, what was done and said, and how long each stage took."
)
class PhoneTurn:
    at: dt.datetime
    kind: str
    detail: strawberry.scalars.JSON

    @classmethod
    def of(cls, e: PhoneCallEvent) -> PhoneTurn:
        return cls(at=e.at, kind=e.kind, detail=cast(Any, e.detail))  # JSON: any shape


@strawberry.type(description="A call on the community's line. The number is shown masked; no audio is kept.")
class PhoneCallView:
    id: strawberry.ID
    direction: CallDirection  # type: ignore[valid-type]
    caller_masked: str
    person_id: strawberry.ID | None
    locale: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    outcome: str | None
    turns: list[PhoneTurn]

    @classmethod
    def of(cls, call: PhoneCall, events: list[PhoneCallEvent]) -> PhoneCallView:
        return cls(
            id=strawberry.ID(str(call.id)),
            direction=call.direction,
            caller_masked=call.caller_masked,
            person_id=strawberry.ID(str(call.person_id)) if call.person_id is not None else None,
            locale=call.locale,
            started_at=call.started_at,
            ended_at=call.ended_at,
            outcome=call.outcome,
            turns=[PhoneTurn.of(e) for e in events],
        )


@strawberry.type(name="CallbackRequest", description="A caller asked to be rung back.")
class CallbackRequestView:
    id: strawberry.ID
    phone: str = strawberry.field(description="The number to ring back (kept for this purpose only).")
    person_id: strawberry.ID | None
    person_name: str | None = strawberry.field(description="Who rang, when the number is someone's.")
    asked_of: CallbackAskedOf  # type: ignore[valid-type]
    reason: str = strawberry.field(
        description="asked: the caller pressed 0; silent: the line heard nothing; alarm: a number nobody knows asked for help."
    )
    requested_at: dt.datetime
    done_at: dt.datetime | None
    done_by_id: strawberry.ID | None

    @classmethod
    def of(cls, r: CallbackRequest, person_name: str | None = None) -> CallbackRequestView:
        return cls(
            id=strawberry.ID(str(r.id)),
            phone=r.phone,
            person_id=strawberry.ID(str(r.person_id)) if r.person_id is not None else None,
            person_name=person_name,
            asked_of=r.asked_of,
            reason=r.reason,
            requested_at=r.requested_at,
            done_at=r.done_at,
            done_by_id=strawberry.ID(str(r.done_by_id)) if r.done_by_id is not None else None,
        )


MarkCallbackDonePayload = Annotated[
    CallbackRequestView | NotFoundError | InvalidInputError, strawberry.union("MarkCallbackDonePayload")
]


@strawberry.type
class PhoneQuery:
    @strawberry.field(permission_classes=[IsStaff], description="Staff: the latest calls on my community's line.")
    async def phone_calls(self, info: Info, community_id: strawberry.ID, first: int = 20) -> list[PhoneCallView]:
        ctx = info.context
        found = await service.recent_calls(
            ctx.session, ctx.require_actor(), parse_id(community_id, "communityId"), limit=min(max(first, 1), 100)
        )
        return [PhoneCallView.of(call, events) for call, events in found]

    @strawberry.field(
        permission_classes=[IsStaff],
        description="Staff: call-back requests nobody has marked done, in one community or all I serve.",
    )
    async def callback_requests(
        self, info: Info, community_id: strawberry.ID | None = None
    ) -> list[CallbackRequestView]:
        ctx = info.context
        cid = parse_id(community_id, "communityId") if community_id is not None else None
        found = await service.open_callbacks(ctx.session, ctx.require_actor(), cid)
        return [CallbackRequestView.of(r, name) for r, name in found]


@strawberry.type
class PhoneMutation:
    @mutation(permissions=[IsStaff], description="Staff: I rang this caller back.")
    async def mark_callback_done(self, info: Info, id: strawberry.ID) -> MarkCallbackDonePayload:
        ctx = info.context
        return CallbackRequestView.of(await service.mark_callback_done(ctx.session, ctx.require_actor(), parse_id(id)))
