"""Health data under PIPL: the emergency profile responders see, the band's location at an
alarm and its vital signs out of the elder's limits, the elder's separate consent to each, and
the log of every read."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

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


class ConsentScope(StrEnum):
    """Each is its own consent (PIPL: sensitive data, separately agreed)."""

    PROFILE = "profile"  # the emergency profile
    LOCATION = "location"  # the band's location when it raises an alarm
    VITALS = "vitals"  # heart rate and blood oxygen from the band, judged against limits


class HealthConsent(IdMixin, Base):
    """The elder's separate consent to one scope of health data; withdrawing erases it."""

    __tablename__ = "health_consents"
    __table_args__ = (Index("ix_health_consents_person", "person_id", "withdrawn_at"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    scope: Mapped[str] = mapped_column(String(20), default=ConsentScope.PROFILE, server_default="profile")
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


class BandFix(IdMixin, Base):
    """Where the band was when it raised an alarm (whereabouts: kept only with the location
    consent, erased with it, every read logged)."""

    __tablename__ = "band_fixes"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40), index=True)  # alert:<id>
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[int | None]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class VitalLimits(Base):
    """An elder's own limits for the band's vital signs (else the community's defaults)."""

    __tablename__ = "vital_limits"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    heart_low: Mapped[int]
    heart_high: Mapped[int]
    oxygen_low: Mapped[int]
    set_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class VitalSign(IdMixin, Base):
    """A reading outside the elder's limits: the only readings kept (in-range ones are judged
    and dropped), and only for the readings' retention."""

    __tablename__ = "vital_signs"
    __table_args__ = (Index("ix_vital_signs_person", "person_id", "at"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(20))  # heart_rate (per minute), blood_oxygen (%)
    value: Mapped[int]
    side: Mapped[str] = mapped_column(String(4))  # high, low
    limit: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
