"""The health room's personal data (backend.personal): health data under separate consent."""

from __future__ import annotations

from backend.health.models import BandFix, EmergencyProfile, HealthAccess, HealthConsent, VitalLimits, VitalSign
from backend.personal import Declared, Erase, Held

DATA: tuple[Declared, ...] = (
    Held(
        HealthConsent,
        "health_consents",
        why="her separate consents to health data (profile, location, vitals): when, how, withdrawn",
        about=("person_id",),
        acting=("recorded_by_id", "withdrawn_by_id"),
        erase=Erase.FORGET,
        kept="kept as proof of consent for LINLI_RETENTION_DAYS, then deleted",
    ),
    Held(
        EmergencyProfile,
        "health_profile",
        why="what responders need in an alarm (conditions, allergies, medicines), with her consent",
        about=("person_id",),
        acting=("updated_by_id",),
        words=("conditions", "allergies", "medicines", "notes"),
    ),
    Held(
        HealthAccess,
        "health_access_log",
        why="who read her health data and why",
        about=("person_id",),
        acting=("reader_id",),
        erase=Erase.FORGET,
        kept="kept for LINLI_RETENTION_DAYS (readers answer for their reads), then deleted",
    ),
    Held(BandFix, "band_locations", why="where her band was at an alarm, with her consent", about=("person_id",)),
    Held(
        VitalLimits,
        "vital_limits",
        why="her own limits for heart rate and oxygen",
        about=("person_id",),
        acting=("set_by_id",),
    ),
    Held(
        VitalSign,
        "vital_signs_out_of_range",
        why="band readings outside her limits, with her consent",
        about=("person_id",),
    ),
)
