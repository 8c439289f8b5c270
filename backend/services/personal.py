"""The services room's personal data (backend.personal): bookings and ratings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from backend.personal import Declared, Erase, Held
from backend.services.models import Booking, BookingEvent, ServiceRating


def _hers(pid: int) -> Select[Any]:
    return select(Booking.id).where(
        or_(Booking.beneficiary_id == pid, Booking.placed_by_id == pid, Booking.payer_id == pid)
    )


DATA: tuple[Declared, ...] = (
    Held(
        Booking,
        "bookings",
        why="services booked for her or by her: what, when, where, who paid",
        about=("beneficiary_id",),
        by=("placed_by_id", "payer_id"),
        acting=("cancelled_by_id",),
        words=("address", "note", "cancel_reason"),
        secret=("idempotency_key", "request_fingerprint", "check_in_code"),
        erase=Erase.BLANK,
        blank={"address": "", "note": "", "cancel_reason": None},
        erase_by=Erase.BLANK,
        blank_by={"cancel_reason": None},
        kept="kept for the provider's and the ledger's record, without her address or words",
        notice_key="bookingId",
    ),
    Held(
        BookingEvent,
        "booking_history",
        why="each step of her bookings",
        rows=lambda pid: BookingEvent.booking_id.in_(_hers(pid)),
        acting=("actor_id",),
        words=("detail",),
        erase=Erase.BLANK,
        blank={"detail": {}},
        kept="kept with the booking, without details",
    ),
    Held(
        ServiceRating,
        "service_ratings",
        why="her rating of a visit and her comment",
        by=("by_id",),
        words=("comment",),
        erase_by=Erase.BLANK,
        blank_by={"comment": ""},
        kept="the rating counts for the provider; her comment goes",
    ),
)
