"""Schema and field extensions: the unit of work, typed errors, trusted documents, limits."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from graphql import GraphQLError, ValidationRule, parse, print_ast
from graphql.language import DocumentNode
from strawberry.extensions import FieldExtension, MaskErrors, SchemaExtension
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from backend.db import begin_write
from backend.errors import DomainError, RateLimited, UnreadableText
from backend.gql.errors import message_for
from backend.observability import GRAPHQL_ERRORS, request_id_var

log = logging.getLogger(__name__)


class Atomic(FieldExtension):
    """Each mutation runs in a SAVEPOINT: a DomainError undoes what it wrote (bad input
    changes nothing), unless the error says its changes must stay (a counted wrong code)."""

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        session = info.context.session
        await info.context.take_writer_turn()
        await begin_write(session)
        savepoint = await session.begin_nested()
        try:
            result = await next_(source, info, **kwargs)
        except DomainError as exc:
            await (savepoint.commit() if exc.keeps_changes else savepoint.rollback())
            raise
        except BaseException:
            await savepoint.rollback()
            raise
        await savepoint.commit()
        return result


class OncePerRequest(FieldExtension):
    """A mutation that runs at most once per request (pairing a TV by its code): aliases that
    repeat it in one document are refused, so each guess costs a request and counts against
    the asker's limits."""

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        ran = info.context.unit.ran
        if info.field_name in ran:
            raise RateLimited(1)
        ran.add(info.field_name)
        return await next_(source, info, **kwargs)


# C0/C1 control characters (NUL breaks PostgreSQL text, ESC and friends break terminals and
# logs) and lone surrogates (not UTF-8); line breaks and tabs are ordinary text in a note.
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def _bad_text(value: str) -> bool:
    return any(
        (unicodedata.category(ch) in ("Cc", "Cs") and ch not in _ALLOWED_CONTROLS)
        for ch in value
        if not ch.isprintable()
    )


def _first_bad_field(name: str, value: Any) -> str | None:
    """The argument (or input field) holding a control character, if any."""
    if isinstance(value, str):
        return name if _bad_text(value) else None
    if isinstance(value, (list, tuple)):
        for item in value:
            if (found := _first_bad_field(name, item)) is not None:
                return found
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            if (found := _first_bad_field(to_camel_case(field.name), getattr(value, field.name))) is not None:
                return found
    return None


class CleanText(FieldExtension):
    """Every text argument of a root field refuses control characters with a field error in
    the asker's language, before the resolver runs (so nothing changes)."""

    def _check(self, kwargs: dict[str, Any]) -> None:
        for name, value in kwargs.items():
            if (field := _first_bad_field(to_camel_case(name), value)) is not None:
                raise UnreadableText(field, field=field)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        self._check(kwargs)
        return await next_(source, info, **kwargs)


class UnitOfWork(SchemaExtension):
    """The request's session commits once, after the operation, then closes. On a WebSocket
    each operation (a subscription for its whole life) has a unit of work of its own."""

    async def on_operation(self) -> AsyncIterator[None]:
        ctx = self.execution_context.context
        token = ctx.begin_operation() if ctx.socket else None
        try:
            yield
            await ctx.commit_and_close()
        finally:
            if token is not None:
                await ctx.close()
                ctx.end_operation(token)


_CODE_FROM_EXTENSIONS = ("UNAUTHENTICATED", "FORBIDDEN")


class LocalizeErrors(SchemaExtension):
    """Top-level errors carry `extensions.code` and a message in the asker's language."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        ctx = self.execution_context.context
        for error in result.errors:
            original = error.original_error
            if isinstance(original, DomainError):
                error.message = message_for(original, ctx.locale, ctx.rt.catalog)
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif (error.extensions or {}).get("code") in _CODE_FROM_EXTENSIONS:
                code = error.extensions["code"]  # type: ignore[index]
                error.message = ctx.rt.catalog.text(ctx.locale, f"errors.{code}")
            GRAPHQL_ERRORS.labels((error.extensions or {}).get("code", "GRAPHQL")).inc()


def is_expected(error: GraphQLError) -> bool:
    """A refusal the asker caused and may read: syntax and validation errors (no original
    error), a DomainError (not found, bad input), or a field's permission refused (strawberry
    raises those as GraphQL errors of their own). Anything else is a bug."""
    original = error.original_error
    return original is None or isinstance(original, (DomainError, GraphQLError))


def _should_mask(error: GraphQLError) -> bool:
    return not is_expected(error)


class MaskUnexpectedErrors(MaskErrors):
    """Production: an unexpected error shows a plain message and the request id, nothing else.
    A document that is not trusted gets only UNTRUSTED_DOCUMENT: the other validation errors
    would name real fields and types ("Cannot query field 'idx' on type 'Me'")."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="Unexpected error.")

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        result = self.execution_context.result
        if result is not None and result.errors:
            untrusted = [e for e in result.errors if (e.extensions or {}).get("code") == "UNTRUSTED_DOCUMENT"]
            if untrusted:
                result.errors = untrusted[:1]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        rid = request_id_var.get()
        log.error("masked unexpected GraphQL error", extra={"path": error.path}, exc_info=error.original_error)
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": rid},
        )


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(document: DocumentNode) -> str:
    return hashlib.sha256(print_ast(document).encode("utf-8")).hexdigest()


class TrustedDocuments:
    """The first-party clients' documents (graphql/operations/<client>/*.graphql).

    Clients may send `extensions.persistedQuery.sha256Hash` (or `documentId`) with the
    sha256 of the file; a sent `query` is accepted only if it is one of these documents
    (compared after parsing, so formatting does not matter).
    """

    def __init__(self, root: Path) -> None:
        self.by_hash: dict[str, str] = {}
        self.canonical: set[str] = set()
        for path in sorted(root.glob("*/*.graphql")):
            text = path.read_text("utf-8")
            self.by_hash[document_hash(text)] = text
            self.canonical.add(_canonical(parse(text)))

    def lookup(self, document_id: str) -> str | None:
        return self.by_hash.get(document_id.removeprefix("sha256:"))

    def validation_rule(self) -> type[ValidationRule]:
        trusted = self

        class OnlyTrustedDocuments(ValidationRule):
            def enter_document(self, node: DocumentNode, *_args: Any) -> None:
                if _canonical(node) not in trusted.canonical:
                    self.report_error(
                        GraphQLError(
                            "This document is not one of the trusted documents.",
                            extensions={"code": "UNTRUSTED_DOCUMENT"},
                        )
                    )

        return OnlyTrustedDocuments
