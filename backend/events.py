"""Domain events through a transactional outbox.

A service calls `emit(session, topic, payload)`: the event row commits with the change it
describes, or not at all. After commit the transport of the process that opened the session
(its parts, carried by the session: backend/parts.py) is told (in-process queue when
embedded, a Redis Stream consumer group when distributed); a sweeper re-drives from the
database anything not yet handled, so losing the transport or a process delays an event
but never loses it. Each consumer records a receipt in the same transaction as its effects,
so an event is handled at most once per consumer however often it is delivered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, carried_by, is_postgres, transaction, utcnow

log = logging.getLogger(__name__)

# How long the normal path has before the sweeper takes an event over.
SWEEP_GRACE_S = 10.0
DISPATCH_GROUP = 200  # events handled together at most (one transaction per group consumer)
# Redis stream entries carry up to this many event ids: a burst's thousand events are 40
# XADDs rather than 1,000 (the api process spent a tenth of its time on them), and a
# worker's read of ENTRIES_PER_READ entries is still a group of DISPATCH_GROUP at most.
STREAM_ENTRY_IDS = 25
ENTRIES_PER_READ = DISPATCH_GROUP // STREAM_ENTRY_IDS


class OutboxEvent(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "completed_at", "next_attempt_at"),)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_attempt_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class EventReceipt(Base):
    __tablename__ = "event_receipts"
    event_id: Mapped[int] = mapped_column(IdType, ForeignKey("outbox_events.id"), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    handled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Event:
    """What a consumer receives: a read-only copy of the outbox row."""

    id: int
    topic: str
    payload: dict[str, Any]
    created_at: dt.datetime


# Consumers are handed the session of their transaction, the event(s), and the process's parts
# (backend/parts.py; None for a session factory built without them).
Handler = Callable[[AsyncSession, Event, Any], Awaitable[None]]
GroupHandler = Callable[[AsyncSession, list[Event], Any], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    name: str
    topic: str
    handler: GroupHandler  # a one-event handler is wrapped to take a group of one
    grouped: bool  # takes the events that arrived together in one transaction


_consumers: dict[str, list[Consumer]] = {}


def _subscribe(consumer: Consumer) -> None:
    subscribed = _consumers.setdefault(consumer.topic, [])
    if not any(c.name == consumer.name for c in subscribed):
        subscribed.append(consumer)


def consumer(topic: str, name: str) -> Callable[[Handler], Handler]:
    """Register `handler` for `topic`, one event per transaction; `name` identifies its
    receipts, keep it stable."""

    def register(handler: Handler) -> Handler:
        async def one_by_one(session: AsyncSession, group: list[Event], parts: Any) -> None:
            for ev in group:
                await handler(session, ev, parts)

        _subscribe(Consumer(name, topic, one_by_one, grouped=False))
        return handler

    return register


def group_consumer(topic: str, name: str) -> Callable[[GroupHandler], GroupHandler]:
    """Register a handler that takes the events that arrived together in one transaction (a
    burst of alarms: one set of queries and one round of pushes for all of them). Should the
    group fail, each event is tried alone, so one bad event cannot hold up the others."""

    def register(handler: GroupHandler) -> GroupHandler:
        _subscribe(Consumer(name, topic, handler, grouped=True))
        return handler

    return register


def consumers_of(topic: str) -> list[Consumer]:
    return _consumers.get(topic, [])


def emit(session: AsyncSession, topic: str, payload: dict[str, Any]) -> OutboxEvent:
    row = OutboxEvent(
        topic=topic,
        payload=payload,
        next_attempt_at=utcnow() + dt.timedelta(seconds=SWEEP_GRACE_S),
    )
    session.add(row)
    session.info.setdefault("linli.emitted", []).append(row)
    return row


async def emit_many(session: AsyncSession, topic: str, payloads: Sequence[dict[str, Any]]) -> None:
    """Many events of one topic in one statement (a burst of alarms): no ORM object each,
    which on SQLite would be one INSERT each."""
    if not payloads:
        return
    due = utcnow() + dt.timedelta(seconds=SWEEP_GRACE_S)
    rows = [{"topic": topic, "payload": payload, "next_attempt_at": due} for payload in payloads]
    ids = (await session.execute(insert(OutboxEvent).returning(OutboxEvent.id), rows)).scalars().all()
    session.info.setdefault("linli.emitted", []).extend(ids)


class Transport:
    """Carries event ids from the committing process to the consumers."""

    def published(self, event_ids: list[int]) -> None:
        raise NotImplementedError  # pragma: no cover - interface


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: SQLAlchemy calls this hook for those too; wait for the real commit
    emitted = session.info.pop("linli.emitted", None)
    transport = getattr(carried_by(session), "transport", None)
    if emitted and transport is not None:
        transport.published([row if isinstance(row, int) else row.id for row in emitted])


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop("linli.emitted", None)


async def handle(factory: async_sessionmaker[AsyncSession], event_id: int) -> bool:
    """Run every consumer of one event that has not handled it yet. True when all have."""
    return event_id in await handle_many(factory, [event_id])


async def handle_many(factory: async_sessionmaker[AsyncSession], event_ids: Sequence[int]) -> set[int]:
    """Run every consumer of these events that has not handled them yet; the ids that are
    done (every consumer handled them). A group consumer gets the events of its topic in one
    transaction, any other consumer one event per transaction."""
    async with factory() as session:
        rows = await session.execute(
            select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload, OutboxEvent.created_at).where(
                OutboxEvent.id.in_(event_ids), OutboxEvent.completed_at.is_(None)
            )
        )
        pending = [Event(id=i, topic=topic, payload=dict(payload), created_at=at) for i, topic, payload, at in rows]
    failed: dict[int, str] = {}
    by_topic: dict[str, list[Event]] = {}
    for ev in sorted(pending, key=lambda e: e.id):
        by_topic.setdefault(ev.topic, []).append(ev)
    for topic, group in by_topic.items():
        for c in consumers_of(topic):
            if c.grouped and len(group) > 1:
                try:
                    await _run(factory, c, group)
                    continue
                except Exception:
                    log.exception("event group failed; trying each alone", extra={"consumer": c.name})
            for ev in group:
                try:
                    await _run(factory, c, [ev])
                except Exception as exc:
                    log.exception("event consumer failed", extra={"consumer": c.name, "event_id": ev.id})
                    failed[ev.id] = f"{c.name}: {exc!r}"[:2000]
    done = [ev.id for ev in pending if ev.id not in failed]
    async with transaction(factory) as session:
        if done:
            await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(done)).values(completed_at=utcnow()))
        for event_id, error in failed.items():
            row = await session.get(OutboxEvent, event_id)
            if row is not None:
                row.attempts += 1
                row.last_error = error
                backoff = min(300.0, 2.0 ** min(row.attempts, 8))
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff)
    return set(event_ids) - set(failed)


async def _run(factory: async_sessionmaker[AsyncSession], c: Consumer, group: list[Event]) -> None:
    """One transaction: the receipts this consumer can still take, then its work on those
    events. A racing worker that took a receipt first leaves that event out."""
    async with transaction(factory) as session:
        taken = await _take_receipts(session, c.name, [ev.id for ev in group])
        mine = [ev for ev in group if ev.id in taken]
        if mine:
            await c.handler(session, mine, carried_by(session))


async def _take_receipts(session: AsyncSession, consumer_name: str, event_ids: list[int]) -> set[int]:
    values = [{"event_id": i, "consumer": consumer_name, "handled_at": utcnow()} for i in event_ids]
    postgres = is_postgres(session)
    statement = (
        pg_insert(EventReceipt).values(values).on_conflict_do_nothing()
        if postgres
        else sqlite_insert(EventReceipt).values(values).on_conflict_do_nothing()
    )
    rows = await session.execute(statement.returning(EventReceipt.event_id))
    return set(rows.scalars())


async def claim_overdue(factory: async_sessionmaker[AsyncSession], limit: int = 100) -> list[int]:
    """Events the normal path did not finish in time; each claimed by moving its next attempt."""
    now = utcnow()
    async with transaction(factory) as session:
        rows = (
            await session.execute(
                select(OutboxEvent.id, OutboxEvent.next_attempt_at)
                .where(OutboxEvent.completed_at.is_(None), OutboxEvent.next_attempt_at <= now)
                .order_by(OutboxEvent.id)
                .limit(limit)
            )
        ).all()
        claimed = []
        for event_id, seen_next in rows:
            res = await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_id, OutboxEvent.next_attempt_at == seen_next)
                .values(next_attempt_at=now + dt.timedelta(seconds=SWEEP_GRACE_S * 3))
            )
            if res.rowcount:  # type: ignore[attr-defined]
                claimed.append(event_id)
    return claimed


class InProcessTransport(Transport):
    """Embedded mode: a queue in this process, drained by a few dispatcher tasks."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], dispatchers: int = 4) -> None:
        self._factory = factory
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._dispatch()) for _ in range(dispatchers)]

    def published(self, event_ids: list[int]) -> None:
        for event_id in event_ids:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event_id)

    async def _dispatch(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < DISPATCH_GROUP and not self._queue.empty():
                group.append(self._queue.get_nowait())  # whatever else is waiting goes along
            try:
                await handle_many(self._factory, group)
            except Exception:
                log.exception("event dispatch failed", extra={"event_ids": group[:10]})
            finally:
                for _ in group:
                    self._queue.task_done()

    async def idle(self) -> None:
        """Wait until everything queued so far has been handled (tests, shutdown)."""
        await self._queue.join()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class RedisStreamTransport(Transport):
    """Distributed mode: event ids on a Redis Stream read by a consumer group of workers.

    The stream only carries ids; the outbox row is the event. A worker that dies with
    messages pending has them claimed by another after `reclaim_idle_ms`.
    """

    GROUP = "workers"

    def __init__(
        self,
        redis: Any,
        stream: str,
        factory: async_sessionmaker[AsyncSession],
        worker_name: str,
        reclaim_idle_ms: int = 30_000,
    ) -> None:
        self._redis = redis
        self._stream = stream
        self._factory = factory
        self._name = worker_name
        self._reclaim_idle_ms = reclaim_idle_ms
        self._loop = asyncio.get_running_loop()
        self._pending_adds: set[asyncio.Task[None]] = set()

    def published(self, event_ids: list[int]) -> None:
        def start() -> None:
            task = asyncio.create_task(self._add(event_ids))
            self._pending_adds.add(task)
            task.add_done_callback(self._pending_adds.discard)

        self._loop.call_soon_threadsafe(start)

    async def _add(self, event_ids: list[int]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for start in range(0, len(event_ids), STREAM_ENTRY_IDS):
                    ids = ",".join(str(i) for i in event_ids[start : start + STREAM_ENTRY_IDS])
                    pipe.xadd(self._stream, {"ids": ids}, maxlen=100_000, approximate=True)
                await pipe.execute()
        except Exception:
            # The sweeper will find these in the outbox.
            log.warning("could not publish events to Redis", exc_info=True)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._stream, self.GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def consume(self, stop: asyncio.Event, block_ms: int = 1000) -> None:
        await self.ensure_group()
        while not stop.is_set():
            try:
                claimed = await self._redis.xautoclaim(
                    self._stream, self.GROUP, self._name, self._reclaim_idle_ms, "0-0", count=ENTRIES_PER_READ
                )
                messages = [(self._stream, claimed[1])] if claimed and claimed[1] else []
                if not messages:
                    messages = await self._redis.xreadgroup(
                        self.GROUP, self._name, {self._stream: ">"}, count=ENTRIES_PER_READ, block=block_ms
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Redis stream read failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for _stream, entries in messages or []:
                await self._process(entries)

    async def _process(self, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        ids = {msg_id: _ids_of(fields) for msg_id, fields in entries}
        every = [i for chunk in ids.values() for i in chunk]
        try:
            done = await handle_many(self._factory, every)
        except Exception:
            log.exception("event dispatch failed", extra={"event_ids": every[:10]})
            return  # left pending; reclaimed later or re-driven by the sweeper
        acked = [msg_id for msg_id, chunk in ids.items() if all(i in done for i in chunk)]
        if not acked:
            return
        try:
            await self._redis.xack(self._stream, self.GROUP, *acked)
        except Exception:
            log.warning("could not ack events", exc_info=True)


def _ids_of(fields: dict[Any, Any]) -> list[int]:
    """The event ids a stream entry carries ("ids": "1,2,3"; older entries "id": "1")."""
    raw = fields.get(b"ids") or fields.get("ids") or fields.get(b"id") or fields.get("id") or b""
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


async def sweep_forever(
    factory: async_sessionmaker[AsyncSession], stop: asyncio.Event, interval_s: float = 2.0
) -> None:
    """The database is the source of truth: re-drive whatever the transport did not finish."""
    while not stop.is_set():
        try:
            overdue = await claim_overdue(factory)
            if overdue:
                await handle_many(factory, overdue)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event sweep failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            pass
