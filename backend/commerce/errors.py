"""What can go wrong with an order, in words the person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError, Words
from backend.gql.errors import UserError


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


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class OutOfStockError(UserError):
    left: int

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"left": e.params["left"]}


@strawberry.type
class OrderingClosedError(UserError):
    pass


@strawberry.type
class OrderClosedError(UserError):
    pass


@strawberry.type
class MerchantClosedError(UserError):
    opens: str = strawberry.field(description='Local time: "08:00".')
    closes: str

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"opens": e.params["opens"], "closes": e.params["closes"]}


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    OutOfStock: OutOfStockError,
    OrderingClosed: OrderingClosedError,
    OrderClosed: OrderClosedError,
    MerchantClosed: MerchantClosedError,
}
