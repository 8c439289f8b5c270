"""Assembles the registered domains' Query, Mutation and Subscription types and their error
types into one schema with the house limits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from backend.config import Settings
from backend.gql.errors import UserError, exception_handlers
from backend.gql.extensions import (
    CleanText,
    LocalizeErrors,
    MaskUnexpectedErrors,
    TrustedDocuments,
    UnitOfWork,
    is_expected,
)
from backend.registry import DOMAINS, error_types

log = logging.getLogger(__name__)


def _root(name: str, parts: list[type | None]) -> Any:
    """One root type whose fields are the domains' (in the registry's order)."""
    return strawberry.type(type(name, tuple(p for p in parts if p is not None), {}))


Query = _root("Query", [d.query for d in DOMAINS])
Mutation = _root("Mutation", [d.mutation for d in DOMAINS])
Subscription = _root("Subscription", [d.subscription for d in DOMAINS])


def _clean_text_everywhere() -> None:
    """Every root query and mutation checks its text arguments (CleanText), once."""
    for root in (Query, Mutation):
        for field in root.__strawberry_definition__.fields:  # type: ignore[union-attr]
            if field.arguments and not any(isinstance(e, CleanText) for e in field.extensions):
                field.extensions.append(CleanText())


class LinliSchema(strawberry.Schema):
    """Logs bugs, not people's mistakes: an expected error (NOT_FOUND, INVALID_INPUT, a refused
    permission, a validation error) is the asker's to read, not a traceback at ERROR; a flood of
    them must not flood the log."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if is_expected(error):
                # The asker's to read: one line with the code, no traceback.
                code = (error.extensions or {}).get("code", "GRAPHQL")
                log.info("graphql refused", extra={"path": error.path, "code": code})
            else:
                log.error("unexpected GraphQL error", extra={"path": error.path}, exc_info=error.original_error)


def build_schema(settings: Settings, trusted: TrustedDocuments | None = None) -> strawberry.Schema:
    _clean_text_everywhere()
    # Factories, not instances: each request gets fresh extension state. The parser and
    # validation caches are shared module-level LRUs, bounded here. The validation cache is
    # keyed by the rule classes, so the limit rules are built once, not per request.
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if trusted is not None:
        rules.append(trusted.validation_rule())
    extensions: list[Callable[[], Any]] = [
        UnitOfWork,
        LocalizeErrors,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    if settings.mask_errors:
        extensions.append(MaskUnexpectedErrors)
    return LinliSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[UserError],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
        exception_handlers=exception_handlers(error_types()),
    )


def schema_sdl() -> str:
    """The schema as committed in graphql/schema.graphql (independent of settings)."""
    return build_schema(Settings()).as_str() + "\n"
