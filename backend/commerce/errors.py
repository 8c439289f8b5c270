"""What can go wrong with an order, in words the person can act on."""

from __future__ import annotations

from backend.errors import DomainError


class OutOfStock(DomainError):
    code = "OUT_OF_STOCK"

    def __init__(self, product: str, left: int) -> None:
        super().__init__(product=product, left=left)


class OrderingClosed(DomainError):
    """Today's meal is past its cut-off, or not cooked today."""

    code = "ORDERING_CLOSED"


class OrderClosed(DomainError):
    """Already on its way, delivered or cancelled."""

    code = "ORDER_CLOSED"
