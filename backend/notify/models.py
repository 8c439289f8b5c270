"""What a person was told, on which paths, and how they like to be told."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow

# Every path a message can take, in the order used when a person has said nothing.
PATHS = ("push", "sms", "tv", "voice")
DEFAULT_PATHS = ("push", "sms")


class Urgency(StrEnum):
    NORMAL = "normal"
    # About an alarm under way (answered, on the way, resolved): someone woken by the alarm
    # must hear how it ends, so it ignores quiet hours, but takes only the person's own paths.
    PROMPT = "prompt"
    EMERGENCY = "emergency"  # ignores quiet hours; every path is tried until one is confirmed


class NotificationState(StrEnum):
    PENDING = "pending"  # sent on a path, waiting for it to be confirmed (or for the next path)
    HELD = "held"  # quiet hours: goes out when they end
    DELIVERED = "delivered"  # a path confirmed it, or a path that cannot confirm took it
    SETTLED = "settled"  # no longer needed (the alarm was answered)
    FAILED = "failed"  # every path was tried and none took it


class NotificationSettings(Base):
    """A person's channels in their order of preference, and quiet hours (local time)."""

    __tablename__ = "notification_settings"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    paths: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_PATHS))
    quiet_start: Mapped[dt.time | None]
    quiet_end: Mapped[dt.time | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))


class Notification(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_person_created", "person_id", "created_at"),
        Index("ix_notifications_ref", "ref"),
    )
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(30))  # emergency, family, reminder, ...
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.NORMAL)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # By SMS it goes as this template with these variables ({"template", "params"}); without
    # one, as the alarm or notice template with the title and the start of the body.
    sms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What it is about ("alert:12"), so answering that thing settles every message about it.
    ref: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[NotificationState] = mapped_column(str_enum(NotificationState), default=NotificationState.PENDING)
    next_path: Mapped[int] = mapped_column(default=0)  # index into the person's paths
    delivered_at: Mapped[dt.datetime | None]
    delivered_by: Mapped[str | None] = mapped_column(String(20))
    read_at: Mapped[dt.datetime | None]


class Delivery(IdMixin, Base):
    """One attempt on one path: the person's delivery record. Never updated except to note
    that the device confirmed it."""

    __tablename__ = "deliveries"
    notification_id: Mapped[int] = mapped_column(IdType, ForeignKey("notifications.id"), index=True)
    path: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    result: Mapped[str] = mapped_column(String(20))  # sent, delivered, failed, unavailable, held
    detail: Mapped[str | None] = mapped_column(String(200))
    # The provider's id of what it took (a voice call's call id), so its report finds this.
    provider_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    confirmed_at: Mapped[dt.datetime | None]


class Reminder(IdMixin, CreatedAtMixin, Base):
    """A message at a time: once (an appointment) or every day (medicine at 08:00)."""

    __tablename__ = "reminders"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(String(200))
    next_at: Mapped[dt.datetime]
    daily: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    last_sent_at: Mapped[dt.datetime | None]
