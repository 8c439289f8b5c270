"""The phone line's records: each call (its run through the pipeline, as events the staff can
read) and the call-back requests callers leave. No audio is kept; the phrase the line
recognised is, as the evidence of what it understood."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, IdType, str_enum, utcnow


class Direction(StrEnum):
    IN = "in"  # the caller rang the community's line
    OUT = "out"  # the line rang a person to give them a message


class CallbackFor(StrEnum):
    FAMILY = "family"
    CENTRE = "centre"  # the service centre of the community


class PhoneCall(IdMixin, Base):
    __tablename__ = "phone_calls"
    # The exchange's id of the call: the AudioSocket UUID, the media stream's call id.
    call_ref: Mapped[str] = mapped_column(String(64), unique=True)
    bridge: Mapped[str] = mapped_column(String(20))  # "audiosocket", "stream"
    direction: Mapped[Direction] = mapped_column(str_enum(Direction), default=Direction.IN)
    # The number is kept only while the call lasts (a call-back request keeps its own copy).
    caller: Mapped[str | None] = mapped_column(String(20))
    caller_masked: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(30))  # how it ended: hung_up, goodbye, silent, ...
    # A call out: the message it carries, by the provider reference its delivery attempt names.
    message_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    message: Mapped[dict[str, object] | None] = mapped_column(JSON)


class PhoneCallEvent(IdMixin, Base):
    """One turn of a call: the question, what was heard or keyed, the answer, what was said,
    and how long each stage of the pipeline took. Never updated."""

    __tablename__ = "phone_call_events"
    call_id: Mapped[int] = mapped_column(IdType, ForeignKey("phone_calls.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))  # "turn", "action", "error"
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class CallbackRequest(IdMixin, Base):
    """A caller asked a person to ring them back (or went silent): open until someone marks it done."""

    __tablename__ = "callback_requests"
    __table_args__ = (Index("ix_callback_requests_open", "community_id", "done_at"),)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    person_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))  # whom to call back: the purpose of keeping it
    asked_of: Mapped[CallbackFor] = mapped_column(str_enum(CallbackFor))
    reason: Mapped[str] = mapped_column(String(20))  # "asked", "silent"
    call_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("phone_calls.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
