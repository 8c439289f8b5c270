"""Subscriptions that stream rows as they change."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from graphql import GraphQLError

from backend.errors import DomainError
from backend.gql.context import Context
from backend.gql.errors import message_for

T = TypeVar("T")


async def rows_as_they_change(
    ctx: Context, channels: list[str], kind: str, load: Callable[[dict[str, Any]], Awaitable[T | None]]
) -> AsyncIterator[T]:
    """For each live message of `kind`, the row it names, read fresh (None: skipped).

    A subscription lives long: each message gets new loaders (no stale rows cached from an
    earlier one), and the session is closed before waiting for the next message, so an idle
    subscriber holds no database connection. What the resolvers wrote (the access log of a
    health read) is committed first; a client leaving meanwhile waits for that to finish."""
    async for message in ctx.rt.live.subscribe(*channels):
        if message.get("kind") != kind:
            continue
        ctx.fresh_reads()
        row = await load(message)
        if row is not None:
            yield row
        await ctx.commit_and_close()


def refused(ctx: Context, error: DomainError) -> GraphQLError:
    """A subscription refused before its first message: the same code and localized message a
    query's top-level error carries (strawberry does not run LocalizeErrors on a stream)."""
    return GraphQLError(message_for(error, ctx.locale, ctx.rt.catalog), extensions={"code": error.code})
