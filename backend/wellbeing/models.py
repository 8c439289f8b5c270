"""Wellbeing (平安报): an elder's daily check-in, each day's check-in, and a missed window's
ladder of its own (lower than an alarm, never dropped)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, IdType, utcnow


class CheckInPlan(Base):
    """A daily check-in turned on for an elder: any sign of them by `by_time` (local) counts."""

    __tablename__ = "check_in_plans"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    by_time: Mapped[dt.time]
    active: Mapped[bool] = mapped_column(default=True)
    set_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CheckIn(IdMixin, Base):
    """The day's first sign that the elder is well; later ones change nothing."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("person_id", "local_day"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    local_day: Mapped[str] = mapped_column(String(10))  # in the community's zone
    at: Mapped[dt.datetime]
    # app (我很好), tv, phone (a call to the line), call (1 on the check-in call), proxy
    via: Mapped[str] = mapped_column(String(10))
    by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))  # proxy: who saw them
    note: Mapped[str] = mapped_column(String(200), default="")


class MissedCheckIn(IdMixin, Base):
    """A window that passed without a check-in, and how far its ladder has climbed."""

    __tablename__ = "missed_check_ins"
    __table_args__ = (
        UniqueConstraint("person_id", "local_day"),
        Index("ix_missed_check_ins_open", "community_id", "resolved_at"),
    )
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    local_day: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[dt.datetime]
    step: Mapped[int] = mapped_column(default=0)  # the last step taken, 1-based
    resolved_at: Mapped[dt.datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    resolved_via: Mapped[str | None] = mapped_column(String(10))
