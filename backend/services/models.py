"""Bookings of services near home, and how many places each slot has left."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


OPEN_BOOKINGS = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED)


class Booking(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_beneficiary_slot", "beneficiary_id", "slot_start"),)
    offering_code: Mapped[str] = mapped_column(String(60))
    provider_code: Mapped[str] = mapped_column(String(60), index=True)
    slot_start: Mapped[dt.datetime]
    beneficiary_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    household_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("households.id"))
    address: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(300), default="")
    placed_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    placed_as: Mapped[str] = mapped_column(String(20))  # self | family | staff
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus), default=BookingStatus.REQUESTED)
    price_fen: Mapped[int]
    payer_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    idempotency_key: Mapped[str] = mapped_column(String(140), unique=True)
    # What the first request asked for (backend.idempotency): a replay must ask the same.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    cancelled_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Proof of the visit: shown to the elder only, given by them at the door.
    check_in_code: Mapped[str] = mapped_column(String(4))
    check_in_failures: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]


class BookingEvent(IdMixin, Base):
    """Who changed what and when. Never updated, never deleted."""

    __tablename__ = "booking_events"
    booking_id: Mapped[int] = mapped_column(IdType, ForeignKey("bookings.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class SlotCount(Base):
    """Places taken in one slot of one offering: taken with a guarded UPDATE, so two
    bookings for the last place cannot both get it, on PostgreSQL as on SQLite."""

    __tablename__ = "slot_counts"
    offering_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    slot_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    taken: Mapped[int] = mapped_column(default=0)


class Rating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    OK = "ok"  # 一般
    UNSATISFIED = "unsatisfied"  # 不满意


class ServiceRating(Base):
    """好差评: one per completed booking, by the elder or whoever ordered for them."""

    __tablename__ = "service_ratings"
    booking_id: Mapped[int] = mapped_column(IdType, ForeignKey("bookings.id"), primary_key=True)
    provider_code: Mapped[str] = mapped_column(String(60), index=True)
    rating: Mapped[Rating] = mapped_column(str_enum(Rating))
    comment: Mapped[str] = mapped_column(String(300), default="")
    by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
