"""SQLite has one writer: this process's units of work take turns, alarms first."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from backend.db import create_engine, session_factory, transaction
from backend.events import OutboxEvent, emit
from tests.conftest import Database


async def test_an_alarm_writes_before_work_that_queued_earlier(sqlite_db: Database) -> None:
    # The alarm desk has a pool of its own: the turns are per database file, not per engine.
    desk_engine = create_engine(sqlite_db.url)
    desk = session_factory(desk_engine)
    order: list[str] = []
    release_first = asyncio.Event()

    async def write(name: str, factory, urgent: bool = False, hold: asyncio.Event | None = None) -> None:  # type: ignore[no-untyped-def]
        async with transaction(factory, urgent=urgent) as session:
            order.append(name)
            emit(session, "test.turns", {"by": name})
            if hold is not None:
                await hold.wait()

    first = asyncio.create_task(write("notices 1", sqlite_db.factory, hold=release_first))
    await asyncio.sleep(0.05)
    queued = [asyncio.create_task(write("notices 2", sqlite_db.factory))]
    await asyncio.sleep(0.01)
    queued.append(asyncio.create_task(write("alarms", desk, urgent=True)))
    await asyncio.sleep(0.05)
    assert order == ["notices 1"]  # the others wait for their turn
    release_first.set()
    await asyncio.wait_for(asyncio.gather(first, *queued), 5)
    await desk_engine.dispose()
    assert order == ["notices 1", "alarms", "notices 2"]
    async with sqlite_db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 3


async def test_a_writer_that_gives_up_waiting_does_not_hold_up_the_next(sqlite_db: Database) -> None:
    order: list[str] = []
    release_first = asyncio.Event()

    async def write(name: str, hold: asyncio.Event | None = None) -> None:
        async with transaction(sqlite_db.factory) as session:
            order.append(name)
            emit(session, "test.turns", {"by": name})
            if hold is not None:
                await hold.wait()

    first = asyncio.create_task(write("first", release_first))
    await asyncio.sleep(0.05)
    leaving = asyncio.create_task(write("leaves"))
    staying = asyncio.create_task(write("stays"))
    await asyncio.sleep(0.05)
    leaving.cancel()  # its caller went away while it waited
    release_first.set()
    await asyncio.wait_for(asyncio.gather(first, staying), 5)
    assert order == ["first", "stays"]
