"""Domain events through the outbox: delivered after commit, never lost, handled once per consumer."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import events
from backend.db import PARTS_KEY as KEY
from backend.db import session_factory, transaction
from backend.events import Event, EventReceipt, OutboxEvent
from tests.conftest import Database

seen: Counter[tuple[str, int]] = Counter()
failures_left: dict[str, int] = {}


def topic_with_consumer(*, fail_times: int = 0) -> str:
    """A fresh topic with one consumer that counts what it handles (and may fail first)."""
    topic = f"test.{uuid.uuid4().hex[:8]}"
    failures_left[topic] = fail_times

    @events.consumer(topic, name=f"counter.{topic}")
    async def count(session: object, event: Event, parts: object) -> None:
        if failures_left[topic] > 0:
            failures_left[topic] -= 1
            raise RuntimeError("the consumer's downstream is down")
        seen[(topic, int(event.payload["n"]))] += 1

    return topic


def a_process(db: Database) -> tuple[async_sessionmaker[AsyncSession], SimpleNamespace]:
    """A session factory whose sessions carry a process's parts, as the runtime builds it: what
    they commit reaches `parts.transport`."""
    parts = SimpleNamespace(transport=None)
    return session_factory(db.engine, info={KEY: parts}), parts


async def emit_committed(db: Database, topic: str, n: int, factory: Any = None) -> int:
    async with transaction(factory or db.factory) as session:
        row = events.emit(session, topic, {"n": n})
        await session.flush()
        return row.id


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_committed_event_reaches_its_consumer_in_process(db: Database) -> None:
    topic = topic_with_consumer()
    factory, parts = a_process(db)
    transport = parts.transport = events.InProcessTransport(factory)
    try:
        await emit_committed(db, topic, 1, factory)
        await asyncio.sleep(0)
        await transport.idle()
    finally:
        await transport.close()
    assert seen[(topic, 1)] == 1
    async with db.factory() as session:
        row = (await session.execute(select(OutboxEvent).where(OutboxEvent.topic == topic))).scalar_one()
    assert row.completed_at is not None


async def test_rolled_back_work_emits_nothing(db: Database) -> None:
    topic = topic_with_consumer()
    with pytest.raises(RuntimeError):
        async with transaction(db.factory) as session:
            events.emit(session, topic, {"n": 2})
            await session.flush()
            raise RuntimeError("the change failed")
    async with db.factory() as session:
        count = await session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic))
    assert count == 0 and seen[(topic, 2)] == 0


async def test_each_consumer_handles_an_event_once_however_often_delivered(db: Database) -> None:
    topic = topic_with_consumer()
    event_id = await emit_committed(db, topic, 3)
    results = await asyncio.gather(*(events.handle(db.factory, event_id) for _ in range(4)))
    assert all(results)
    assert seen[(topic, 3)] == 1
    async with db.factory() as session:
        receipts = await session.scalar(
            select(func.count()).select_from(EventReceipt).where(EventReceipt.event_id == event_id)
        )
    assert receipts == 1


async def test_a_failing_consumer_is_retried_by_the_sweeper(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "SWEEP_GRACE_S", 0.0)
    topic = topic_with_consumer(fail_times=1)
    event_id = await emit_committed(db, topic, 4)
    assert await events.handle(db.factory, event_id) is False
    async with db.factory() as session:
        row = await session.get(OutboxEvent, event_id)
        assert row is not None and row.attempts == 1 and "downstream" in (row.last_error or "")
        row_next = row.next_attempt_at
    # The sweeper only takes it once its backoff has passed; pretend it has.
    async with transaction(db.factory) as session:
        row = await session.get(OutboxEvent, event_id)
        row.next_attempt_at = row_next.replace(year=row_next.year - 1)
    assert event_id in await events.claim_overdue(db.factory)
    assert await events.handle(db.factory, event_id) is True
    assert seen[(topic, 4)] == 1


@pytest.mark.redis
async def test_redis_stream_workers_share_events_and_handle_each_once(
    pg_db: Database, redis_url: str, redis_prefix: str
) -> None:
    from redis.asyncio import Redis

    topic = topic_with_consumer()
    stream = f"{redis_prefix}:events"
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    stop = asyncio.Event()
    factory, parts = a_process(pg_db)
    workers = [events.RedisStreamTransport(c, stream, factory, worker_name=f"w{i}") for i, c in enumerate(clients)]
    consumers = [asyncio.create_task(w.consume(stop, block_ms=100)) for w in workers]
    parts.transport = workers[0]  # the committing process publishes through its own client
    try:
        for n in range(40):
            await emit_committed(pg_db, topic, n, factory)
        # A burst committed at once travels as a few stream entries of many ids each.
        async with transaction(factory) as session:
            for n in range(40, 100):
                events.emit(session, topic, {"n": n})
        await wait_for(lambda: sum(seen[(topic, n)] for n in range(100)) == 100)
        await asyncio.sleep(0.3)  # nothing more arrives later
    finally:
        stop.set()
        await asyncio.gather(*consumers, return_exceptions=True)
        for c in clients:
            await c.aclose()
    assert all(seen[(topic, n)] == 1 for n in range(100))
    assert await Redis.from_url(redis_url).xlen(stream) == 43  # 40 single commits, then 60 ids in 3 entries
    pending = await Redis.from_url(redis_url).xpending(stream, events.RedisStreamTransport.GROUP)
    assert pending["pending"] == 0


@pytest.mark.redis
async def test_with_redis_gone_the_sweeper_still_delivers(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.asyncio import Redis

    monkeypatch.setattr(events, "SWEEP_GRACE_S", 0.2)
    topic = topic_with_consumer()
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    factory, parts = a_process(pg_db)
    parts.transport = events.RedisStreamTransport(dead, "nowhere", factory, worker_name="api")
    stop = asyncio.Event()
    sweeper = asyncio.create_task(events.sweep_forever(factory, stop, interval_s=0.1))
    try:
        await emit_committed(pg_db, topic, 7, factory)
        await wait_for(lambda: seen[(topic, 7)] == 1)
    finally:
        stop.set()
        await sweeper
        await dead.aclose()
    assert seen[(topic, 7)] == 1


async def test_a_group_consumer_takes_events_together_and_a_bad_one_is_retried_alone(db: Database) -> None:
    topic = f"test.{uuid.uuid4().hex[:8]}"
    groups: list[list[int]] = []

    @events.group_consumer(topic, name=f"group.{topic}")
    async def handle_group(session: object, group: list[Event], parts: object) -> None:
        numbers = [int(ev.payload["n"]) for ev in group]
        if 13 in numbers:
            raise RuntimeError("event 13 cannot be handled")
        groups.append(numbers)

    ids = [await emit_committed(db, topic, n) for n in (11, 12, 13, 14)]
    done = await events.handle_many(db.factory, ids)
    assert done == {ids[0], ids[1], ids[3]}
    # Together first; after the group failed, each alone, so 13 holds up nobody.
    assert groups == [[11], [12], [14]]
    # Handled twice over, each event is still handled once.
    assert await events.handle_many(db.factory, ids) == {ids[0], ids[1], ids[3]}
    assert groups == [[11], [12], [14]]
    async with db.factory() as session:
        row = await session.get(OutboxEvent, ids[2])
    assert row is not None and row.completed_at is None and row.attempts == 2 and "13" in (row.last_error or "")


async def test_a_group_consumer_gets_one_group_when_all_is_well(db: Database) -> None:
    topic = f"test.{uuid.uuid4().hex[:8]}"
    groups: list[list[int]] = []

    @events.group_consumer(topic, name=f"group.{topic}")
    async def handle_group(session: object, group: list[Event], parts: object) -> None:
        groups.append([int(ev.payload["n"]) for ev in group])

    ids = [await emit_committed(db, topic, n) for n in range(5)]
    assert await events.handle_many(db.factory, ids) == set(ids)
    assert groups == [[0, 1, 2, 3, 4]]
