"""Booking services near home: for oneself, for an elder from afar (order_for), or by staff
for an elder who phoned or walked in. A place in the slot, the payment and the booking are
one transaction: all of them happen, or none."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import idempotency, jobs, live
from backend.access.rules import acting_for, may_follow_order
from backend.access.subject import Actor
from backend.community.models import Household, Person, Role, card_digits
from backend.config import Settings
from backend.db import take, utcnow
from backend.errors import InvalidInput, NotFound
from backend.events import emit
from backend.family.models import Scope
from backend.live import orders_channel
from backend.orders.opening import Opening, open_for
from backend.parts import Parts
from backend.services.catalog import Offering, service_catalog
from backend.services.errors import (
    AlreadyRated,
    BookingClosed,
    NotCompleted,
    SlotFull,
    TooEarly,
    WrongCheckInCode,
    WrongCommunityCard,
)
from backend.services.models import (
    OPEN_BOOKINGS,
    Booking,
    BookingEvent,
    BookingStatus,
    Rating,
    ServiceRating,
    SlotCount,
)
from backend.wallet import payments
from backend.wallet.payments import PayFrom

CUTOFF = dt.timedelta(hours=1)  # a slot closes to booking an hour before it starts
CHECK_IN_TRIES = 5  # wrong codes at the door before only staff can close the visit
REMIND = "services.remind"
REMINDERS = {"day": dt.timedelta(days=1), "hour": dt.timedelta(hours=1)}  # before the slot
MAX_NOTE = 300


async def offerings_for(
    session: AsyncSession, settings: Settings, actor: Actor, person_id: int | None
) -> tuple[Person, list[Offering]]:
    opening = await open_for(session, actor, person_id)
    return opening.beneficiary, service_catalog(settings.content_dir).for_community(opening.community.code)


def _offering(settings: Settings, opening: Opening, code: str) -> Offering:
    offering = service_catalog(settings.content_dir).offerings.get(code)
    if offering is None or opening.community.code not in offering.communities:
        raise NotFound()
    return offering


async def available_slots(
    session: AsyncSession, settings: Settings, actor: Actor, *, offering_code: str, person_id: int | None
) -> list[tuple[dt.datetime, int]]:
    """The slots still open, with how many places each has left."""
    offering = _offering(settings, await open_for(session, actor, person_id), offering_code)
    starts = offering.slots(utcnow(), settings.zone, CUTOFF)
    rows = await session.execute(
        select(SlotCount.slot_start, SlotCount.taken).where(
            SlotCount.offering_code == offering.code, SlotCount.slot_start.in_(starts)
        )
    )
    taken = {start: n for start, n in rows}
    return [(s, max(0, offering.capacity - taken.get(s, 0))) for s in starts]


async def book(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    offering_code: str,
    slot_start: dt.datetime,
    person_id: int | None,
    note: str | None,
    idempotency_key: str,
    pay_from: PayFrom,
) -> tuple[Booking, bool]:
    """(the booking, whether it is new). A replayed key returns the first booking."""
    key = idempotency.scoped_key(idempotency_key, actor.id)
    asked = _asked(offering_code, slot_start, person_id, note, pay_from)
    first = await _replayed(session, key, asked, offering_code, slot_start)
    if first is not None:
        return first, False
    opening = await open_for(session, actor, person_id)
    offering = _offering(settings, opening, offering_code)
    if slot_start not in offering.slots(utcnow(), settings.zone, CUTOFF):
        raise InvalidInput("slotStart", field="slotStart")
    who_pays = opening.payer(pay_from)
    await _take_place(session, offering, slot_start)  # SlotFull: nothing written
    booking = Booking(
        offering_code=offering.code,
        provider_code=offering.provider,
        slot_start=slot_start,
        beneficiary_id=opening.beneficiary.id,
        household_id=opening.household.id,
        address=opening.household.address,
        note=(note or "").strip(),
        placed_by_id=actor.id,
        placed_as=opening.placed_as,
        price_fen=offering.price_fen,
        payer_id=who_pays.person.id,
        idempotency_key=key,
        request_fingerprint=asked,
        check_in_code=f"{secrets.randbelow(10_000):04d}",
    )
    session.add(booking)
    await session.flush()
    await opening.pay(
        session,
        settings,
        ref=f"booking:{booking.id}",
        payer=who_pays,
        provider_code=booking.provider_code,
        amount_fen=booking.price_fen,
        category=offering.category,
    )
    _record(session, booking, "requested", actor.id, placed_as=opening.placed_as, price_fen=offering.price_fen)
    emit(session, "services.booked", {"booking_id": booking.id})
    await _schedule_reminders(session, booking)
    return booking, True


def _asked(
    offering_code: str, slot_start: dt.datetime, person_id: int | None, note: str | None, pay_from: PayFrom
) -> str:
    """What the booking asks for, as a replay compares it (a note too long is refused here)."""
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput("note", field="note")
    return idempotency.fingerprint(
        offering=offering_code,
        slot=slot_start.astimezone(dt.UTC).isoformat(),
        person=person_id,
        note=(note or "").strip(),
        pay_from=pay_from.value,
    )


async def _replayed(
    session: AsyncSession, key: str, asked: str, offering_code: str, slot_start: dt.datetime
) -> Booking | None:
    """The booking this key already made, when the request is the same one again."""
    first = await idempotency.replayed(session, Booking, key, asked)
    if first is not None:
        if first.offering_code != offering_code or first.slot_start != slot_start:
            raise idempotency.IdempotencyKeyReused()
    return first


async def _schedule_reminders(session: AsyncSession, booking: Booking) -> None:
    """The day before and the hour before, those still ahead."""
    now = utcnow()
    await jobs.schedule_new(
        session,
        REMIND,
        [
            (booking.slot_start - ahead, {"booking_id": booking.id, "ahead": name}, remind_key(booking.id, name))
            for name, ahead in REMINDERS.items()
            if booking.slot_start - ahead > now
        ],
    )


def remind_key(booking_id: int, ahead: str) -> str:
    return f"booking:{booking_id}:remind:{ahead}"


async def _take_place(session: AsyncSession, offering: Offering, slot_start: dt.datetime) -> None:
    """One place in the slot, or SlotFull."""
    key = {"offering_code": offering.code, "slot_start": slot_start}
    if not await take(session, SlotCount, key, column="taken", start=0, change=1, bound=offering.capacity):
        raise SlotFull()


async def cancel(session: AsyncSession, actor: Actor, *, booking_id: int, reason: str | None) -> Booking:
    """The elder, whoever booked, or staff of the community: the place is given back and the
    money refunded, in the same transaction."""
    booking = await _visible(session, actor, booking_id, for_update=True)
    if booking.status not in OPEN_BOOKINGS:
        raise BookingClosed()
    if reason is not None and len(reason) > MAX_NOTE:
        raise InvalidInput("reason", field="reason")
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_by_id, booking.cancel_reason = actor.id, (reason or "").strip()
    await session.execute(
        update(SlotCount)
        .where(SlotCount.offering_code == booking.offering_code, SlotCount.slot_start == booking.slot_start)
        .values(taken=SlotCount.taken - 1)
    )
    await payments.refund(session, ref=f"booking:{booking.id}", by_id=actor.id)
    for name in REMINDERS:
        await jobs.cancel(session, remind_key(booking.id, name))
    declined = actor.id == booking.beneficiary_id != booking.placed_by_id  # the elder said no to family's booking
    _record(session, booking, "declined" if declined else "cancelled", actor.id, reason=booking.cancel_reason)
    emit(session, "services.cancelled", {"booking_id": booking.id, "by": actor.id, "declined": declined})
    return booking


async def _for_provider(session: AsyncSession, settings: Settings, actor: Actor, booking_id: int) -> Booking:
    """A booking of a provider the actor works for; anyone else finds nothing."""
    booking = (
        await session.execute(select(Booking).where(Booking.id == booking_id).with_for_update())
    ).scalar_one_or_none()
    provider = service_catalog(settings.content_dir).providers.get(booking.provider_code) if booking else None
    if booking is None or provider is None or actor.person.phone not in provider.staff_phones:
        raise NotFound()
    return booking


async def confirm(session: AsyncSession, settings: Settings, actor: Actor, *, booking_id: int) -> Booking:
    """The provider will come."""
    booking = await _for_provider(session, settings, actor, booking_id)
    if booking.status != BookingStatus.REQUESTED:
        raise BookingClosed()
    booking.status, booking.confirmed_at = BookingStatus.CONFIRMED, utcnow()
    _record(session, booking, "confirmed", actor.id)
    emit(session, "services.confirmed", {"booking_id": booking.id})
    return booking


async def start(session: AsyncSession, settings: Settings, actor: Actor, *, booking_id: int) -> Booking:
    """At the door: whoever ordered is told the worker has arrived, and when."""
    booking = await _for_provider(session, settings, actor, booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingClosed()
    booking.status, booking.started_at = BookingStatus.IN_SERVICE, utcnow()
    _record(session, booking, "started", actor.id)
    emit(session, "services.started", {"booking_id": booking.id})
    return booking


async def complete(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    booking_id: int,
    check_in_code: str | None = None,
    card_number: str | None = None,
) -> Booking:
    """Done, proven by the elder's code or their community card (like the 12349 card swipe):
    without one of them, not done. Wrong tries of either count towards the same limit."""
    if bool(check_in_code) == bool(card_number):
        raise InvalidInput("one proof", field="checkInProof")
    booking = await _for_provider(session, settings, actor, booking_id)
    if booking.status != BookingStatus.IN_SERVICE or booking.check_in_failures >= CHECK_IN_TRIES:
        raise BookingClosed()
    wrong: type[WrongCheckInCode]
    if card_number:
        elder = await session.get(Person, booking.beneficiary_id)
        proof, wrong, miss = "card", WrongCommunityCard, "wrong_card"
        expected, given = (elder.community_card if elder else None), card_digits(card_number)
    else:
        proof, wrong, miss = "code", WrongCheckInCode, "wrong_check_in"
        expected, given = booking.check_in_code, (check_in_code or "").strip()
    if expected is None or not hmac.compare_digest(given, expected):
        booking.check_in_failures += 1
        _record(session, booking, miss, actor.id)
        raise wrong(remaining=CHECK_IN_TRIES - booking.check_in_failures)
    booking.status, booking.completed_at = BookingStatus.COMPLETED, utcnow()
    _record(session, booking, "completed", actor.id, proof=proof)
    emit(session, "services.completed", {"booking_id": booking.id})
    return booking


async def no_show(session: AsyncSession, settings: Settings, actor: Actor, *, booking_id: int) -> Booking:
    """上门未遇: the worker came and nobody answered. The elder pays nothing, and because an
    elder who does not open the door may be unwell, whoever ordered and the service centre
    are told at once so someone checks on them."""
    booking = await _for_provider(session, settings, actor, booking_id)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.IN_SERVICE):
        raise BookingClosed()
    if utcnow() < booking.slot_start:
        raise TooEarly()
    booking.status = BookingStatus.NO_SHOW
    await payments.refund(session, ref=f"booking:{booking.id}", by_id=actor.id)
    _record(session, booking, "no_show", actor.id)
    emit(session, "services.no_show", {"booking_id": booking.id, "at": utcnow().isoformat()})
    return booking


async def _visible(session: AsyncSession, actor: Actor, booking_id: int, *, for_update: bool = False) -> Booking:
    query = select(Booking).where(Booking.id == booking_id)
    booking = (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()
    if booking is None:
        raise NotFound()
    if await may_follow_order(
        session,
        actor,
        beneficiary_id=booking.beneficiary_id,
        placed_by_id=booking.placed_by_id,
        household_id=booking.household_id,
    ):
        return booking
    raise NotFound()


def _record(session: AsyncSession, booking: Booking, kind: str, actor_id: int | None, **detail: object) -> None:
    session.add(BookingEvent(booking_id=booking.id, kind=kind, actor_id=actor_id, detail=detail))
    message = {"kind": "order", "booking_id": booking.id}
    live.after_commit(session, [(orders_channel(booking.beneficiary_id), message)])


async def bookings_of(
    session: AsyncSession, actor: Actor, *, person_id: int | None, limit: int = 20
) -> Sequence[Booking]:
    person = (await acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    rows = await session.execute(
        select(Booking).where(Booking.beneficiary_id == person.id).order_by(Booking.slot_start.desc()).limit(limit)
    )
    return rows.scalars().all()


async def rate(
    session: AsyncSession, actor: Actor, *, booking_id: int, rating: Rating, comment: str | None
) -> ServiceRating:
    """好差评, once per completed visit, by the elder or whoever ordered it. A 不满意 reaches
    the community's service centre and admins at once."""
    booking = await _visible(session, actor, booking_id)
    if actor.id not in (booking.beneficiary_id, booking.placed_by_id):
        raise NotFound()
    if booking.status != BookingStatus.COMPLETED:
        raise NotCompleted()
    if comment is not None and len(comment) > MAX_NOTE:
        raise InvalidInput("comment", field="comment")
    if await session.get(ServiceRating, booking.id) is not None:
        raise AlreadyRated()
    row = ServiceRating(
        booking_id=booking.id,
        provider_code=booking.provider_code,
        rating=rating,
        comment=(comment or "").strip(),
        by_id=actor.id,
    )
    session.add(row)
    _record(session, booking, "rated", actor.id, rating=rating.value)
    emit(session, "services.rated", {"booking_id": booking.id})
    return row


