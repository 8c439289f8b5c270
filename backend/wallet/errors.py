"""What can go wrong with money, in words the person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class InsufficientFunds(DomainError):
    code = "INSUFFICIENT_FUNDS"

    def __init__(self, balance_fen: int) -> None:
        super().__init__(balance=f"{balance_fen / 100:.2f}")


class PaymentUnavailable(DomainError):
    """Online payment is not connected here (a gateway is an adapter still to come)."""

    code = "PAYMENT_UNAVAILABLE"


class SpendingLimitReached(DomainError):
    """Family paying from an elder's wallet: past the monthly limit the elder set on the link."""

    code = "SPENDING_LIMIT_REACHED"

    def __init__(self, limit_fen: int, left_fen: int) -> None:
        super().__init__(limit=f"{limit_fen / 100:.2f}", left=f"{left_fen / 100:.2f}", left_fen=left_fen)


class NotEnoughPoints(DomainError):
    """积分 short of what the goods cost."""

    code = "NOT_ENOUGH_POINTS"

    def __init__(self, balance: int, needed: int) -> None:
        super().__init__(balance=balance, needed=needed)


class NotEnoughTime(DomainError):
    """Banked minutes short of what is to be given."""

    code = "NOT_ENOUGH_TIME"

    def __init__(self, balance_minutes: int) -> None:
        super().__init__(hours=f"{balance_minutes / 60:g}", balance=balance_minutes)


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class InsufficientFundsError(UserError):
    pass


@strawberry.type
class NotEnoughPointsError(UserError):
    balance: int
    needed: int

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"balance": e.params["balance"], "needed": e.params["needed"]}


@strawberry.type
class PaymentUnavailableError(UserError):
    pass


@strawberry.type
class SpendingLimitReachedError(UserError):
    left_fen: int = strawberry.field(description="What may still be spent from the elder's wallet this month.")

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"left_fen": e.params["left_fen"]}


@strawberry.type
class NotEnoughTimeError(UserError):
    balance_minutes: int

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"balance_minutes": e.params["balance"]}


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    NotEnoughTime: NotEnoughTimeError,
    InsufficientFunds: InsufficientFundsError,
    NotEnoughPoints: NotEnoughPointsError,
    PaymentUnavailable: PaymentUnavailableError,
    SpendingLimitReached: SpendingLimitReachedError,
}
