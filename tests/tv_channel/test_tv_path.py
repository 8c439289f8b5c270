"""The tv delivery path over a box's real live connection (server-sent events on a served
app): a message goes to the box that is on, is confirmed with OK, or goes on by SMS when it is
not confirmed in time; a box that is off is passed over at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.community.models import Device, DeviceKind
from backend.notify.service import NEXT_PATH
from tests.conftest import ELDER, FAMILY, Database, Served, make_settings, run_due_jobs, serve

pytestmark = pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
async def tv(tmp_path: Path, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Served]:
    local_clock("09:00")
    async with serve(make_settings(tmp_path, db.url)) as served:
        yield served


async def paired_box(tv: Served) -> str:
    """A box through the device grant, approved by the elder: its token."""
    grant = (await tv.client.post("/tv/device/code", data={"serial": f"BOX-{uuid.uuid4().hex[:6]}"})).json()
    approved = await tv.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, await tv.sign_in(ELDER))
    assert approved["data"]["approveTvDevice"]["__typename"] == "TvDevice", approved
    body = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": grant["device_code"]}
    return str((await tv.client.post("/tv/device/token", data=body)).json()["access_token"])


@asynccontextmanager
async def switched_on(tv: Served, db: Database, token: str) -> AsyncIterator[asyncio.Queue[tuple[str, Any]]]:
    """The box's live connection, its events in a queue, once the box is marked on."""
    ticket = (await tv.client.post("/tv/portal/api/ticket", headers={"Authorization": f"Bearer {token}"})).json()
    seen: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def read() -> None:
        async with (
            httpx.AsyncClient(base_url=tv.base, timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", "/tv/portal/events", params={"ticket": ticket["ticket"]}) as stream,
        ):
            kind = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    await seen.put((kind, json.loads(line[6:])))

    reading = asyncio.create_task(read())
    assert (await asyncio.wait_for(seen.get(), 10))[0] == "hello"
    for _ in range(100):
        async with db.factory() as session:
            if await session.scalar(select(Device.last_seen_at).where(Device.kind == DeviceKind.TV)):
                break
        await asyncio.sleep(0.05)
    try:
        yield seen
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)


async def son_orders_for_mother(tv: Served, people: dict[str, int]) -> None:
    son = await tv.sign_in(FAMILY)
    await tv.op("app/TopUpWallet", {"amountFen": 5000, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex}, son)
    mother = str(people[ELDER])
    menu = await tv.op("app/TodayMenu", {"personId": mother}, son)
    dish = next(m for m in menu["data"]["todayMenu"] if m["open"] and m["dishes"])["dishes"][0]
    variables = {
        "items": [{"productCode": dish["productCode"], "quantity": 1}],
        "idempotencyKey": uuid.uuid4().hex,
        "personId": mother,
        "payFrom": "ME",
    }
    placed = await tv.op("app/PlaceOrder", variables, son)
    assert placed["data"]["placeOrder"]["__typename"] == "CommerceOrder", placed


async def newest(tv: Served) -> dict[str, Any]:
    feed = await tv.op("app/Notifications", {}, await tv.sign_in(ELDER))
    return dict(feed["data"]["notifications"]["nodes"][0])


async def test_a_message_reaches_the_box_that_is_on_and_ok_confirms_it(
    tv: Served, db: Database, people: dict[str, int]
) -> None:
    await tv.op("app/UpdateNotificationSettings", {"paths": ["tv", "sms"]}, await tv.sign_in(ELDER))
    token = await paired_box(tv)
    async with switched_on(tv, db, token) as seen:
        await son_orders_for_mother(tv, people)
        kind, shown = await asyncio.wait_for(seen.get(), 10)
        while kind != "notification":
            kind, shown = await asyncio.wait_for(seen.get(), 10)
        assert "秦磊燕" in shown["body"] and shown["readAloudUrl"].startswith("http://testserver/read-aloud/")
        confirmed = await tv.client.post(
            f"/tv/portal/api/notices/{shown['id']}/confirm", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert confirmed.json()["text"] == "好的，已收到。"
    n = await newest(tv)
    assert (n["state"], n["deliveredBy"]) == ("delivered", "tv")
    assert [(d["path"], d["result"]) for d in n["deliveries"]] == [("tv", "sent")]
    assert n["deliveries"][0]["confirmedAt"] is not None


async def test_not_confirmed_on_the_tv_in_time_it_goes_on_by_sms(
    tv: Served, db: Database, people: dict[str, int]
) -> None:
    await tv.op("app/UpdateNotificationSettings", {"paths": ["tv", "sms"]}, await tv.sign_in(ELDER))
    token = await paired_box(tv)
    async with switched_on(tv, db, token):
        await son_orders_for_mother(tv, people)
        await tv.settle()
        await run_due_jobs(tv, db, (NEXT_PATH,))  # nobody pressed OK
    n = await newest(tv)
    assert [(d["path"], d["result"]) for d in n["deliveries"]] == [
        ("tv", "sent"),
        ("tv", "unconfirmed"),
        ("sms", "delivered"),
    ]
    assert "秦磊燕" in await tv.last_sms(ELDER)


async def test_a_box_that_is_off_is_passed_over_at_once(tv: Served, db: Database, people: dict[str, int]) -> None:
    await tv.op("app/UpdateNotificationSettings", {"paths": ["tv", "sms"]}, await tv.sign_in(ELDER))
    await paired_box(tv)  # paired, never switched on
    await son_orders_for_mother(tv, people)
    await tv.settle()
    n = await newest(tv)
    assert [(d["path"], d["result"], d["detail"]) for d in n["deliveries"]] == [
        ("tv", "unavailable", "no TV on at home"),
        ("sms", "delivered", "gateway accepted"),
    ]
