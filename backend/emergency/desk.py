"""Group commit for alarms: presses that arrive together are stored in one transaction.

A thousand elders pressing at once (a power cut, an earthquake) must each be answered within
a second. One transaction per press spends most of that on commits and round trips; here
each press waits for the transaction that is being written to finish, then the presses that
arrived meanwhile are written together. Nobody waits for a timer: a lone press is written at
once, and the group grows only while the database is busy.

A press is stored even if its caller leaves (the client hung up): the group does not belong
to any one request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.config import Settings
from backend.db import create_engine, session_factory, transaction
from backend.emergency import service
from backend.emergency.models import Alert
from backend.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_GROUP = 500


@dataclass
class AlarmDesk:
    factory: async_sessionmaker[AsyncSession]
    settings: Settings
    max_group: int = MAX_GROUP
    engine: AsyncEngine | None = None  # set when the desk has a pool of its own
    _waiting: list[tuple[service.Press, asyncio.Future[tuple[Alert, bool]]]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None

    @classmethod
    def with_own_pool(cls, settings: Settings) -> AlarmDesk:
        """Its own two connections: a flood of other requests holding the service's pool
        cannot keep alarms waiting for one."""
        engine = create_engine(settings.database_url, pool_size=2)
        return cls(session_factory(engine), settings, engine=engine)

    async def press(self, press: service.Press) -> tuple[Alert, bool]:
        """Stored (with its events) when this returns: (alert, new)."""
        service.check_press(press)
        stored: asyncio.Future[tuple[Alert, bool]] = asyncio.get_running_loop().create_future()
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

    async def _write(self, group: list[tuple[service.Press, asyncio.Future[tuple[Alert, bool]]]]) -> None:
        async with transaction(self.factory) as session:
            results = await service.trigger_many(session, settings=self.settings, presses=[p for p, _ in group])
        for (_press, stored), result in zip(group, results, strict=True):
            if stored.done():
                continue
            if isinstance(result, InvalidInput):
                stored.set_exception(result)
            else:
                stored.set_result(result)

    async def close(self) -> None:
        """Finish what was pressed before shutting down."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def dispose(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
