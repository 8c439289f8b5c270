"""Orders from community merchants, and what is left to sell."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class OrderStatus(StrEnum):
    PLACED = "placed"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class PayWith(StrEnum):
    MONEY = "money"
    POINTS = "points"  # the elder's 积分, for goods that carry a points price


class Fulfilment(StrEnum):
    DELIVERY = "delivery"
    PICKUP = "pickup"


class Stock(Base):
    """What is left of a product: goods on the shelf (day ""), or a meal's portions of one day.
    Taken with a guarded UPDATE, so two orders for the last one cannot both get it."""

    __tablename__ = "stock"
    __table_args__ = (CheckConstraint("left_count >= 0", name="never_below_zero"),)
    product_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    left_count: Mapped[int]


class Order(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "orders"
    merchant_code: Mapped[str] = mapped_column(String(60), index=True)
    beneficiary_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    placed_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    placed_as: Mapped[str] = mapped_column(String(20))  # self | family | staff
    payer_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.PLACED)
    fulfilment: Mapped[Fulfilment] = mapped_column(str_enum(Fulfilment))
    address: Mapped[str] = mapped_column(String(200))
    total_fen: Mapped[int]
    total_points: Mapped[int] = mapped_column(default=0)  # paid in 积分 instead of money
    idempotency_key: Mapped[str] = mapped_column(String(140), unique=True)
    # What the first request asked for (backend.idempotency): a replay must ask the same.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    cancelled_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    dispatched_at: Mapped[dt.datetime | None]  # on its way, or ready at the counter for pick-up
    delivered_at: Mapped[dt.datetime | None]  # handed over


class OrderItem(IdMixin, Base):
    __tablename__ = "order_items"
    order_id: Mapped[int] = mapped_column(IdType, ForeignKey("orders.id"), index=True)
    product_code: Mapped[str] = mapped_column(String(60))
    day: Mapped[str] = mapped_column(String(10))  # the stock row it was taken from
    quantity: Mapped[int]
    unit_price_fen: Mapped[int]
    unit_points: Mapped[int] = mapped_column(default=0)


class OrderEvent(IdMixin, Base):
    """Who changed what and when. Never updated, never deleted."""

    __tablename__ = "order_events"
    order_id: Mapped[int] = mapped_column(IdType, ForeignKey("orders.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
