"""Distributed mode on real PostgreSQL and Redis: api replicas publish, workers do the work."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend import jobs
from backend.app import create_app
from backend.db import transaction, utcnow
from backend.events import OutboxEvent
from backend.live import person_channel
from backend.runtime import Runtime
from tests.conftest import ELDER, Api, Database, load_demo, make_settings
from tests.platform import test_jobs  # noqa: F401  (registers the test job handler)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_an_api_replica_and_a_worker_share_events_and_jobs(
    tmp_path: Path, pg_db: Database, redis_url: str, redis_prefix: str
) -> None:
    await load_demo(pg_db)
    api_settings = make_settings(
        tmp_path, pg_db.url, redis_url=redis_url, redis_prefix=redis_prefix, run_workers_in_api=False
    )
    api_rt = Runtime.create(api_settings)
    worker_rt = Runtime.create(api_settings)
    app = create_app(api_settings, runtime=api_rt)
    await api_rt.start(workers=False)
    await worker_rt.start(workers=True)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            api = Api(client, api_rt)
            token = await api.sign_in(ELDER)
            me = (await api.op("app/Me", {}, token))["data"]["me"]
            live = api_rt.live.subscribe(person_channel(int(me["id"])))
            first_live = asyncio.create_task(anext(live))
            await asyncio.sleep(0.2)  # the replica's Redis listener is subscribed
            invited = await api.op(
                "app/InviteFamilyMember",
                {"input": {"phone": "+8613955550009", "relation": "外甥", "scopes": ["RECEIVE_ALERTS"]}},
                token,
            )
            assert invited["data"]["inviteFamilyMember"]["status"] == "PENDING"

            async def sms_arrived() -> None:
                while not api_rt.sms.messages("+8613955550009"):
                    await asyncio.sleep(0.05)

            # The api process runs no consumers: the worker, told through Redis, sent it.
            await asyncio.wait_for(sms_arrived(), timeout=15)
            # ...and the elder's open app, whose socket this replica holds, heard of it live.
            update = await asyncio.wait_for(first_live, timeout=15)
            assert update["kind"] == "family_link"
            await live.aclose()

            tag = uuid.uuid4().hex
            async with transaction(api_rt.factory) as session:
                await jobs.schedule(session, test_jobs.KIND, utcnow() + dt.timedelta(milliseconds=200), {"tag": tag})

            async def job_ran() -> None:
                while True:
                    async with pg_db.factory() as session:
                        rows = (
                            await session.execute(
                                select(OutboxEvent.payload).where(OutboxEvent.topic == "test.job_ran")
                            )
                        ).scalars()
                        if any(p["tag"] == tag for p in rows):
                            return
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(job_ran(), timeout=15)
    finally:
        await api_rt.close()
        await worker_rt.close()
