"""Alarms (one press of the emergency button) and their timelines."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, IdType, str_enum, utcnow


class AlertSource(StrEnum):
    APP = "app"
    TV = "tv"
    VOICE = "voice"
    BAND = "band"
    FALL = "fall"  # the band detected a fall (疑似跌倒)
    VITALS = "vitals"  # a vital sign outside the elder's limits, where the policy makes it an alarm
    STAFF = "staff"


class AlertStatus(StrEnum):
    OPEN = "open"  # nobody has answered yet: escalation runs
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"  # a responder is with the elder
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


LIVE_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.EN_ROUTE, AlertStatus.ARRIVED)


class Outcome(StrEnum):
    FALSE_ALARM = "false_alarm"
    HELPED_ON_SITE = "helped_on_site"
    TO_HOSPITAL = "to_hospital"
    OTHER = "other"


class Alert(IdMixin, Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_person_status", "person_id", "status"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("households.id"))
    source: Mapped[AlertSource] = mapped_column(str_enum(AlertSource))
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus), default=AlertStatus.OPEN)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    presses: Mapped[int] = mapped_column(default=1)
    tier: Mapped[int] = mapped_column(default=1)
    # When responders were last told (a second press tells them again, once a minute at most).
    notified_at: Mapped[dt.datetime | None]
    # Past the last tier with nobody answering: repeated to every tier until someone does.
    unanswered_at: Mapped[dt.datetime | None]
    call_emergency_services: Mapped[bool] = mapped_column(default=False)
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    en_route_at: Mapped[dt.datetime | None]
    en_route_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    arrived_at: Mapped[dt.datetime | None]
    arrived_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome))
    note: Mapped[str | None] = mapped_column(Text)


class AlertEvent(IdMixin, Base):
    """The timeline: raised, pressed again, each notification and its result, escalations,
    acknowledgement, en route, resolution. Never updated, never deleted."""

    __tablename__ = "alert_events"
    alert_id: Mapped[int] = mapped_column(IdType, ForeignKey("alerts.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class EscalationPolicy(Base):
    """A community's own escalation policy, set by its staff; without one, the default from
    content/emergency applies."""

    __tablename__ = "escalation_policies"
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), primary_key=True)
    tiers: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    en_route_timeout_s: Mapped[int]
    repeat_every_s: Mapped[int | None]  # after the last tier; None: the default (5 minutes)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
