"""The per-request context: one session, the actor, the locale, the loaders."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Callable

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from backend.auth.actor import Actor, TvActor, load_actor
from backend.auth.tokens import AccessClaims, TokenError
from backend.content.catalog import DEFAULT_LOCALE
from backend.db import is_writing, take_writer_turn, transaction
from backend.errors import Unauthenticated
from backend.gql.loaders import Loaders
from backend.observability import request_id_var
from backend.parts import Parts
from backend.privacy import service as privacy_service

log = logging.getLogger(__name__)


def locale_from_header(accept_language: str | None) -> str:
    value = (accept_language or "").lower()
    if value.startswith(("yue", "zh-hk", "zh-mo")):
        return "yue"
    if value.startswith("ko"):
        return "ko"
    return DEFAULT_LOCALE


class Unit:
    """One unit of work: a session, opened on first use, committed or closed once, and the
    request's loaders. An HTTP request has one; on a WebSocket each operation has its own,
    so two subscriptions on one socket never share a session (SQLAlchemy refuses concurrent
    use, and one closing it would end the other)."""

    def __init__(self, rt: Parts) -> None:
        self.rt = rt
        self._session: AsyncSession | None = None
        # One commit/close at a time: a subscriber leaving mid-commit must not close the
        # session underneath it (SQLAlchemy refuses, IllegalStateChangeError).
        self._ending = asyncio.Lock()
        self._ending_task: asyncio.Task[None] | None = None
        # SQLite: this unit's place in the process's queue of writers, held to the commit.
        self._writer_turn: Callable[[], None] | None = None
        self.loaders = Loaders(lambda: self.session)
        # Reads of someone else's address or phone: (person, reader, what, purpose), logged
        # once the unit ends (in a transaction of their own: a reading request stays reading).
        self.reads: set[tuple[int, int, str, str]] = set()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.rt.factory()
        return self._session

    async def take_writer_turn(self) -> None:
        if self._writer_turn is not None:
            return
        session = self.session
        if session.in_transaction() and not await is_writing(session):
            # What was read so far (the actor) stays loaded; the connection goes back to the
            # pool while we wait, or the writer ahead of us could be left without one.
            await session.commit()
        self._writer_turn = await take_writer_turn(session)

    async def close(self) -> None:
        pending = self._ending_task
        if pending is not None and not pending.done():
            await asyncio.wait([pending])  # its error, if any, went to its own caller or the log
        async with self._ending:
            await self._close()

    async def commit_and_close(self) -> None:
        task = asyncio.ensure_future(self._commit_and_close())
        task.add_done_callback(_log_lost_error)
        self._ending_task = task
        await asyncio.shield(task)

    async def _commit_and_close(self) -> None:
        async with self._ending:
            try:
                if self._session is not None:
                    await self._session.commit()
            finally:
                await self._close()
            await self._log_reads()

    async def _log_reads(self) -> None:
        reads, self.reads = self.reads, set()
        if reads:
            async with transaction(self.rt.factory) as session:
                await privacy_service.log_reads(session, sorted(reads))

    async def _close(self) -> None:
        try:
            if self._session is not None:
                session, self._session = self._session, None
                await session.close()
        finally:
            release, self._writer_turn = self._writer_turn, None
            if release is not None:
                release()


# The unit of the operation running in this task (a WebSocket operation runs in a task of its
# own; the tasks graphql-core gathers for a list inherit it).
_operation_unit: contextvars.ContextVar[tuple[Context, Unit] | None] = contextvars.ContextVar(
    "linli_operation_unit", default=None
)


class Context(BaseContext):
    def __init__(self, rt: Parts, *, ip: str, request_id: str, locale: str, socket: bool = False) -> None:
        super().__init__()
        self.rt = rt
        self.ip = ip
        self.request_id = request_id
        self.locale = locale
        self.socket = socket  # a WebSocket connection: one unit of work per operation
        self.actor: Actor | None = None
        self.tv: TvActor | None = None
        self.claims: AccessClaims | None = None  # of the token that signed this request or socket in
        self._unit = Unit(rt)
        self.connection_params: dict[str, object] | None = None  # WebSocket connection_init payload

    @property
    def unit(self) -> Unit:
        current = _operation_unit.get()
        return current[1] if current is not None and current[0] is self else self._unit

    @property
    def session(self) -> AsyncSession:
        return self.unit.session

    @property
    def loaders(self) -> Loaders:
        return self.unit.loaders

    def begin_operation(self) -> contextvars.Token[tuple[Context, Unit] | None]:
        """A WebSocket operation's own unit of work, for the rest of this task."""
        return _operation_unit.set((self, Unit(self.rt)))

    def end_operation(self, token: contextvars.Token[tuple[Context, Unit] | None]) -> None:
        _operation_unit.reset(token)

    async def take_writer_turn(self) -> None:
        """Before the request first writes: on SQLite, queue with the process's other writers
        (handed the lock the moment the last one commits) rather than in SQLite's busy wait,
        which sleeps in growing steps and lets a burst of orders starve one of them."""
        await self.unit.take_writer_turn()

    def fresh_reads(self) -> None:
        """New loaders: a long-lived (subscription) context must not serve stale rows."""
        unit = self.unit
        unit.loaders = Loaders(lambda: unit.session)

    async def authenticate(self, token: str | None) -> None:
        if not token:
            return
        try:
            claims = self.rt.tokens.decode_access(token)
        except TokenError:
            return
        actor = await load_actor(self.session, claims)
        if isinstance(actor, TvActor):
            self.tv, self.claims = actor, claims
        elif actor is not None:
            self.actor, self.claims = actor, claims
            self.locale = actor.person.locale

    def note_read(self, person_id: int, what: str, purpose: str) -> None:
        """Someone else's address, phone or family's phones were read: the person may see who."""
        if self.actor is not None and self.actor.id != person_id:
            self.unit.reads.add((person_id, self.actor.id, what, purpose))

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated()
        return self.actor

    async def close(self) -> None:
        await self.unit.close()

    async def commit_and_close(self) -> None:
        """Once started it finishes even if the caller is cancelled (a client leaving), and
        a concurrent close() waits for it: what the request wrote is kept."""
        await self.unit.commit_and_close()


def _log_lost_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("ending a request's session failed", exc_info=task.exception())


def _bearer(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


async def _context_scope(connection: HTTPConnection):  # type: ignore[no-untyped-def]
    rt: Parts = connection.app.state.runtime
    ctx = Context(
        rt,
        ip=connection.client.host if connection.client else "unknown",
        request_id=request_id_var.get() or uuid.uuid4().hex[:16],
        locale=locale_from_header(connection.headers.get("accept-language")),
        socket=connection.scope["type"] == "websocket",
    )
    try:
        await ctx.authenticate(_bearer(connection))
        yield ctx
    finally:
        await ctx.close()


async def get_context(ctx: Context = Depends(_context_scope)) -> Context:
    return ctx
