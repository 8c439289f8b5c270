"""Typed errors: `interface UserError { code message }`, one GraphQL type per DomainError.

Services raise DomainError subclasses; the schema's exception handlers turn them into the
matching member of a mutation's result union, with the message in the asker's locale.
Where a field's type has no member for an error it becomes a top-level error with
`extensions.code`, localized the same way.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from backend.auth import errors as auth_errors
from backend.commerce import errors as commerce_errors
from backend.community import errors as community_errors
from backend.content.catalog import Catalog
from backend.emergency.errors import AlertClosed
from backend.errors import DomainError, InvalidInput, NotFound, RateLimited, Words
from backend.family import errors as family_errors
from backend.health.errors import NoHealthConsent
from backend.services import errors as services_errors
from backend.wallet import errors as wallet_errors


@strawberry.interface(description="An expected failure the person can act on; message is in their language.")
class UserError:
    code: str
    message: str


@strawberry.type
class NotFoundError(UserError):
    pass


@strawberry.type
class InvalidInputError(UserError):
    field: str | None


@strawberry.type
class RateLimitedError(UserError):
    retry_after_seconds: int


@strawberry.type
class InvalidPhoneError(UserError):
    pass


@strawberry.type
class InvalidCodeError(UserError):
    remaining_attempts: int


@strawberry.type
class CodeExpiredError(UserError):
    pass


@strawberry.type
class TooManyAttemptsError(UserError):
    pass


@strawberry.type
class InvalidRefreshTokenError(UserError):
    pass


@strawberry.type
class InvalidDeviceCodeError(UserError):
    pass


@strawberry.type
class InvalidPinError(UserError):
    pass


@strawberry.type
class NoHouseholdError(UserError):
    pass


@strawberry.type
class SmsUnavailableError(UserError):
    pass


@strawberry.type
class TvPairedElsewhereError(UserError):
    pass


@strawberry.type
class AlreadyLinkedError(UserError):
    pass


@strawberry.type
class CannotLinkSelfError(UserError):
    pass


@strawberry.type
class InvitationClosedError(UserError):
    pass


@strawberry.type
class NotYourTurnError(UserError):
    pass


@strawberry.type
class InvalidScopesError(UserError):
    pass


@strawberry.type
class AlertClosedError(UserError):
    pass


@strawberry.type
class NoHealthConsentError(UserError):
    pass


@strawberry.type
class InsufficientFundsError(UserError):
    pass


@strawberry.type
class PaymentUnavailableError(UserError):
    pass


@strawberry.type
class SlotFullError(UserError):
    pass


@strawberry.type
class BookingClosedError(UserError):
    pass


@strawberry.type
class WrongCheckInCodeError(UserError):
    remaining_attempts: int


@strawberry.type
class NotEnoughPointsError(UserError):
    balance: int
    needed: int


@strawberry.type
class TooEarlyError(UserError):
    pass


@strawberry.type
class CardInUseError(UserError):
    pass


@strawberry.type
class NotCompletedError(UserError):
    pass


@strawberry.type
class AlreadyRatedError(UserError):
    pass


@strawberry.type
class OutOfStockError(UserError):
    left: int


@strawberry.type
class OrderingClosedError(UserError):
    pass


@strawberry.type
class OrderClosedError(UserError):
    pass


@strawberry.type
class SpendingLimitReachedError(UserError):
    left_fen: int = strawberry.field(description="What may still be spent from the elder's wallet this month.")


@strawberry.type
class MerchantClosedError(UserError):
    opens: str = strawberry.field(description='Local time: "08:00".')
    closes: str


# The GraphQL type for each exception, and what it adds besides code and message.
ERROR_TYPES: dict[type[DomainError], type] = {
    NotFound: NotFoundError,
    InvalidInput: InvalidInputError,
    RateLimited: RateLimitedError,
    auth_errors.InvalidPhone: InvalidPhoneError,
    auth_errors.InvalidCode: InvalidCodeError,
    auth_errors.CodeExpired: CodeExpiredError,
    auth_errors.TooManyAttempts: TooManyAttemptsError,
    auth_errors.InvalidRefreshToken: InvalidRefreshTokenError,
    auth_errors.InvalidDeviceCode: InvalidDeviceCodeError,
    auth_errors.InvalidPin: InvalidPinError,
    auth_errors.NoHousehold: NoHouseholdError,
    auth_errors.TvPairedElsewhere: TvPairedElsewhereError,
    auth_errors.SmsNotSent: SmsUnavailableError,
    family_errors.AlreadyLinked: AlreadyLinkedError,
    family_errors.CannotLinkSelf: CannotLinkSelfError,
    family_errors.InvitationClosed: InvitationClosedError,
    family_errors.NotYourTurn: NotYourTurnError,
    family_errors.InvalidScopes: InvalidScopesError,
    AlertClosed: AlertClosedError,
    NoHealthConsent: NoHealthConsentError,
    wallet_errors.InsufficientFunds: InsufficientFundsError,
    wallet_errors.NotEnoughPoints: NotEnoughPointsError,
    wallet_errors.PaymentUnavailable: PaymentUnavailableError,
    wallet_errors.SpendingLimitReached: SpendingLimitReachedError,
    services_errors.SlotFull: SlotFullError,
    services_errors.BookingClosed: BookingClosedError,
    services_errors.WrongCheckInCode: WrongCheckInCodeError,
    services_errors.TooEarly: TooEarlyError,
    community_errors.CardInUse: CardInUseError,
    services_errors.NotCompleted: NotCompletedError,
    services_errors.AlreadyRated: AlreadyRatedError,
    commerce_errors.OutOfStock: OutOfStockError,
    commerce_errors.OrderingClosed: OrderingClosedError,
    commerce_errors.OrderClosed: OrderClosedError,
    commerce_errors.MerchantClosed: MerchantClosedError,
}

_EXTRA_FIELDS = {
    InvalidInputError: lambda e: {"field": e.params.get("field")},
    RateLimitedError: lambda e: {"retry_after_seconds": e.params["seconds"]},
    InvalidCodeError: lambda e: {"remaining_attempts": e.params["remaining"]},
    WrongCheckInCodeError: lambda e: {"remaining_attempts": e.params["remaining"]},
    OutOfStockError: lambda e: {"left": e.params["left"]},
    SpendingLimitReachedError: lambda e: {"left_fen": e.params["left_fen"]},
    NotEnoughPointsError: lambda e: {"balance": e.params["balance"], "needed": e.params["needed"]},
    MerchantClosedError: lambda e: {"opens": e.params["opens"], "closes": e.params["closes"]},
}


def message_for(error: DomainError, locale: str | None, catalog: Catalog) -> str:
    params = {k: catalog.text(locale, v) if isinstance(v, Words) else v for k, v in error.params.items()}
    field = params.get("field")
    if isinstance(field, str):
        # Say what is wrong in the asker's words, not the argument's name.
        named = catalog.text(locale, f"fields.{field}")
        params["detail"] = named if named != f"fields.{field}" else params.get("detail")
    return catalog.text(locale, f"errors.{error.message_key or error.code}", **params)


class DomainErrorHandler:
    """Turns one DomainError class into its GraphQL type (strawberry's ExceptionHandler protocol)."""

    def __init__(self, exception_type: type[DomainError], error_type: type) -> None:
        self.exception_type = exception_type
        self.error_type = error_type

    def handle(self, exception: DomainError, *, field: Any, info: Info) -> Any:
        extra = _EXTRA_FIELDS.get(self.error_type, lambda _e: {})(exception)
        return self.error_type(
            code=exception.code, message=message_for(exception, info.context.locale, info.context.rt.catalog), **extra
        )


def exception_handlers() -> list[DomainErrorHandler]:
    return [DomainErrorHandler(exc, err) for exc, err in ERROR_TYPES.items()]
