"""The notify room's personal data (backend.personal): what she was told, and how."""

from __future__ import annotations

from sqlalchemy import select

from backend.notify.models import Delivery, Notification, NotificationSettings, Reminder
from backend.personal import Declared, Held

DATA: tuple[Declared, ...] = (
    Held(
        Notification,
        "notifications",
        why="what she was told (alarms, orders, family), so it reaches her and she can read it again",
        about=("person_id",),
        words=("title", "body", "sms", "data"),
        kept="others' notices about her things (an alarm with her name and address) keep their delivery record, without their text",
    ),
    Held(
        Delivery,
        "notification_deliveries",
        why="how each notice to her went out (push, SMS, call) and whether it arrived",
        rows=lambda pid: Delivery.notification_id.in_(select(Notification.id).where(Notification.person_id == pid)),
        words=("detail", "provider_ref"),
    ),
    Held(
        NotificationSettings,
        "notification_settings",
        why="how she wants to be reached, and her quiet hours",
        about=("person_id",),
        acting=("updated_by_id",),
        public=("paths",),
    ),
    Held(
        Reminder,
        "reminders",
        why="reminders she or her family set for her (medicine, appointments)",
        about=("person_id",),
        by=("created_by_id",),
        words=("text",),
        kept="a reminder she set for someone else stays theirs",
    ),
)
