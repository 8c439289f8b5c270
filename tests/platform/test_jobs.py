"""Durable jobs: run when due, survive a dead runner, run once with several runners."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs
from backend.db import PARTS_KEY as KEY
from backend.db import session_factory, transaction, utcnow
from backend.events import OutboxEvent
from backend.jobs import Job, JobRun, JobRunner, JobStatus
from tests.conftest import Database

KIND = "test.remember"
FLAKY = "test.flaky"
flaky_failures: dict[str, int] = {}


@jobs.job_handler(KIND)
async def remember(session: AsyncSession, run: JobRun, parts: object) -> None:
    # A database effect we can count: exactly-once means exactly one row per job.
    events.emit(session, "test.job_ran", {"tag": run.payload["tag"]})


@jobs.job_handler(FLAKY)
async def flaky(session: AsyncSession, run: JobRun, parts: object) -> None:
    tag = run.payload["tag"]
    if flaky_failures.get(tag, 0) > 0:
        flaky_failures[tag] -= 1
        raise RuntimeError("not yet")
    events.emit(session, "test.job_ran", {"tag": tag})


async def ran(db: Database, tag: str) -> int:
    async with db.factory() as session:
        rows = (await session.execute(select(OutboxEvent.payload).where(OutboxEvent.topic == "test.job_ran"))).scalars()
        return sum(1 for p in rows if p["tag"] == tag)


async def schedule(
    db: Database, *, in_s: float, tag: str, kind: str = KIND, key: str | None = None, factory: Any = None
) -> int:
    async with transaction(factory or db.factory) as session:
        job = await jobs.schedule(session, kind, utcnow() + dt.timedelta(seconds=in_s), {"tag": tag}, key=key)
        await session.flush()
        return job.id


async def status(db: Database, job_id: int) -> JobStatus:
    async with db.factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.status


async def test_a_due_job_runs_and_a_future_one_waits(db: Database) -> None:
    tag = uuid.uuid4().hex
    due = await schedule(db, in_s=-1, tag=tag + "-due")
    later = await schedule(db, in_s=3600, tag=tag + "-later")
    runner = JobRunner(db.factory, name="r1")
    assert await runner.run_due() == 1
    await asyncio.gather(*runner._running)
    assert await status(db, due) == JobStatus.DONE
    assert await status(db, later) == JobStatus.PENDING
    assert await ran(db, tag + "-due") == 1 and await ran(db, tag + "-later") == 0


async def test_rescheduling_a_key_replaces_the_pending_job(db: Database) -> None:
    tag = uuid.uuid4().hex
    first = await schedule(db, in_s=3600, tag=tag, key=f"remind:{tag}")
    second = await schedule(db, in_s=-1, tag=tag, key=f"remind:{tag}")
    assert first == second
    async with transaction(db.factory) as session:
        assert await jobs.cancel(session, f"remind:{tag}")
    runner = JobRunner(db.factory, name="r1")
    assert await runner.run_due() == 0
    assert await status(db, first) == JobStatus.CANCELLED


async def test_a_job_whose_runner_died_is_taken_over_and_runs_once(db: Database) -> None:
    """A runner killed mid-job (SIGKILL) leaves a lease; when it expires another runner
    takes the job, and the dead runner's late finish changes nothing."""
    tag = uuid.uuid4().hex
    job_id = await schedule(db, in_s=-1, tag=tag)
    doomed = JobRunner(db.factory, name="doomed", lease_s=60)
    claimed = await doomed.claim()
    assert [c.id for c in claimed] == [job_id]
    survivor = JobRunner(db.factory, name="survivor")
    assert await survivor.claim() == []  # the lease still holds
    async with transaction(db.factory) as session:  # a minute passes: the lease runs out
        (await session.get(Job, job_id)).lease_until = utcnow() - dt.timedelta(seconds=1)
    taken = await survivor.claim()
    assert [t.id for t in taken] == [job_id]
    await survivor.run_one(taken[0])
    await doomed.run_one(claimed[0])  # the dead runner "wakes up": its work is rolled back
    assert await status(db, job_id) == JobStatus.DONE
    assert await ran(db, tag) == 1


