"""The emergency room's personal data (backend.personal): her alarms and their story."""

from __future__ import annotations

from sqlalchemy import select

from backend.emergency.models import Alert, AlertEvent, EscalationPolicy
from backend.personal import Declared, Erase, Held, NotPersonal

DATA: tuple[Declared, ...] = (
    Held(
        Alert,
        "alarms",
        why="each alarm she raised: when, from which door, who answered, how it ended",
        about=("person_id",),
        acting=("acknowledged_by_id", "en_route_by_id", "arrived_by_id", "closed_by_id"),
        words=("note",),
        secret=("idempotency_key",),
        erase=Erase.FORGET,
        blank={"note": None, "household_id": None},
        kept="kept without her name, address or notes for LINLI_RETENTION_DAYS (responders answer for their part), then deleted",
        notice_key="alertId",
    ),
    Held(
        AlertEvent,
        "alarm_timelines",
        why="each step of her alarms: raised, told, answered, escalated",
        rows=lambda pid: AlertEvent.alert_id.in_(select(Alert.id).where(Alert.person_id == pid)),
        acting=("actor_id",),
        words=("detail",),
        erase=Erase.FORGET,
        blank={"detail": {}},
        kept="as her alarms: without details, then deleted",
    ),
    NotPersonal(EscalationPolicy, "a community's escalation settings", acting=("updated_by_id",)),
)
