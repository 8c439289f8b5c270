"""Alarms survive what happens to processes: a restart, a worker killed with SIGKILL in the
middle of a tier, two workers racing, and Redis going away. Real PostgreSQL and Redis, real
worker processes (`python -m backend.cli worker`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from backend.app import create_app
from backend.community.models import Person
from backend.config import Settings
from backend.db import transaction, utcnow
from backend.emergency.models import Alert, AlertEvent
from backend.emergency.service import ESCALATE
from backend.events import OutboxEvent
from backend.jobs import Job, JobStatus
from backend.notify.models import Notification
from backend.runtime import Runtime
from tests.conftest import ELDER, SERVICE_CENTRE, Api, Database, load_demo, make_settings
from tests.notify.fcm_standin import FcmStandIn

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
REPO = Path(__file__).resolve().parents[2]


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LINLI_ENV": "test",
        "LINLI_DATABASE_URL": settings.database_url,
        "LINLI_REDIS_URL": settings.redis_url or "",
        "LINLI_REDIS_PREFIX": settings.redis_prefix,
        "LINLI_VAR_DIR": str(settings.var_dir),
        "LINLI_LOG_JSON": "false",
        "LINLI_LOG_LEVEL": "WARNING",
    }
    if settings.fcm_credentials_file:
        env["LINLI_FCM_CREDENTIALS_FILE"] = str(settings.fcm_credentials_file)
        env["LINLI_FCM_ENDPOINT"] = settings.fcm_endpoint or ""
    env.update(extra)
    return env


class Workers:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "backend.cli", "worker"], cwd=REPO, env=env, stdout=subprocess.DEVNULL
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def workers() -> Iterator[Workers]:
    w = Workers()
    yield w
    w.stop_all()


@pytest.fixture
def standin() -> Iterator[FcmStandIn]:
    with FcmStandIn(slow_s=60.0) as s:
        yield s


@pytest.fixture
async def api_replica(
    tmp_path: Path, pg_db: Database, redis_url: str, redis_prefix: str, standin: FcmStandIn
) -> AsyncIterator[Api]:
    """An api process that runs no workers: alarms are stored and published, nothing more."""
    await load_demo(pg_db)
    settings = make_settings(
        tmp_path,
        pg_db.url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        run_workers_in_api=False,
        fcm_credentials_file=standin.service_account(tmp_path / "sa.json"),
        fcm_endpoint=standin.url,
    )
    rt = Runtime.create(settings)
    await rt.start(workers=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, runtime=rt)), base_url="http://t"
    ) as c:
        yield Api(c, rt)
    await rt.close()


async def wait_for(check: Any, timeout: float = 30.0) -> None:
    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.1)

    await asyncio.wait_for(loop(), timeout=timeout)


async def sms_count(rt: Runtime, phone: str, marker: str) -> int:
    return sum(marker in m["text"] for m in rt.sms.messages(phone))


async def make_due(db: Database, alert_id: int) -> None:
    """The minute passes for this alarm's escalation."""
    async with transaction(db.factory) as session:
        await session.execute(
            update(Job)
            .where(Job.kind == ESCALATE, Job.status == JobStatus.PENDING)
            .values(run_at=utcnow() - dt.timedelta(seconds=1))
        )


async def escalations(db: Database, alert_id: int) -> list[int]:
    async with db.factory() as session:
        rows = (
            await session.execute(
                select(AlertEvent.detail).where(AlertEvent.alert_id == alert_id, AlertEvent.kind == "escalated")
            )
        ).scalars()
        return [int(d["tier"]) for d in rows]


async def notices_for(db: Database, alert_id: int, phone: str) -> int:
    async with db.factory() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Notification)
                .join(Person, Person.id == Notification.person_id)
                .where(Notification.ref == f"alert:{alert_id}", Person.phone == phone)
            )
            or 0
        )


async def raise_alarm(api: Api) -> int:
    result = await api.op("app/TriggerEmergency", {"idempotencyKey": "durable-press-1"}, await api.sign_in(ELDER))
    return int(result["data"]["triggerEmergency"]["emergency"]["id"])


