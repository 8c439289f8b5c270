from __future__ import annotations

from backend.errors import DomainError


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"


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


class InvalidPin(DomainError):
    code = "INVALID_PIN"


class NoHousehold(DomainError):
    code = "NO_HOUSEHOLD"


class TvPairedElsewhere(DomainError):
    """The box is paired with another home: that home (or staff) must unpair it first."""

    code = "TV_PAIRED_ELSEWHERE"


class SmsNotSent(DomainError):
    code = "SMS_UNAVAILABLE"
