"""An elder's day as every door shows it: orders not yet handed over (or placed today) and
bookings from today on that are open or under way, with who in the family ordered each and
whether the elder may still decline it. The phone line reads it out; the TV portal lists it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.commerce import service as commerce
from backend.commerce.models import OrderStatus
from backend.community.models import Person
from backend.config import Settings
from backend.content.catalog import Catalog
from backend.services import service as services
from backend.services.catalog import service_catalog
from backend.services.models import OPEN_BOOKINGS, BookingStatus


@dataclass(frozen=True)
class Ordered:
    """An order or a booking of today (or to come), in the elder's words."""

    kind: str  # "order" or "booking"
    id: int
    what: str
    status: str  # OrderStatus or BookingStatus value
    when: dt.datetime | None  # a booking's slot
    by: str | None  # who in the family ordered it for them, if someone did
    declinable: bool  # family ordered it and it can still be called off


async def _family_name(session: AsyncSession, placed_as: str, placed_by_id: int) -> str | None:
    if placed_as != "family":
        return None
    person = await session.get(Person, placed_by_id)
    return person.name if person is not None else None


async def todays(session: AsyncSession, settings: Settings, texts: Catalog, actor: Actor, locale: str) -> list[Ordered]:
    """Oldest first."""
    start_of_day = dt.datetime.combine(
        dt.datetime.now(settings.zone).date(), dt.time(), tzinfo=settings.zone
    ).astimezone(dt.UTC)
    found: list[Ordered] = []
    for order, items in reversed(await commerce.orders_of(session, actor, person_id=None)):
        if order.status == OrderStatus.CANCELLED or (
            order.status == OrderStatus.DELIVERED and order.created_at < start_of_day
        ):
            continue
        story = commerce.story(settings, order, items, locale)
        what = texts.text(locale, "commerce.separator").join(
            texts.text(locale, "commerce.line", name=line.name, quantity=line.quantity) for line in story.lines
        )
        by = await _family_name(session, order.placed_as, order.placed_by_id)
        declinable = by is not None and order.status == OrderStatus.PLACED
        found.append(Ordered("order", order.id, what, order.status.value, None, by, declinable))
    catalog = service_catalog(settings.content_dir)
    for booking in reversed(list(await services.bookings_of(session, actor, person_id=None))):
        if booking.slot_start < start_of_day or booking.status not in (*OPEN_BOOKINGS, BookingStatus.IN_SERVICE):
            continue
        offering = catalog.offerings.get(booking.offering_code)
        what = offering.name(locale) if offering is not None else booking.offering_code
        by = await _family_name(session, booking.placed_as, booking.placed_by_id)
        declinable = by is not None and booking.status in OPEN_BOOKINGS
        found.append(Ordered("booking", booking.id, what, booking.status.value, booking.slot_start, by, declinable))
    return found


async def decline(session: AsyncSession, actor: Actor, *, kind: str, item_id: int) -> None:
    """The elder does not want what family ordered: called off, the money back to who paid,
    and the family told (the same rule as in the app)."""
    if kind == "order":
        await commerce.cancel(session, actor, order_id=item_id)
    else:
        await services.cancel(session, actor, booking_id=item_id, reason=None)
