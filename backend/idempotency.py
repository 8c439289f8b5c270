"""Idempotency keys: a client retrying a request (a lost answer on a weak line) gets the first
result, never a second order. A replay must be the same request: each first request stores a
fingerprint of what it asked for, and a key sent again with other content is refused."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput

R = TypeVar("R")

MIN_KEY, MAX_KEY = 8, 100


class IdempotencyKeyReused(InvalidInput):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__("idempotencyKey", field="idempotencyKey")


def scoped_key(key: str, *scope: object) -> str:
    """The stored key: the client's, checked, within its sender (one person's key is not another's)."""
    if not MIN_KEY <= len(key) <= MAX_KEY:
        raise InvalidInput("idempotencyKey", field="idempotencyKey")
    return ":".join([*(str(s) for s in scope), key])


def fingerprint(**request: Any) -> str:
    """A digest of what the request asked for (values as JSON, dates as ISO text)."""
    body = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def check_replay(stored: str | None, sent: str) -> None:
    """The first request's fingerprint against this one's (rows from before fingerprints were
    kept have none and are compared by the caller as before)."""
    if stored is not None and stored != sent:
        raise IdempotencyKeyReused()


async def replayed(session: AsyncSession, model: type[R], key: str, asked: str) -> R | None:
    """The row this key already made (an order, a booking), when the request is the same one
    again; IdempotencyKeyReused when the key was used for something else."""
    query = select(model).where(model.idempotency_key == key)  # type: ignore[attr-defined]
    first: R | None = (await session.execute(query)).scalar_one_or_none()
    if first is not None:
        check_replay(first.request_fingerprint, asked)  # type: ignore[attr-defined]
    return first
