"""Official warnings (CAP 1.2, from the local warning-release system), where each applies,
each community's policy for them, and the roll-call (bao ping'an) that asks every home whether it
is safe."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class Severity(StrEnum):
    """CAP's severities, least first: the order is the comparison."""

    UNKNOWN = "Unknown"
    MINOR = "Minor"
    MODERATE = "Moderate"
    SEVERE = "Severe"
    EXTREME = "Extreme"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class OfficialWarning(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "official_warnings"
    __table_args__ = (UniqueConstraint("sender", "identifier"),)
    sender: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(200))
    sent: Mapped[dt.datetime]
    msg_type: Mapped[str] = mapped_column(String(10))  # Alert, Update, Cancel (Ack, Error: stored, no effect)
    status: Mapped[str] = mapped_column(String(10))  # Actual is shown; Exercise, Test, System, Draft are not
    event: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[Severity] = mapped_column(str_enum(Severity), default=Severity.UNKNOWN)
    urgency: Mapped[str] = mapped_column(String(20), default="Unknown")
    certainty: Mapped[str] = mapped_column(String(20), default="Unknown")
    headline: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    instruction: Mapped[str] = mapped_column(Text, default="")
    effective: Mapped[dt.datetime | None]
    expires: Mapped[dt.datetime | None]
    area: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # areaDesc, geocodes, polygons, circles
    references: Mapped[list[str]] = mapped_column(JSON, default=list)  # "sender,identifier,sent"
    # Ended early: replaced by an Update, or called off by a Cancel.
    ended_at: Mapped[dt.datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("official_warnings.id"))


class WarningArea(Base):
    """A warning reaches a community; `shown` when it is at or above the community's threshold."""

    __tablename__ = "warning_areas"
    __table_args__ = (Index("ix_warning_areas_community", "community_id"),)
    warning_id: Mapped[int] = mapped_column(IdType, ForeignKey("official_warnings.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), primary_key=True)
    shown: Mapped[bool]


class WarningPolicy(Base):
    """A community's policy for official warnings; the defaults for a community without one."""

    __tablename__ = "warning_policies"
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), primary_key=True)
    show_from: Mapped[Severity] = mapped_column(str_enum(Severity), default=Severity.MODERATE)
    # A warning this severe starts a roll-call of the community by itself (None: never).
    roll_call_from: Mapped[Severity | None] = mapped_column(str_enum(Severity))
    roll_call_minutes: Mapped[int] = mapped_column(default=60)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))


class RollCall(IdMixin, Base):
    """报平安: every home of an area is asked whether it is safe, until a time."""

    __tablename__ = "roll_calls"
    __table_args__ = (Index("ix_roll_calls_community_open", "community_id", "closed_at"),)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    grid_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))  # None: the whole community
    started_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    warning_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("official_warnings.id"))
    reason: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answer_by: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]  # the time was up: those who had not answered were followed up


class RollCallHome(Base):
    """A home asked in a roll-call, and its answer."""

    __tablename__ = "roll_call_homes"
    roll_call_id: Mapped[int] = mapped_column(IdType, ForeignKey("roll_calls.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(IdType, ForeignKey("households.id"), primary_key=True)
    answered_at: Mapped[dt.datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    door: Mapped[str | None] = mapped_column(String(10))  # tv | app | phone | staff