async def provider_ratings(
    session: AsyncSession, settings: Settings, actor: Actor
) -> list[tuple[str, dict[Rating, int]]]:
    """For a provider's staff: how their visits were rated, per provider they work for."""
    mine = sorted(service_catalog(settings.content_dir).providers_staffed_by(actor.person.phone))
    rows = await session.execute(
        select(ServiceRating.provider_code, ServiceRating.rating, func.count())
        .where(ServiceRating.provider_code.in_(mine))
        .group_by(ServiceRating.provider_code, ServiceRating.rating)
    )
    counts: dict[str, dict[Rating, int]] = {code: dict.fromkeys(Rating, 0) for code in mine}
    for code, grade, n in rows:
        counts[code][Rating(grade)] = n
    return list(counts.items())


async def unsatisfied(
    session: AsyncSession, actor: Actor, *, community_id: int, limit: int = 50
) -> Sequence[tuple[ServiceRating, Booking, Person]]:
    """Every 不满意 in a community, newest first, for its service centre and admins to follow up."""
    if not actor.roles_in(community_id) & {Role.SERVICE_CENTRE, Role.ADMIN}:
        raise NotFound()
    rows = await session.execute(
        select(ServiceRating, Booking, Person)
        .join(Booking, Booking.id == ServiceRating.booking_id)
        .join(Household, Household.id == Booking.household_id)
        .join(Person, Person.id == Booking.beneficiary_id)
        .where(Household.community_id == community_id, ServiceRating.rating == Rating.UNSATISFIED)
        .order_by(ServiceRating.at.desc())
        .limit(limit)
    )
    return [(r, b, p) for r, b, p in rows.all()]


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: her visits still to come are cancelled (the place given
    back, the money refunded; the provider is told)."""
    upcoming = await session.execute(
        select(Booking.id).where(Booking.beneficiary_id == actor.id, Booking.status.in_(OPEN_BOOKINGS))
    )
    for booking_id in upcoming.scalars().all():
        await cancel(session, actor, booking_id=booking_id, reason=None)
