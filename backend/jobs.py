"""Durable jobs and timers (escalations, reminders, retries).

`schedule(session, kind, run_at, payload)` writes a row in the caller's transaction. Runners
claim due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), run the handler and
mark the row done in one transaction that only commits if the lease is still theirs: a
runner killed mid-job leaves a lease that expires, another runner takes the job over, and
its database effects happen exactly once. Redis, when present, only wakes runners early;
they poll the table anyway, so losing Redis delays nothing by more than the poll interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, carried_by, is_postgres, str_enum, transaction, utcnow

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_at: Mapped[dt.datetime]
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus),
        default=JobStatus.PENDING,
    )
    # One live job per key (e.g. "escalate:alarm:42:tier:2"); rescheduling the key replaces it.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    lease_until: Mapped[dt.datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    finished_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class JobRun:
    id: int
    kind: str
    payload: dict[str, Any]
    run_at: dt.datetime
    attempt: int


# A handler is handed its transaction's session, the run, and the process's parts
# (backend/parts.py; None for a session factory built without them).
JobHandler = Callable[[AsyncSession, JobRun, Any], Awaitable[None]]
_handlers: dict[str, JobHandler] = {}

# Work that can wait (drawing the TV channel, crediting the month's subsidies, pruning): run
# apart from what cannot (an alarm's escalation, a notice's next path), at a lower priority.
_can_wait: set[str] = set()


class Kinds(StrEnum):
    """Which jobs a runner takes."""

    ALL = "all"
    URGENT = "urgent"  # what cannot wait: the service's own process
    CAN_WAIT = "can_wait"  # chores: a niced process of their own, yielding to alarms


def can_wait(kind: str) -> bool:
    return kind in _can_wait


def job_handler(kind: str, *, waits: bool = False) -> Callable[[JobHandler], JobHandler]:
    """`waits`: a chore that can wait for alarms (it runs with Kinds.CAN_WAIT)."""

    def register(fn: JobHandler) -> JobHandler:
        _handlers[kind] = fn
        if waits:
            _can_wait.add(kind)
        return fn

    return register


# A long job (encoding the TV channel's loop) works with a session that only reads, so it
# holds no write lock for seconds (on SQLite that would stop every other writer, alarms
# included); what it returns then writes, with the job marked done, in one short transaction.
Then = Callable[[AsyncSession], Awaitable[None]]
LongJobHandler = Callable[[AsyncSession, JobRun, Any], Awaitable[Then | None]]
_long_handlers: dict[str, LongJobHandler] = {}


def long_job_handler(kind: str, *, waits: bool = False) -> Callable[[LongJobHandler], LongJobHandler]:
    def register(fn: LongJobHandler) -> LongJobHandler:
        _long_handlers[kind] = fn
        if waits:
            _can_wait.add(kind)
        return fn

    return register


async def schedule(
    session: AsyncSession,
    kind: str,
    run_at: dt.datetime,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    max_attempts: int = 8,
) -> Job:
    if key is not None:
        existing = (await session.execute(select(Job).where(Job.dedupe_key == key))).scalar_one_or_none()
        if existing is not None:
            if existing.status == JobStatus.PENDING:
                existing.run_at = run_at
                existing.payload = payload or {}
                _note_scheduled(session, run_at)
                return existing
            # Finished, or running (often the very job scheduling its successor): keep its
            # history and let the key pass to the new job.
            existing.dedupe_key = None
            await session.flush()
    job = Job(kind=kind, run_at=run_at, payload=payload or {}, dedupe_key=key, max_attempts=max_attempts)
    session.add(job)
    _note_scheduled(session, run_at)
    return job


async def schedule_new(
    session: AsyncSession, kind: str, jobs: Sequence[tuple[dt.datetime, dict[str, Any], str]], *, max_attempts: int = 8
) -> None:
    """Jobs (run_at, payload, key) for things just created, so no job can hold their keys:
    one statement for a burst (a thousand alarms' escalation timers)."""
    if not jobs:
        return
    rows = [
        {"kind": kind, "run_at": run_at, "payload": payload, "dedupe_key": key, "max_attempts": max_attempts}
        for run_at, payload, key in jobs
    ]
    await session.execute(insert(Job), rows)
    _note_scheduled(session, min(run_at for run_at, _, _ in jobs))


_standing: list[str] = []


def standing(kind: str) -> None:
    """A job that is always scheduled (monthly subsidies): started soon after the workers
    first start (the standing jobs one after another, not all at once); its handler schedules
    its next run under `standing_key(kind)`. A chore: it can wait for alarms."""
    _standing.append(kind)
    _can_wait.add(kind)


def standing_key(kind: str) -> str:
    return f"standing:{kind}"


async def ensure_standing(
    factory: async_sessionmaker[AsyncSession], only: Sequence[str] = (), *, stagger_s: float = 0.0
) -> None:
    """Schedule the standing jobs not yet scheduled: the first `stagger_s` from now, each next
    `stagger_s` after the one before, so a process starting does not start every chore at once."""
    wanted = [kind for kind in _standing if not only or kind in only]
    for i, kind in enumerate(wanted):
        try:
            async with transaction(factory) as session:
                pending = await session.scalar(
                    select(Job.id).where(Job.dedupe_key == standing_key(kind), Job.status == JobStatus.PENDING)
                )
                if pending is None:
                    at = utcnow() + dt.timedelta(seconds=stagger_s * (i + 1))
                    await schedule(session, kind, at, key=standing_key(kind))
        except IntegrityError:
            log.info("standing job %s was scheduled by another process", kind)


async def cancel(session: AsyncSession, key: str) -> bool:
    res = await session.execute(
        update(Job)
        .where(Job.dedupe_key == key, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), dedupe_key=None)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def _note_scheduled(session: AsyncSession, run_at: dt.datetime) -> None:
    session.info.setdefault("linli.scheduled", []).append(run_at)


WAKE_HORIZON_S = 1.0  # a runner's longest sleep (JobRunner poll_s)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: SQLAlchemy calls this hook for those too; wait for the real commit
    scheduled = session.info.pop("linli.scheduled", None)
    if scheduled:
        earliest = min(scheduled)
        if earliest > utcnow() + dt.timedelta(seconds=WAKE_HORIZON_S):
            return  # runners look at least that often: a burst of far-off timers wakes nobody
        parts = carried_by(session)
        if parts is not None:
            parts.wake_jobs(earliest)  # the process that scheduled it: its runner, and others via Redis


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop("linli.scheduled", None)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        *,
        name: str | None = None,
        lease_s: float = 60.0,
        poll_s: float = WAKE_HORIZON_S,
        batch: int = 20,
        concurrency: int = 8,
        kinds: Kinds = Kinds.ALL,
        yield_to: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`kinds`: which jobs it takes; `yield_to`: awaited before each claim (a runner of
        chores waits while alarms are being stored)."""
        self._factory = factory
        self.kinds = kinds
        self._yield_to = yield_to
        self.name = name or runner_name()
        self._lease = dt.timedelta(seconds=lease_s)
        self._poll_s = poll_s
        self._batch = batch
        self._sem = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self, _run_at: dt.datetime | None = None) -> None:
        self._loop.call_soon_threadsafe(self._wake.set)

    async def claim(self) -> list[JobRun]:
        if self._yield_to is not None:
            await self._yield_to()
        now = utcnow()
        async with transaction(self._factory) as session:
            due = (
                select(Job.id)
                .where(
                    ((Job.status == JobStatus.PENDING) & (Job.run_at <= now))
                    | ((Job.status == JobStatus.RUNNING) & (Job.lease_until < now))
                )
                .order_by(Job.run_at)
                .limit(self._batch)
            )
            due = self._mine(due)
            if is_postgres(session):
                due = due.with_for_update(skip_locked=True)
            rows = (
                await session.execute(
                    update(Job)
                    .where(Job.id.in_(due.scalar_subquery()))
                    .values(
                        status=JobStatus.RUNNING,
                        lease_until=now + self._lease,
                        locked_by=self.name,
                        attempts=Job.attempts + 1,
                    )
                    .returning(Job.id, Job.kind, Job.payload, Job.run_at, Job.attempts)
                )
            ).all()
        return [JobRun(id=r[0], kind=r[1], payload=dict(r[2]), run_at=r[3], attempt=r[4]) for r in rows]

    async def run_one(self, run: JobRun) -> None:
        handler = _handlers.get(run.kind)
        long = _long_handlers.get(run.kind)
        try:
            then: Then | None = None
            if long is not None:
                async with self._factory() as session:  # reads only while it works
                    then = await long(session, run, carried_by(session))
            async with transaction(self._factory) as session:
                if handler is not None:
                    await handler(session, run, carried_by(session))
                elif then is not None:
                    await then(session)
                elif long is None:
                    raise LookupError(f"no handler for job kind {run.kind!r}")
                done = await session.execute(
                    update(Job)
                    .where(Job.id == run.id, Job.locked_by == self.name, Job.status == JobStatus.RUNNING)
                    .values(status=JobStatus.DONE, finished_at=utcnow(), dedupe_key=None)
                )
                if not done.rowcount:  # type: ignore[attr-defined]
                    raise _LeaseLost()
        except _LeaseLost:
            log.warning("job lease lost; its work was rolled back", extra={"job_id": run.id})
        except Exception as exc:
            log.exception("job failed", extra={"job_id": run.id, "kind": run.kind})
            await self._failed(run, exc)

    async def _failed(self, run: JobRun, exc: Exception) -> None:
        async with transaction(self._factory) as session:
            job = await session.get(Job, run.id)
            if job is None or job.locked_by != self.name:
                return
            job.last_error = repr(exc)[:2000]
            job.locked_by = None
            job.lease_until = None
            if job.attempts >= job.max_attempts:
                job.status = JobStatus.FAILED
                job.finished_at = utcnow()
                job.dedupe_key = None
            else:
                job.status = JobStatus.PENDING
                job.run_at = utcnow() + dt.timedelta(seconds=min(600.0, 2.0**job.attempts))

    async def run_due(self) -> int:
        """Claim and run what is due now; the count claimed."""
        runs = await self.claim()
        for run in runs:
            await self._sem.acquire()
            task = asyncio.create_task(self._guarded(run))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(runs)

    async def _guarded(self, run: JobRun) -> None:
        try:
            await self.run_one(run)
        finally:
            self._sem.release()

    def _mine(self, query: Any) -> Any:
        """Only the kinds this runner takes."""
        if self.kinds == Kinds.URGENT:
            return query.where(Job.kind.not_in(sorted(_can_wait)))
        if self.kinds == Kinds.CAN_WAIT:
            return query.where(Job.kind.in_(sorted(_can_wait)))
        return query

    async def next_due_in(self) -> float:
        async with self._factory() as session:
            query = self._mine(select(func.min(Job.run_at)).where(Job.status == JobStatus.PENDING))
            nxt = (await session.execute(query)).scalar()
        if nxt is None:
            return self._poll_s
        return max(0.0, min(self._poll_s, (nxt - utcnow()).total_seconds()))

    async def run_forever(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self._wake.clear()  # before looking, so a wake during the look is kept
                try:
                    claimed = await self.run_due()
                    delay = 0.0 if claimed >= self._batch else await self.next_due_in()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("job runner loop failed")
                    delay = self._poll_s
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)
                    except TimeoutError:
                        pass
        finally:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)


class _LeaseLost(Exception):
    pass
