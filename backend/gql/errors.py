"""Typed errors: `interface UserError { code message }`, and how a DomainError becomes one.

Services raise DomainError subclasses; each domain declares the GraphQL type for each of its
own (in its errors.py, GRAPHQL_ERRORS) and the API layer hands them all to the schema's
exception handlers, which turn an error into the matching member of a mutation's result
union with the message in the asker's locale. Where a field's type has no member for an error
it becomes a top-level error with `extensions.code`, localized the same way. The errors every
domain shares (not found, invalid input, rate limited, not a mobile number) are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.types import Info

from backend.content.catalog import Catalog
from backend.errors import DomainError, InvalidInput, NotFound, RateLimited, Words
from backend.phones import InvalidPhone


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

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"field": e.params.get("field")}


@strawberry.type
class InvalidPhoneError(UserError):
    pass


@strawberry.type
class RateLimitedError(UserError):
    retry_after_seconds: int

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"retry_after_seconds": e.params["seconds"]}


SHARED_ERRORS: dict[type[DomainError], type] = {
    NotFound: NotFoundError,
    InvalidInput: InvalidInputError,
    RateLimited: RateLimitedError,
    InvalidPhone: InvalidPhoneError,
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
        # A type with fields besides code and message says how to fill them from the error.
        extra = self.error_type.fields_of(exception) if hasattr(self.error_type, "fields_of") else {}
        return self.error_type(
            code=exception.code, message=message_for(exception, info.context.locale, info.context.rt.catalog), **extra
        )


def exception_handlers(error_types: Mapping[type[DomainError], type]) -> list[DomainErrorHandler]:
    return [DomainErrorHandler(exc, err) for exc, err in {**SHARED_ERRORS, **error_types}.items()]