async def test_an_alarm_raised_before_a_restart_escalates_once_with_two_workers(
    api_replica: Api, pg_db: Database, workers: Workers
) -> None:
    alert_id = await raise_alarm(api_replica)
    settings = api_replica.runtime.settings
    await api_replica.runtime.stop()  # the api process is gone; the alarm and its timer are stored
    for _ in range(2):
        workers.start(worker_env(settings))
    # Tier 1 goes out from the workers, by the stored events.
    await wait_for(lambda: sms_count(api_replica.runtime, "+8613700000001", "按了紧急按钮"))
    await make_due(pg_db, alert_id)
    await wait_for(lambda: sms_count(api_replica.runtime, SERVICE_CENTRE, "【升级】"))
    await asyncio.sleep(1.5)  # both workers have had every chance to run it again
    assert await escalations(pg_db, alert_id) == [2]
    assert await notices_for(pg_db, alert_id, SERVICE_CENTRE) == 1
    assert await sms_count(api_replica.runtime, SERVICE_CENTRE, "【升级】") == 1


async def test_a_worker_killed_in_the_middle_of_a_tier_is_replaced_and_the_tier_completes(
    api_replica: Api, pg_db: Database, workers: Workers, standin: FcmStandIn
) -> None:
    # The service centre's phone answers FCM very slowly: the worker is inside tier 2 when killed.
    centre = await api_replica.sign_in(SERVICE_CENTRE)
    await api_replica.op("app/RegisterPushDevice", {"token": "slow-centre-phone", "platform": "android"}, centre)
    alert_id = await raise_alarm(api_replica)
    settings = api_replica.runtime.settings
    first = workers.start(worker_env(settings, LINLI_FCM_TIMEOUT_S="120"))
    await wait_for(lambda: sms_count(api_replica.runtime, "+8613700000001", "按了紧急按钮"))
    await make_due(pg_db, alert_id)

    async def inside_tier_two() -> bool:
        return standin.tries.get("slow-centre-phone", 0) > 0

    await wait_for(inside_tier_two)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert await notices_for(pg_db, alert_id, SERVICE_CENTRE) == 0  # its work died with it
    assert await escalations(pg_db, alert_id) == [2]  # the step itself had committed
    # A new worker (FCM timing out quickly this time); time passes so the sweeper re-drives.
    workers.start(worker_env(settings, LINLI_FCM_TIMEOUT_S="1"))
    async with transaction(pg_db.factory) as session:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.completed_at.is_(None)).values(next_attempt_at=utcnow())
        )
    await wait_for(lambda: sms_count(api_replica.runtime, SERVICE_CENTRE, "【升级】"), timeout=60)
    # The SMS leaves inside the worker's transaction, a moment before its record commits.
    await wait_for(lambda: notices_for(pg_db, alert_id, SERVICE_CENTRE))
    assert await escalations(pg_db, alert_id) == [2]
    assert await notices_for(pg_db, alert_id, SERVICE_CENTRE) == 1
    async with pg_db.factory() as session:
        alert = await session.get(Alert, alert_id)
    assert alert is not None and alert.tier == 2


async def test_with_redis_gone_the_database_sweeper_still_tells_tier_one(
    tmp_path: Path, pg_db: Database, workers: Workers
) -> None:
    await load_demo(pg_db)
    # Nothing listens on this port: every Redis call fails.
    settings = make_settings(tmp_path, pg_db.url, redis_url="redis://127.0.0.1:1/0", run_workers_in_api=False)
    rt = Runtime.create(settings)
    await rt.start(workers=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, runtime=rt)), base_url="http://t"
        ) as c:
            api = Api(c, rt)
            raised = await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
            assert raised["data"]["triggerEmergency"]["new"] is True  # stored and answered
            workers.start(worker_env(settings))
            async with transaction(pg_db.factory) as session:  # the grace period passes
                await session.execute(update(OutboxEvent).values(next_attempt_at=utcnow()))
            await wait_for(lambda: sms_count(rt, "+8613700000001", "按了紧急按钮"), timeout=60)
    finally:
        await rt.close()