async def test_a_failing_job_is_retried_then_succeeds(db: Database) -> None:
    tag = uuid.uuid4().hex
    flaky_failures[tag] = 1
    job_id = await schedule(db, in_s=-1, tag=tag, kind=FLAKY)
    runner = JobRunner(db.factory, name="r1")
    (run,) = await runner.claim()
    await runner.run_one(run)
    async with transaction(db.factory) as session:
        job = await session.get(Job, job_id)
        assert job.status == JobStatus.PENDING and job.attempts == 1 and "not yet" in job.last_error
        job.run_at = utcnow()  # skip the backoff
    (run,) = await runner.claim()
    await runner.run_one(run)
    assert await status(db, job_id) == JobStatus.DONE
    assert await ran(db, tag) == 1


async def test_a_job_that_keeps_failing_is_marked_failed(db: Database) -> None:
    tag = uuid.uuid4().hex
    flaky_failures[tag] = 99
    async with transaction(db.factory) as session:
        job = await jobs.schedule(session, FLAKY, utcnow(), {"tag": tag}, max_attempts=2)
        await session.flush()
        job_id = job.id
    runner = JobRunner(db.factory, name="r1")
    for _ in range(2):
        async with transaction(db.factory) as session:
            (await session.get(Job, job_id)).run_at = utcnow() - dt.timedelta(seconds=1)
        (run,) = await runner.claim()
        await runner.run_one(run)
    assert await status(db, job_id) == JobStatus.FAILED


async def test_a_running_runner_is_woken_by_a_new_job(db: Database) -> None:
    tag = uuid.uuid4().hex
    runner = JobRunner(db.factory, name="r1", poll_s=60)  # it would sleep a minute unless woken
    # The process that schedules it wakes its runner (sessions carry the process's parts).
    factory = session_factory(db.engine, info={KEY: SimpleNamespace(wake_jobs=runner.wake)})
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_forever(stop))
    try:
        await asyncio.sleep(0.1)
        await schedule(db, in_s=0, tag=tag, factory=factory)

        async def done() -> None:
            while await ran(db, tag) == 0:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(done(), timeout=10)
    finally:
        stop.set()
        runner.wake()
        await task


@pytest.mark.postgres
async def test_two_runners_on_postgresql_run_each_job_exactly_once(pg_db: Database) -> None:
    tag = uuid.uuid4().hex
    async with transaction(pg_db.factory) as session:
        for n in range(60):
            await jobs.schedule(session, KIND, utcnow() - dt.timedelta(seconds=1), {"tag": f"{tag}-{n}"})
    runners = [JobRunner(pg_db.factory, name=f"r{i}", batch=7) for i in range(2)]

    async def drain(runner: JobRunner) -> int:
        total = 0
        while claimed := await runner.run_due():
            total += claimed
        await asyncio.gather(*runner._running)
        return total

    claimed = await asyncio.gather(*(drain(r) for r in runners))
    assert sum(claimed) == 60 and all(c > 0 for c in claimed)  # both worked, none twice
    for n in range(60):
        assert await ran(pg_db, f"{tag}-{n}") == 1
    async with pg_db.factory() as session:
        done = await session.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.DONE))
    assert done == 60


CHAIN = "test.chain"


@jobs.job_handler(CHAIN)
async def chain(session: AsyncSession, run: JobRun, parts: object) -> None:
    events.emit(session, "test.job_ran", {"tag": run.payload["tag"]})
    if run.payload["left"] > 0:  # a timer that sets the next one, under the same key
        payload = {"tag": run.payload["tag"], "left": run.payload["left"] - 1}
        await jobs.schedule(
            session, CHAIN, utcnow() - dt.timedelta(seconds=1), payload, key=f"chain:{run.payload['tag']}"
        )


async def test_a_job_can_schedule_its_successor_under_its_own_key(db: Database) -> None:
    tag = uuid.uuid4().hex
    async with transaction(db.factory) as session:
        await jobs.schedule(session, CHAIN, utcnow(), {"tag": tag, "left": 2}, key=f"chain:{tag}")
    runner = JobRunner(db.factory, name="r1")
    for _ in range(3):
        (run,) = await runner.claim()
        await runner.run_one(run)
    assert await ran(db, tag) == 3
    assert await runner.claim() == []
