"""Deleting an account (PIPL art. 47).

`delete_account` asks for a fresh SMS code and suspends the person at once: no sign-in, every
token refused, open sockets closed, push devices and (if nobody else lives there) the home's
TV boxes released, family links ended (the family is told the link ended, not why). A durable
job then erases: names, phones, addresses, health data, notification texts and reminders go
(and, if nobody else lives there, the home's sensors, hours of use and away marks);
ledger movements and alarm records stay, bound to a pseudonym, for `retention_days`, after
which the alarm records and access logs go too (the ledger keeps its anonymous movements, so
every balance still adds up).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs, live
from backend.access.subject import Actor
from backend.auth import repository as auth_repository
from backend.auth.models import LoginCode, RefreshToken
from backend.auth.service import consume_code
from backend.commerce.models import Order
from backend.community.models import Device, DeviceKind, GridAssignment, Membership, Person
from backend.config import Settings
from backend.db import utcnow
from backend.emergency.models import Alert, AlertEvent
from backend.family import service as family_service
from backend.family.models import FamilyLink
from backend.health import service as health
from backend.health.models import ConsentScope, HealthAccess, HealthConsent
from backend.notify.models import Delivery, Notification, NotificationSettings, Reminder
from backend.privacy.models import DataAccess, DataExport
from backend.services.models import Booking
from backend.tokens import Tokens
from backend.wellbeing import quiet_home
from backend.wellbeing.models import CheckIn, CheckInPlan, MissedCheckIn, Visit

ERASE = "privacy.erase"
FORGET = "privacy.forget"


def pseudonymous_phone(person_id: int) -> str:
    """Unique, not a number anyone can call or sign in with."""
    return f"deleted:{person_id}"


async def delete_account(
    session: AsyncSession, actor: Actor, *, code: str, settings: Settings, tokens: Tokens
) -> dt.datetime:
    """Suspends the account now and schedules its erasure; returns when erasure is due."""
    person = actor.person
    await consume_code(session, settings=settings, tokens=tokens, phone=person.phone, code=code)
    now = utcnow()
    person.deleted_at = now
    person.tokens_valid_after = now
    await auth_repository.revoke_refresh(session, now, person_id=person.id)
    await session.execute(delete(Device).where(Device.person_id == person.id))
    if person.household_id is not None and not await _others_live_there(session, person):
        tvs = await auth_repository.devices_of_household(session, DeviceKind.TV, person.household_id)
        for tv in tvs:
            tv.household_id = None
            live.sessions_end(session, f"tv:{tv.id}")
    await family_service.end_all_links(session, actor, why="account_deleted")
    live.sessions_end(session, f"person:{person.id}", before=now)
    # A short delay lets the family's "the link ended" notices go out with the name they know.
    due = now + dt.timedelta(seconds=settings.erasure_delay_s)
    await jobs.schedule(session, ERASE, due, {"person_id": person.id}, key=f"erase:person:{person.id}")
    return due


async def _others_live_there(session: AsyncSession, person: Person) -> bool:
    found = await session.execute(
        select(Person.id).where(
            Person.household_id == person.household_id, Person.id != person.id, Person.deleted_at.is_(None)
        )
    )
    return found.first() is not None


async def erase(session: AsyncSession, person_id: int, *, settings: Settings, pseudonym: str) -> None:
    """Erase or pseudonymize what the person asked to be deleted. Safe to run again.
    `pseudonym`: what kept records show where the name was (content: privacy.pseudonym)."""
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None or person.deleted_at is None:
        return
    alerts = select(Alert.id).where(Alert.person_id == person_id)
    notices = select(Notification.id).where(Notification.person_id == person_id)
    await session.execute(delete(Delivery).where(Delivery.notification_id.in_(notices)))
    await session.execute(delete(Notification).where(Notification.person_id == person_id))
    await _blank_what_others_were_told(session, person)
    await session.execute(delete(NotificationSettings).where(NotificationSettings.person_id == person_id))
    await session.execute(delete(Reminder).where(Reminder.person_id == person_id))
    for scope in ConsentScope:
        await health.erase_scope(session, person_id, scope)
    # Her check-ins, the alerts about her and the visits to her (their notes describe her).
    for table in (CheckInPlan, CheckIn, MissedCheckIn, Visit):
        await session.execute(delete(table).where(table.person_id == person_id))
    await session.execute(delete(DataExport).where(DataExport.person_id == person_id))
    await session.execute(delete(RefreshToken).where(RefreshToken.person_id == person_id))
    await session.execute(delete(LoginCode).where(LoginCode.phone == person.phone))
    await session.execute(delete(Membership).where(Membership.person_id == person_id))
    await session.execute(delete(GridAssignment).where(GridAssignment.person_id == person_id))
    # Kept records lose what identified or described the person.
    await session.execute(update(Alert).where(Alert.person_id == person_id).values(note=None, household_id=None))
    await session.execute(update(AlertEvent).where(AlertEvent.alert_id.in_(alerts)).values(detail={}))
    await session.execute(update(Order).where(Order.beneficiary_id == person_id).values(address=""))
    await session.execute(update(Booking).where(Booking.beneficiary_id == person_id).values(address="", note=""))
    for placed in (Order, Booking):  # their own words when they cancelled, or cancelled for them
        await session.execute(
            update(placed)
            .where(or_(placed.beneficiary_id == person_id, placed.placed_by_id == person_id))
            .values(cancel_reason=None)
        )
    if person.household_id is not None and not await _others_live_there(session, person):
        await quiet_home.release_home(session, person.household_id)
    person.name = pseudonym
    person.phone = pseudonymous_phone(person_id)
    person.birth_date = None
    person.household_id = None
    person.community_card = None
    person.voice_pin_hash = None
    person.elder_flag = False
    forget_at = person.deleted_at + dt.timedelta(days=settings.retention_days)
    await jobs.schedule(session, FORGET, forget_at, {"person_id": person_id}, key=f"forget:person:{person_id}")


# What a notice's data names it is about, and where to find the ids of the person's things.
_ABOUT = {"alertId": "alerts", "orderId": "orders", "bookingId": "bookings", "linkId": "links"}


async def _blank_what_others_were_told(session: AsyncSession, person: Person) -> None:
    """Others' notices about the person (an alarm with the elder's name and address, an order
    to deliver, a link that ended) keep their delivery record; their text and SMS variables go."""
    pid = person.id
    theirs = {
        "alerts": select(Alert.id).where(Alert.person_id == pid),
        "orders": select(Order.id).where(or_(Order.beneficiary_id == pid, Order.placed_by_id == pid)),
        "bookings": select(Booking.id).where(or_(Booking.beneficiary_id == pid, Booking.placed_by_id == pid)),
        "links": select(FamilyLink.id).where(or_(FamilyLink.elder_id == pid, FamilyLink.family_id == pid)),
    }
    ids = {name: {str(i) for i in (await session.execute(query)).scalars()} for name, query in theirs.items()}
    candidates = await session.execute(
        select(Notification.id, Notification.data).where(Notification.body.contains(person.name))
    )
    about = [
        nid
        for nid, data in candidates.all()
        if any(str((data or {}).get(key)) in ids[name] for key, name in _ABOUT.items())
    ]
    if about:
        # The SMS variables name the person too (an inviter, the other side of a link).
        await session.execute(update(Notification).where(Notification.id.in_(about)).values(body="", sms=None))


async def forget(session: AsyncSession, person_id: int) -> None:
    """The end of the retention period: the kept alarm records and the logs about the person go."""
    alerts = select(Alert.id).where(Alert.person_id == person_id)
    await session.execute(delete(AlertEvent).where(AlertEvent.alert_id.in_(alerts)))
    alert_refs = [f"alert:{a}" for a in (await session.execute(alerts)).scalars()]
    if alert_refs:
        notices = select(Notification.id).where(Notification.ref.in_(alert_refs))
        await session.execute(delete(Delivery).where(Delivery.notification_id.in_(notices)))
        await session.execute(delete(Notification).where(Notification.ref.in_(alert_refs)))
    await session.execute(delete(Alert).where(Alert.person_id == person_id))
    await session.execute(delete(HealthAccess).where(HealthAccess.person_id == person_id))
    await session.execute(delete(HealthConsent).where(HealthConsent.person_id == person_id))
    await session.execute(delete(DataAccess).where(DataAccess.person_id == person_id))
