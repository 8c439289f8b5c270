"""Expected failures. Services raise these; the GraphQL layer turns each into a typed,
localized error (a member of the mutation's result union, or a top-level error with a code).
"""

from __future__ import annotations

from typing import Any, ClassVar


class Words(str):
    """A parameter said in the asker's language: the content/ key of the words, not the words."""


class DomainError(Exception):
    code: ClassVar[str] = "INVALID_INPUT"
    # Most failures change nothing; a few must keep what they wrote (a wrong code counts a try).
    keeps_changes: ClassVar[bool] = False
    # The message under content/locales errors.*; the code unless a subclass says otherwise.
    message_key: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code)
        self.params = params


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail=detail, field=field)


class UnreadableText(InvalidInput):
    """A text holding control characters (NUL, ESC, ...): said in words of its own."""

    message_key = "UNREADABLE_TEXT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds=max(1, int(seconds)))


class TextTooLong(DomainError):
    code = "TEXT_TOO_LONG"
