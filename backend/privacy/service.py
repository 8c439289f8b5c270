"""A person's PIPL rights (arts. 44-47): see everything held about them, have it deleted, and
know who read their address, phone and family's phones.

Export: one JSON file of every row that is about the person (their own tables and their
part in shared ones), and a summary in their language; once a day; staff may start it for
an elder who asks in person (recorded). Deletion: suspended at once, erased by a durable job
(backend.privacy.tasks); what must be kept (ledger movements, alarm records) stays, bound to
a pseudonym, for the retention period a setting names.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.commerce.models import Order, OrderEvent, OrderItem
from backend.community.models import Device, Household, Membership, Person
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.emergency.models import Alert, AlertEvent
from backend.errors import NotFound, RateLimited
from backend.family.models import FamilyLink, FamilyLinkEvent
from backend.health.models import BandFix, EmergencyProfile, HealthAccess, HealthConsent, VitalLimits, VitalSign
from backend.notify.models import Delivery, Notification, NotificationSettings, Reminder
from backend.privacy.models import DataAccess, DataExport
from backend.services.models import Booking, BookingEvent, ServiceRating
from backend.tokens import Tokens
from backend.wallet.models import Account, LedgerEntry, LedgerTransaction, PointsEvent, SubsidyGrant
from backend.wellbeing.models import (
    CheckIn,
    CheckInPlan,
    HomeAway,
    HomeHour,
    HomeQuietRule,
    HomeSensor,
    MissedCheckIn,
    Visit,
)

EXPORT_EVERY = dt.timedelta(days=1)
EXPORT_KEPT = dt.timedelta(days=7)
EXPIRE_EXPORT = "privacy.expire_export"

# Never in an export: secrets that prove or protect something, not data about the person.
SECRET_COLUMNS = frozenset(
    {"voice_pin_hash", "community_card", "idempotency_key", "request_fingerprint", "check_in_code", "token_hash"}
)


def as_data(row: Any) -> dict[str, Any]:
    """A row's columns as JSON-ready values, secrets left out."""
    out: dict[str, Any] = {}
    for attr in inspect(row).mapper.column_attrs:
        if attr.key in SECRET_COLUMNS:
            continue
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value
    return out


async def _rows(session: AsyncSession, model: Any, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    rows = (await session.execute(select(model).where(where).order_by(*inspect(model).primary_key))).scalars()
    return [as_data(r) for r in rows]


async def gather(session: AsyncSession, person: Person) -> dict[str, Any]:
    """Everything Linli holds about `person`, section by section."""
    pid = person.id
    links = select(FamilyLink.id).where(or_(FamilyLink.elder_id == pid, FamilyLink.family_id == pid))
    alerts = select(Alert.id).where(Alert.person_id == pid)
    notices = select(Notification.id).where(Notification.person_id == pid)
    orders = select(Order.id).where(or_(Order.beneficiary_id == pid, Order.placed_by_id == pid, Order.payer_id == pid))
    bookings = select(Booking.id).where(
        or_(Booking.beneficiary_id == pid, Booking.placed_by_id == pid, Booking.payer_id == pid)
    )
    accounts = select(Account.id).where(Account.person_id == pid)
    household = await session.get(Household, person.household_id) if person.household_id else None
    movements = await session.execute(
        select(LedgerEntry.account_id, LedgerEntry.amount, LedgerTransaction)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id.in_(accounts))
        .order_by(LedgerEntry.id)
    )
    exports = await _rows(session, DataExport, DataExport.person_id == pid)
    return {
        "person": {**as_data(person), "community_card_set": person.community_card is not None},
        "household": as_data(household) if household is not None else None,
        "roles": await _rows(session, Membership, Membership.person_id == pid),
        "family_links": await _rows(session, FamilyLink, FamilyLink.id.in_(links)),
        "family_link_history": await _rows(session, FamilyLinkEvent, FamilyLinkEvent.link_id.in_(links)),
        "alarms": await _rows(session, Alert, Alert.id.in_(alerts)),
        "alarm_timelines": await _rows(session, AlertEvent, AlertEvent.alert_id.in_(alerts)),
        "health_consents": await _rows(session, HealthConsent, HealthConsent.person_id == pid),
        "health_profile": await _rows(session, EmergencyProfile, EmergencyProfile.person_id == pid),
        "health_access_log": await _rows(session, HealthAccess, HealthAccess.person_id == pid),
        "band_locations": await _rows(session, BandFix, BandFix.person_id == pid),
        "vital_limits": await _rows(session, VitalLimits, VitalLimits.person_id == pid),
        "vital_signs_out_of_range": await _rows(session, VitalSign, VitalSign.person_id == pid),
        "data_access_log": await _rows(session, DataAccess, DataAccess.person_id == pid),
        "check_in_plan": await _rows(session, CheckInPlan, CheckInPlan.person_id == pid),
        "check_ins": await _rows(session, CheckIn, CheckIn.person_id == pid),
        "wellbeing_alerts": await _rows(session, MissedCheckIn, MissedCheckIn.person_id == pid),
        "visits": await _rows(session, Visit, Visit.person_id == pid),
        # Her home's signals (shared with whoever lives with her): what the quiet-home check keeps.
        **{
            section: await _rows(session, model, model.household_id == household.id) if household else []
            for section, model in (
                ("home_sensors", HomeSensor),
                ("home_hours_of_use", HomeHour),
                ("home_away", HomeAway),
                ("home_quiet_rules", HomeQuietRule),
            )
        },
        "notifications": await _rows(session, Notification, Notification.id.in_(notices)),
        "notification_deliveries": await _rows(session, Delivery, Delivery.notification_id.in_(notices)),
        "notification_settings": await _rows(session, NotificationSettings, NotificationSettings.person_id == pid),
        "reminders": await _rows(session, Reminder, or_(Reminder.person_id == pid, Reminder.created_by_id == pid)),
        "orders": await _rows(session, Order, Order.id.in_(orders)),
        "order_lines": await _rows(session, OrderItem, OrderItem.order_id.in_(orders)),
        "order_history": await _rows(session, OrderEvent, OrderEvent.order_id.in_(orders)),
        "bookings": await _rows(session, Booking, Booking.id.in_(bookings)),
        "booking_history": await _rows(session, BookingEvent, BookingEvent.booking_id.in_(bookings)),
        "service_ratings": await _rows(session, ServiceRating, ServiceRating.by_id == pid),
        "wallet_accounts": await _rows(session, Account, Account.id.in_(accounts)),
        "wallet_movements": [
            # The entry's own amount in that account, in its unit; the movement's total is not theirs.
            {**{k: v for k, v in as_data(tx).items() if k != "amount"}, "account_id": account_id, "amount": amount}
            for account_id, amount, tx in movements.all()
        ],
        "subsidies": await _rows(session, SubsidyGrant, SubsidyGrant.person_id == pid),
        "points": await _rows(session, PointsEvent, PointsEvent.person_id == pid),
        "devices": await _rows(session, Device, Device.person_id == pid),
        "exports": [{k: v for k, v in e.items() if k not in ("content", "summary")} for e in exports],
    }


