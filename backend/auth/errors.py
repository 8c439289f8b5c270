from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class InvalidCode(DomainError):
    code = "INVALID_CODE"
    keeps_changes = True  # the wrong try is counted

    def __init__(self, remaining: int) -> None:
        super().__init__(remaining=remaining)


class CodeExpired(DomainError):
    code = "CODE_EXPIRED"


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"
    keeps_changes = True


class InvalidRefreshToken(DomainError):
    code = "INVALID_REFRESH_TOKEN"
    keeps_changes = True  # a reused token revokes its whole chain


class InvalidDeviceCode(DomainError):
    code = "INVALID_DEVICE_CODE"
    keeps_changes = True  # the wrong code is counted against the account and the address


class InvalidPin(DomainError):
    code = "INVALID_PIN"


class NoHousehold(DomainError):
    code = "NO_HOUSEHOLD"


class TvPairedElsewhere(DomainError):
    """The box is paired with another home: that home (or staff) must unpair it first."""

    code = "TV_PAIRED_ELSEWHERE"


class SmsNotSent(DomainError):
    code = "SMS_UNAVAILABLE"


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class InvalidCodeError(UserError):
    remaining_attempts: int

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"remaining_attempts": e.params["remaining"]}


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
class TvPairedElsewhereError(UserError):
    pass


@strawberry.type
class SmsUnavailableError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    InvalidCode: InvalidCodeError,
    CodeExpired: CodeExpiredError,
    TooManyAttempts: TooManyAttemptsError,
    InvalidRefreshToken: InvalidRefreshTokenError,
    InvalidDeviceCode: InvalidDeviceCodeError,
    InvalidPin: InvalidPinError,
    NoHousehold: NoHouseholdError,
    TvPairedElsewhere: TvPairedElsewhereError,
    SmsNotSent: SmsUnavailableError,
}
