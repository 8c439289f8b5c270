"""Wellbeing (平安报): an elder's daily check-in, each day's check-in, a missed window's
ladder of its own (lower than an alarm, never dropped); the home's sensors, whether each
hour saw any use (the baseline's only record, kept for a while), and homes marked away."""

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
    """A window that passed without a check-in, a home gone quiet against its usual day
    (`kind` quiet:<signal>), or a band's vital sign outside the limits (vitals:<sign>), with
    the reason in words, and how far its ladder has climbed."""

    __tablename__ = "missed_check_ins"
    __table_args__ = (
        UniqueConstraint("person_id", "local_day", "kind"),
        Index("ix_missed_check_ins_open", "community_id", "resolved_at"),
    )
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    local_day: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20), default="window")  # window, quiet:water, vitals:heart_rate
    quiet_since: Mapped[dt.datetime | None]  # a quiet home: the end of the last hour of use
    # vitals:<sign>: the reading outside the limits (no foreign key: withdrawing the vitals
    # consent erases the reading, the alert stays with its reason in general words).
    sign_id: Mapped[int | None] = mapped_column(IdType)
    started_at: Mapped[dt.datetime]
    step: Mapped[int] = mapped_column(default=0)  # the last step taken, 1-based
    resolved_at: Mapped[dt.datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    resolved_via: Mapped[str | None] = mapped_column(String(10))


class HomeSensor(IdMixin, Base):
    """A smart meter, door sensor or the like, bound to a home by staff."""

    __tablename__ = "home_sensors"
    __table_args__ = (UniqueConstraint("source", "device"),)
    household_id: Mapped[int] = mapped_column(IdType, ForeignKey("households.id"), index=True)
    source: Mapped[str] = mapped_column(String(60))  # who reports it (a signed webhook sender)
    device: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # electricity, water, door (tv: the portal's use)
    bound_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    bound_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class HomeHour(Base):
    """Whether an hour saw any use of one kind in a home: all the baseline keeps of the
    readings (PIPL minimum necessary), deleted after the retention."""

    __tablename__ = "home_hours"
    __table_args__ = (Index("ix_home_hours_hour", "hour"),)
    household_id: Mapped[int] = mapped_column(IdType, ForeignKey("households.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(primary_key=True)  # UTC, on the hour
    local_hour: Mapped[int]  # 0-23 in the community's zone: the baseline is per hour of day
    readings: Mapped[int] = mapped_column(default=0)
    used: Mapped[bool] = mapped_column(default=False)


class HomeAway(Base):
    """A home marked away (hospital, visiting family) until a day: quiet is expected."""

    __tablename__ = "home_away"
    household_id: Mapped[int] = mapped_column(IdType, ForeignKey("households.id"), primary_key=True)
    until: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(100), default="")
    set_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))


class HomeQuietRule(Base):
    """A home's own quiet time for one kind, in place of the community's (a night worker's
    flat, a meter that reads once a day)."""

    __tablename__ = "home_quiet_rules"
    household_id: Mapped[int] = mapped_column(IdType, ForeignKey("households.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    quiet_hours: Mapped[int]
    set_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Visit(IdMixin, Base):
    """A grid worker's visit or phone greeting (巡访关爱): how the elder was, and anything to
    follow up. Not reached (not home, no answer) keeps the visit due."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_person", "person_id", "at"), Index("ix_visits_community", "community_id", "at"))
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(10))  # visit, call
    how: Mapped[str] = mapped_column(String(12))  # well, unwell, not_reached
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")
    follow_up: Mapped[str] = mapped_column(String(200), default="")  # what someone should still do
    follow_up_done_at: Mapped[dt.datetime | None]
