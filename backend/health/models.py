"""Health data under PIPL: the emergency profile responders see, the elder's separate consent
to keep it, and the log of every read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, IdType, utcnow


class EmergencyProfile(Base):
    """What responders need to know about an elder's health. Health data (PIPL: sensitive):
    kept only while the elder's separate consent stands, and every read is logged."""

    __tablename__ = "emergency_profiles"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    conditions: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    medicines: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # "lives alone, spare key with 302"
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))


class HealthConsent(IdMixin, Base):
    """The elder's separate consent to keep an emergency profile; withdrawing erases it."""

    __tablename__ = "health_consents"
    __table_args__ = (Index("ix_health_consents_person", "person_id", "withdrawn_at"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # "app" (the elder agreed on their own phone) or "in_person" (staff witnessed it).
    method: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))


class HealthAccess(IdMixin, Base):
    """One read of someone's health data: who, whose, when, and why."""

    __tablename__ = "health_access_log"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    reader_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    purpose: Mapped[str] = mapped_column(String(60))  # "alert:12", "self", "update"
