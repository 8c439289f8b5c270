"""The commerce room's personal data (backend.personal): orders of goods and meals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from backend.commerce.models import Order, OrderEvent, OrderItem
from backend.personal import Declared, Erase, Held


def _hers(pid: int) -> Select[Any]:
    return select(Order.id).where(or_(Order.beneficiary_id == pid, Order.placed_by_id == pid, Order.payer_id == pid))


DATA: tuple[Declared, ...] = (
    Held(
        Order,
        "orders",
        why="meals and goods ordered for her or by her: what, where to, who paid",
        about=("beneficiary_id",),
        by=("placed_by_id", "payer_id"),
        acting=("cancelled_by_id",),
        words=("address", "cancel_reason"),
        secret=("idempotency_key", "request_fingerprint"),
        erase=Erase.BLANK,
        blank={"address": "", "cancel_reason": None},
        erase_by=Erase.BLANK,
        blank_by={"cancel_reason": None},
        kept="kept for the merchant's and the ledger's record, without her address or words",
        notice_key="orderId",
    ),
    Held(
        OrderItem,
        "order_lines",
        why="what her orders held",
        rows=lambda pid: OrderItem.order_id.in_(_hers(pid)),
        erase=Erase.KEEP,
        kept="kept with the order",
    ),
    Held(
        OrderEvent,
        "order_history",
        why="each step of her orders",
        rows=lambda pid: OrderEvent.order_id.in_(_hers(pid)),
        acting=("actor_id",),
        words=("detail",),
        erase=Erase.BLANK,
        blank={"detail": {}},
        kept="kept with the order, without details",
    ),
)
