"""Helpers every domain's gql module uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from backend.errors import InvalidInput
from backend.gql.extensions import Atomic, OncePerRequest
from backend.gql.permissions import IsAuthenticated


def mutation(
    *,
    permissions: list[type[BasePermission]] | None = None,
    stores_elsewhere: bool = False,
    once_per_request: bool = False,
    **kwargs: Any,
) -> Any:
    """A mutation: runs in its own savepoint; signed-in only unless `permissions=[]`.

    `stores_elsewhere`: the mutation only reads in the request's session and hands its write
    to a component with its own transaction (the alarm desk); holding the request's write
    lock meanwhile would block that component on SQLite.
    `once_per_request`: aliases repeating it in one request are refused (a guessed code)."""
    from strawberry.permission import PermissionExtension

    classes = [IsAuthenticated] if permissions is None else permissions
    extensions: list[Any] = [] if stores_elsewhere else [Atomic()]
    if once_per_request:
        extensions.insert(0, OncePerRequest())
    if classes:
        extensions.insert(0, PermissionExtension(permissions=[cls() for cls in classes]))
    return strawberry.mutation(extensions=extensions, **kwargs)


MAX_ID = 2**63 - 1  # a 64-bit row id, on both databases


def parse_id(value: strawberry.ID | str, field: str = "id") -> int:
    try:
        parsed = int(str(value))
    except ValueError as exc:
        raise InvalidInput(field, field=field) from exc
    if not 0 < parsed <= MAX_ID:
        raise InvalidInput(field, field=field)
    return parsed


def parse_clock(value: str, field: str) -> dt.time:
    """A local time of day as a client sends it ("08:30")."""
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(field, field=field) from exc


def parse_weekdays(days: list[int], field: str = "weekdays") -> str:
    """Days of the week as a client sends them ([0, 1, 2], 0 = Monday), stored as "012"."""
    if not days or any(not 0 <= d <= 6 for d in days):
        raise InvalidInput(field, field=field)
    return "".join(str(d) for d in days)


def optional_id(value: strawberry.ID | str | None, field: str) -> int | None:
    """An optional ID argument ("for this person, else me")."""
    return None if value is None else parse_id(value, field)


@strawberry.type(description="A text a person sees, and where to hear it read aloud.")
class SpokenText:
    text: str
    read_aloud_url: str

    @classmethod
    def said(cls, info: Any, text: str, *, slow: bool = False, shared: bool = False) -> SpokenText:
        """Text in the asker's language with where to hear it."""
        ctx = info.context
        return cls(text=text, read_aloud_url=ctx.rt.read_aloud.url(text, locale=ctx.locale, slow=slow, shared=shared))
