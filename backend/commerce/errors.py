"""What can go wrong with an order, in words the person can act on."""

from __future__ import annotations

from backend.errors import DomainError, Words


class OutOfStock(DomainError):
    code = "OUT_OF_STOCK"

    def __init__(self, product: str, left: int) -> None:
        super().__init__(product=product, left=left)


class OrderingClosed(DomainError):
    """Today's meal is past its cut-off, or not cooked today."""

    code = "ORDERING_CLOSED"


class OrderClosed(DomainError):
    """Already past the step asked for: on its way, delivered or cancelled."""

    code = "ORDER_CLOSED"

    def __init__(self, status: str) -> None:
        super().__init__(status=Words(f"commerce.status_{status}"))


class MerchantClosed(DomainError):
    """Outside the merchant's opening hours: said with the hours, so the elder knows when."""

    code = "MERCHANT_CLOSED"

    def __init__(self, merchant: str, opens: str, closes: str) -> None:
        super().__init__(merchant=merchant, opens=opens, closes=closes)