def summary(catalog: Catalog, locale: str, person: Person, data: dict[str, Any], at: str) -> str:
    """The export in words: who, and how many of each thing is held."""
    lines = [catalog.text(locale, "privacy.summary_title", name=person.name, at=at)]
    for section, value in data.items():
        if section in ("person", "household"):
            continue
        count = len(value) if isinstance(value, list) else int(value is not None)
        label = catalog.text(locale, f"privacy.sections.{section}")
        lines.append(catalog.text(locale, "privacy.summary_line", label=label, count=count))
    return "\n".join(lines)


@dataclass(frozen=True)
class ExportReady:
    export: DataExport
    token: str  # the secret of the download link, shown once


async def export(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int | None,
    catalog: Catalog,
    tokens: Tokens,
    local_time: str,
) -> ExportReady:
    """The person's own export, or staff's for an elder of their community who asks in person."""
    if person_id is None or person_id == actor.id:
        person, via = actor.person, "app"
    else:
        found = await session.get(Person, person_id)
        if found is None or not await rules.is_staff_for(session, actor, found.id):
            raise NotFound()
        person, via = found, "staff_in_person"
    now = utcnow()
    last = (
        await session.execute(
            select(DataExport.created_at)
            .where(DataExport.person_id == person.id, DataExport.created_at > now - EXPORT_EVERY)
            .order_by(DataExport.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if last is not None:
        raise RateLimited(int((last + EXPORT_EVERY - now).total_seconds()) + 1)
    data = await gather(session, person)
    document = {"exported_at": now.isoformat(), "format": "linli-export/1", **data}
    token = secrets.token_urlsafe(32)
    row = DataExport(
        person_id=person.id,
        requested_by_id=actor.id,
        via=via,
        token_hash=tokens.hash_opaque(token),
        content=json.dumps(document, ensure_ascii=False, indent=1, default=str),
        summary=summary(catalog, person.locale, person, data, local_time),
        expires_at=now + EXPORT_KEPT,
    )
    session.add(row)
    await session.flush()
    await jobs.schedule(session, EXPIRE_EXPORT, row.expires_at, {"export_id": row.id}, key=f"export:{row.id}")
    return ExportReady(row, token)


async def export_by_token(session: AsyncSession, tokens: Tokens, token: str) -> DataExport | None:
    row = (
        await session.execute(select(DataExport).where(DataExport.token_hash == tokens.hash_opaque(token)))
    ).scalar_one_or_none()
    if row is None or row.content is None or row.expires_at <= utcnow():
        return None
    return row


async def expire_export(session: AsyncSession, export_id: int) -> None:
    row = await session.get(DataExport, export_id)
    if row is not None:
        row.content, row.summary, row.token_hash = None, None, None


async def log_reads(session: AsyncSession, reads: Sequence[tuple[int, int, str, str]]) -> None:
    """(person, reader, what, purpose) for each read of someone else's personal data."""
    now = utcnow()
    session.add_all(
        DataAccess(person_id=pid, reader_id=rid, what=what, purpose=purpose[:60], at=now)
        for pid, rid, what, purpose in reads
        if pid != rid
    )


async def access_log(session: AsyncSession, person_id: int, *, limit: int = 200) -> Sequence[DataAccess]:
    return (
        (
            await session.execute(
                select(DataAccess).where(DataAccess.person_id == person_id).order_by(DataAccess.id.desc()).limit(limit)
            )
        )
        .scalars()
        .all()
    )
