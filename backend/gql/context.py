"""The per-request context: one session, who is asking, the locale, the loaders.

The API layer (backend/api/context.py) builds it, signs the subject in and hands it the
wiring that names domains (the loaders, where reads of someone's data are logged); the
toolkit itself knows no domain."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from backend.access.subject import Actor, Subject
from backend.db import is_writing, take_writer_turn, transaction
from backend.errors import Unauthenticated
from backend.parts import Parts

log = logging.getLogger(__name__)


Read = tuple[int, int, str, str]  # (person, reader, what, purpose)


@dataclass(frozen=True)
class Wiring:
    """What the API layer hands every context: the request's loaders (built on a session
    getter), and where reads of someone else's data are written once a unit ends."""

    loaders: Callable[[Callable[[], AsyncSession]], Any]
    log_reads: Callable[[AsyncSession, list[Read]], Awaitable[None]]


class Unit:
    """One unit of work: a session, opened on first use, committed or closed once, and the
    request's loaders. An HTTP request has one; on a WebSocket each operation has its own,
    so two subscriptions on one socket never share a session (SQLAlchemy refuses concurrent
    use, and one closing it would end the other)."""

    def __init__(self, rt: Parts, wiring: Wiring) -> None:
        self.rt = rt
        self.wiring = wiring
        self._session: AsyncSession | None = None
        # One commit/close at a time: a subscriber leaving mid-commit must not close the
        # session underneath it (SQLAlchemy refuses, IllegalStateChangeError).
        self._ending = asyncio.Lock()
        self._ending_task: asyncio.Task[None] | None = None
        # SQLite: this unit's place in the process's queue of writers, held to the commit.
        self._writer_turn: Callable[[], None] | None = None
        self.loaders = wiring.loaders(lambda: self.session)
        # Reads of someone else's address or phone: (person, reader, what, purpose), logged
        # once the unit ends (in a transaction of their own: a reading request stays reading).
        self.reads: set[Read] = set()
        self.ran: set[str] = set()  # the once-per-request mutations this unit has run

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
                await self.wiring.log_reads(session, sorted(reads))

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
    def __init__(
        self, rt: Parts, wiring: Wiring, *, ip: str, request_id: str, locale: str, socket: bool = False
    ) -> None:
        super().__init__()
        self.rt = rt
        self.wiring = wiring
        self.ip = ip
        self.request_id = request_id
        self.locale = locale
        self.socket = socket  # a WebSocket connection: one unit of work per operation
        self.subject: Subject | None = None  # who is asking: a person, a paired TV, a caller
        self._unit = Unit(rt, wiring)
        self.connection_params: dict[str, object] | None = None  # WebSocket connection_init payload

    @property
    def actor(self) -> Actor | None:
        """The person acting as themselves (signed in, or a caller who keyed the PIN)."""
        return self.subject.signed_in if self.subject is not None else None

    @property
    def unit(self) -> Unit:
        current = _operation_unit.get()
        return current[1] if current is not None and current[0] is self else self._unit

    @property
    def session(self) -> AsyncSession:
        return self.unit.session

    @property
    def loaders(self) -> Any:
        return self.unit.loaders

    def begin_operation(self) -> contextvars.Token[tuple[Context, Unit] | None]:
        """A WebSocket operation's own unit of work, for the rest of this task."""
        return _operation_unit.set((self, Unit(self.rt, self.wiring)))

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
        unit.loaders = self.wiring.loaders(lambda: unit.session)

    def note_read(self, person_id: int, what: str, purpose: str) -> None:
        """Someone else's address, phone or family's phones were read: the person may see who."""
        actor = self.actor
        if actor is not None and actor.id != person_id:
            self.unit.reads.add((person_id, actor.id, what, purpose))

    def require_subject(self) -> Subject:
        if self.subject is None:
            raise Unauthenticated()
        return self.subject

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
