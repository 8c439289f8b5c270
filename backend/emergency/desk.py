"""Group commit for alarms: presses that arrive together are stored in one transaction.

A thousand elders pressing at once (a power cut, an earthquake) must each be answered within
a second. One transaction per press spends most of that on commits and round trips; here
each press waits for the transaction that is being written to finish, then the presses that
arrived meanwhile are written together. Nobody waits for a timer: a lone press is written at
once, and the group grows only while the database is busy.

A press is stored even if its caller leaves (the client hung up): the group does not belong
to any one request.

The app's own door (`fast_press`) hands in presses known only by the caller's token: the
desk looks the callers up for the whole group in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.access.rules import raiser_of
from backend.access.subject import Actor, Subject, load_people
from backend.alarm_pressure import AlarmPressure
from backend.config import Settings
from backend.db import create_engine, session_factory, transaction
from backend.emergency import service
from backend.emergency.models import AlertSource
from backend.errors import InvalidInput
from backend.tokens import AccessClaims

log = logging.getLogger(__name__)

MAX_GROUP = 500


@dataclass(frozen=True)
class SignedPress:
    """A press known by the caller's token alone: who pressed is looked up with the group."""

    claims: AccessClaims
    source: AlertSource
    idempotency_key: str | None = None


# (what the press did, the caller when the press came signed) or None: the caller is not a
# resident who may press (unknown, signed out everywhere, in no community); nothing was stored.
Stored = tuple[service.Pressed, Actor | None] | None


@dataclass
class AlarmDesk:
    factory: async_sessionmaker[AsyncSession]
    settings: Settings
    max_group: int = MAX_GROUP
    engine: AsyncEngine | None = None  # set when the desk has a pool of its own
    pressure: AlarmPressure = field(init=False)
    _waiting: list[tuple[service.Press | SignedPress, asyncio.Future[Stored]]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.pressure = AlarmPressure(self.settings.alarm_pressure_file)

    @classmethod
    def with_own_pool(cls, settings: Settings, info: dict[str, Any] | None = None) -> AlarmDesk:
        """Its own two connections: a flood of other requests holding the service's pool
        cannot keep alarms waiting for one. `info`: what its sessions carry (the process's
        parts, so what it stores reaches the event transport)."""
        engine = create_engine(settings.database_url, pool_size=2)
        return cls(session_factory(engine, info=info), settings, engine=engine)

    async def press(self, press: service.Press) -> service.Pressed:
        """Stored (with its events) when this returns."""
        service.check_key(press.idempotency_key)
        stored = await self._hand_in(press)
        assert stored is not None  # a known caller's press is stored or raises
        return stored[0]

    async def press_signed(self, press: SignedPress) -> tuple[service.Pressed, Actor] | None:
        """Stored when this returns: (what it did, who pressed); None if the token's holder
        may not press here, with nothing stored."""
        service.check_key(press.idempotency_key)
        stored = await self._hand_in(press)
        if stored is None:
            return None
        pressed, actor = stored
        assert actor is not None
        return pressed, actor

    async def _hand_in(self, press: service.Press | SignedPress) -> Stored:
        stored: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._waiting.append((press, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        return await asyncio.shield(stored)

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
            try:
                await self._write(group)
            except Exception:
                # One bad press (or a racing replica's idempotency key) must not sink the
                # others: each is tried again on its own.
                log.warning("alarm group failed; storing its presses one by one", exc_info=True)
                for one in group:
                    try:
                        await self._write([one])
                    except Exception as exc:
                        log.exception("alarm could not be stored")
                        if not one[1].done():
                            one[1].set_exception(exc)

    async def _write(self, group: list[tuple[service.Press | SignedPress, asyncio.Future[Stored]]]) -> None:
        self.pressure.mark()  # the chores' process holds back its writes meanwhile
        async with transaction(self.factory, urgent=True) as session:
            signed = [p.claims for p, _ in group if isinstance(p, SignedPress)]
            callers = iter(await load_people(session, signed) if signed else [])
            presses: list[tuple[service.Press, Actor | None, asyncio.Future[Stored]]] = []
            for press, stored in group:
                if isinstance(press, service.Press):
                    presses.append((press, None, stored))
                    continue
                actor = next(callers)
                raiser = raiser_of(Subject.person(actor)) if actor is not None else None
                if raiser is None:
                    if not stored.done():
                        stored.set_result(None)
                    continue
                presses.append((service.press_by(raiser, press.idempotency_key, press.source), actor, stored))
            results = await service.trigger_many(session, settings=self.settings, presses=[p for p, _, _ in presses])
        for (_press, actor, stored), result in zip(presses, results, strict=True):
            if stored.done():
                continue
            if isinstance(result, InvalidInput):
                stored.set_exception(result)
            else:
                stored.set_result((result, actor))

    async def close(self) -> None:
        """Finish what was pressed before shutting down."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def dispose(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
