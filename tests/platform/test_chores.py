"""Alarms come first: work that can wait runs apart from what cannot, at a lower priority, holds
back while alarms are being stored, and starts one chore after another."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs
from backend.alarm_pressure import AlarmPressure
from backend.config import REPO_ROOT
from backend.db import utcnow
from backend.jobs import Job, JobRun, JobRunner, Kinds
from tests.conftest import Database, free_port
from tests.platform.test_jobs import ran, schedule

URGENT = "test.urgent"
CHORE = "test.chore"


@jobs.job_handler(URGENT)
async def urgent(session: AsyncSession, run: JobRun, parts: object) -> None:
    events.emit(session, "test.job_ran", {"tag": run.payload["tag"]})


@jobs.job_handler(CHORE, waits=True)
async def chore(session: AsyncSession, run: JobRun, parts: object) -> None:
    events.emit(session, "test.job_ran", {"tag": run.payload["tag"]})


async def test_the_service_takes_what_cannot_wait_and_the_chores_process_the_rest(db: Database) -> None:
    tag = uuid.uuid4().hex
    await schedule(db, in_s=-1, tag=tag + "-urgent", kind=URGENT)
    await schedule(db, in_s=-1, tag=tag + "-chore", kind=CHORE)
    service = JobRunner(db.factory, name="service", kinds=Kinds.URGENT)
    assert [r.kind for r in await service.claim()] == [URGENT]
    assert await service.next_due_in() > 0  # a chore due now does not keep it looking
    chores = JobRunner(db.factory, name="chores", kinds=Kinds.CAN_WAIT)
    (run,) = await chores.claim()
    assert run.kind == CHORE
    await chores.run_one(run)
    assert await ran(db, tag + "-chore") == 1 and await ran(db, tag + "-urgent") == 0
    # Standing jobs are chores.
    assert all(jobs.can_wait(kind) for kind in jobs._standing)


async def test_a_chore_waits_while_alarms_are_being_stored(db: Database, tmp_path: Path) -> None:
    pressure = AlarmPressure(tmp_path / "alarms-being-stored")
    tag = uuid.uuid4().hex
    await schedule(db, in_s=-1, tag=tag, kind=CHORE)
    chores = JobRunner(db.factory, name="chores", kinds=Kinds.CAN_WAIT, yield_to=lambda: pressure.wait_quiet(0.5, 30))
    pressure.mark()
    claiming = asyncio.create_task(chores.claim())
    # Alarms keep arriving: the chore is not taken.
    for _ in range(10):
        await asyncio.sleep(0.2)
        pressure._marked = 0.0  # each mark reaches the file (no throttle between bursts here)
        pressure.mark()
        assert not claiming.done()
    (run,) = await asyncio.wait_for(claiming, 30)  # quiet again: it goes on
    assert run.kind == CHORE


async def test_standing_jobs_start_one_after_another(db: Database) -> None:
    await jobs.ensure_standing(db.factory, stagger_s=20)
    async with db.factory() as session:
        rows = (
            await session.execute(select(Job.kind, Job.run_at).where(Job.kind.in_(jobs._standing)).order_by(Job.run_at))
        ).all()
    times = [at for _, at in rows]
    assert len(times) == len(jobs._standing) >= 2
    assert all(later - earlier >= dt.timedelta(seconds=19) for earlier, later in zip(times, times[1:], strict=False))
    assert times[0] > utcnow()


def children_of(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_serve_runs_its_chores_in_a_lower_priority_process_that_ends_with_it(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "linli.db"
    database.write_bytes(sqlite_template.read_bytes())
    port = free_port()
    env = {
        **os.environ,
        "LINLI_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "LINLI_PORT": str(port),
        "LINLI_VAR_DIR": str(tmp_path / "var"),
        "LINLI_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve"], env=env, cwd=REPO_ROOT)  # noqa: S603
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        workers = [c for c in children_of(server.pid) if b"worker" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 1
        [chores] = workers
        assert b"LINLI_JOB_KINDS=can_wait" in Path(f"/proc/{chores}/environ").read_bytes().split(b"\0")
        for _ in range(300):  # it lowers its priority as it starts
            if os.getpriority(os.PRIO_PROCESS, chores) != os.getpriority(os.PRIO_PROCESS, server.pid):
                break
            time.sleep(0.1)
        assert os.getpriority(os.PRIO_PROCESS, chores) - os.getpriority(os.PRIO_PROCESS, server.pid) == 10
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    # It ends with the service (reaped: no process, or a zombie nobody waits for any more).
    deadline = time.monotonic() + 30
    while Path(f"/proc/{chores}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{chores}/stat").read_bytes().rsplit(b") ", 1)[1][:1]
        if state == b"Z":
            break
        time.sleep(0.2)
    assert (
        not Path(f"/proc/{chores}").exists()
        or Path(f"/proc/{chores}/stat").read_bytes().rsplit(b") ", 1)[1][:1] == b"Z"
    )
