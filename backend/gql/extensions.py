"""Schema and field extensions: the unit of work, typed errors, trusted documents, limits."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from graphql import GraphQLError, ValidationRule, parse, print_ast
from graphql.language import DocumentNode
from strawberry.extensions import FieldExtension, MaskErrors, SchemaExtension
from strawberry.types import Info

from backend.db import begin_write
from backend.errors import DomainError
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
                error.message = message_for(original, ctx.locale)
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif (error.extensions or {}).get("code") in _CODE_FROM_EXTENSIONS:
                code = error.extensions["code"]  # type: ignore[index]
                error.message = ctx.rt.catalog.text(ctx.locale, f"errors.{code}")
            GRAPHQL_ERRORS.labels((error.extensions or {}).get("code", "GRAPHQL")).inc()


def _should_mask(error: GraphQLError) -> bool:
    # Syntax/validation errors and permission errors have no original error: the client's to see.
    original = error.original_error
    return original is not None and not isinstance(original, DomainError)


class MaskUnexpectedErrors(MaskErrors):
    """Production: an unexpected error shows a plain message and the request id, nothing else."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="Unexpected error.")

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
