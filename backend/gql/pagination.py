"""Cursor pagination: opaque cursors over a stable key, at most 100 a page."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from backend.errors import InvalidInput

T = TypeVar("T")
M = TypeVar("M")
U = TypeVar("U")
MAX_PAGE = 100


def _wrap(prefix: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{prefix}:{value}".encode()).decode().rstrip("=")


def _unwrap(cursor: str, prefix: str) -> str:
    """The cursor's value; ValueError when it is not one of ours."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    found, _, value = raw.partition(":")
    if found != prefix:
        raise ValueError(cursor)
    return value


def encode_cursor(key: int) -> str:
    return _wrap("k", str(key))


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        key = int(_unwrap(cursor, "k"))
        if not 0 <= key <= 2**63 - 1:
            raise ValueError(cursor)
        return key
    except ValueError as exc:
        raise InvalidInput("after", field="after") from exc


def encode_position(key: Sequence[int]) -> str:
    """A cursor into a list ordered in Python (a plan worked out when asked): the last row's
    sort key, so a row that moves between pages (someone just visited) skips no one else."""
    return _wrap("p", ",".join(str(part) for part in key))


def decode_position(cursor: str | None, size: int) -> tuple[int, ...] | None:
    if cursor is None:
        return None
    try:
        key = tuple(int(part) for part in _unwrap(cursor, "p").split(","))
        if len(key) != size or any(abs(part) > 2**63 - 1 for part in key):
            raise ValueError(cursor)
        return key
    except ValueError as exc:
        raise InvalidInput("after", field="after") from exc


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first: 1-{MAX_PAGE}", field="first")
    return first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def positioned_page(
    items: Sequence[U], position: Callable[[U], tuple[int, ...]], size: int, first: int, after: str | None
) -> tuple[list[U], PageInfo]:
    """One page of a list ordered in Python by `position` (`size` whole numbers), after the
    cursor of the last page's end."""
    limit, start = page_size(first), decode_position(after, size)
    rest = list(items) if start is None else [i for i in items if position(i) > start]
    page = rest[:limit]
    end = encode_position(position(page[-1])) if page else None
    return page, PageInfo(has_next_page=len(rest) > limit, end_cursor=end)


@strawberry.type
class Connection(Generic[T]):
    nodes: list[T]
    page_info: PageInfo


def connection(rows: Sequence[M], first: int, key: Callable[[M], int], to_node: Callable[[M], T]) -> Connection[T]:
    """`rows` was fetched with limit first + 1: the extra row only says there is more."""
    has_next = len(rows) > first
    rows = rows[:first]
    return Connection(
        nodes=[to_node(r) for r in rows],
        page_info=PageInfo(has_next_page=has_next, end_cursor=encode_cursor(key(rows[-1])) if rows else None),
    )
