"""A wearable band's vendor cloud raises the same alarm, if it proves who it is."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.signed_requests import sign
from tests.conftest import ELDER, FAMILY, GRID_WORKER, Api, Database, make_settings, start_app

SECRET = "band-vendor-secret-0001"


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int]) -> AsyncIterator[Api]:
    app, rt = await start_app(make_settings(tmp_path, db.url, sos_vendor_secrets={"demo-band": SECRET}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, rt)
    await rt.close()


async def post(
    api: Api, body: dict, *, vendor: str = "demo-band", secret: str = SECRET, age_s: int = 0
) -> httpx.Response:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()) - age_s)
    return await api.client.post(
        "/integrations/sos",
        content=raw,
        headers={
            "content-type": "application/json",
            "x-linli-vendor": vendor,
            "x-linli-timestamp": timestamp,
            "x-linli-signature": sign(secret, timestamp, raw),
        },
    )


async def test_a_signed_band_press_raises_the_wearers_alarm_once(api: Api) -> None:
    first = await post(api, {"device_id": "BAND-0001", "event_id": "e-1"})
    assert first.status_code == 200 and first.json()["new"] is True
    resent = await post(api, {"device_id": "BAND-0001", "event_id": "e-1"})  # the vendor retried
    assert resent.json() == {"accepted": True, "alert_id": first.json()["alert_id"], "new": False}
    await api.settle()
    assert "按了紧急按钮" in await api.last_sms(GRID_WORKER)
    alert = await api.op("app/Emergency", {"id": str(first.json()["alert_id"])}, await api.sign_in(GRID_WORKER))
    assert alert["data"]["emergency"]["source"] == "BAND" and alert["data"]["emergency"]["presses"] == 1


@pytest.mark.parametrize(
    ("kwargs", "body", "status"),
    [
        ({"secret": "wrong-secret"}, {"device_id": "BAND-0001", "event_id": "e-2"}, 401),
        ({"vendor": "someone-else"}, {"device_id": "BAND-0001", "event_id": "e-3"}, 401),
        ({"age_s": 301}, {"device_id": "BAND-0001", "event_id": "e-4"}, 401),
        ({}, {"device_id": "BAND-9999", "event_id": "e-5"}, 404),
        ({}, {"device": "BAND-0001"}, 400),
    ],
)
async def test_anything_unproven_is_refused_and_raises_nothing(api: Api, kwargs: dict, body: dict, status: int) -> None:
    response = await post(api, body, **kwargs)
    assert response.status_code == status and response.json()["accepted"] is False
    worker = await api.sign_in(GRID_WORKER)
    assert (await api.op("staff/OpenEmergencies", {}, worker))["data"]["openEmergencies"] == []


async def test_a_fall_raises_the_alarm_once_and_says_so(api: Api) -> None:
    first = await post(api, {"device_id": "BAND-0001", "event_id": "f-1", "kind": "fall"})
    resent = await post(api, {"device_id": "BAND-0001", "event_id": "f-1", "kind": "fall"})  # retried
    assert first.json()["new"] is True and resent.json() == {**first.json(), "new": False}
    await api.settle()
    falls = [t for t in await texts_of(api, GRID_WORKER) if "疑似跌倒" in t]
    assert len(falls) == 1 and falls[0].startswith("黎文华（") and "的手环检测到疑似跌倒。地址：" in falls[0], falls


async def test_a_low_battery_and_an_offline_band_are_told_once_a_day_and_shown_to_staff(
    api: Api, local_clock: Any
) -> None:
    local_clock("09:00")
    for n in (1, 2):
        answer = await post(api, {"device_id": "BAND-0001", "event_id": f"b-{n}", "kind": "low_battery"})
        assert answer.json() == {"accepted": True}
    await api.settle()
    assert [t for t in await texts_of(api, ELDER) if "快没电了" in t] == [
        "您的紧急呼叫手环快没电了，请充上电。没电时按键不能求助。"
    ]
    assert [t for t in await texts_of(api, FAMILY) if "快没电了" in t] == ["黎文华的紧急呼叫手环快没电了，请提醒充电。"]

    await post(api, {"device_id": "BAND-0001", "event_id": "o-1", "kind": "offline"})
    staff = await api.sign_in(GRID_WORKER)
    assert (await api.op("staff/BandsOffline", {"communityId": "1"}, staff))["data"]["bandsOffline"] == []
    local_clock("09:30", days_later=1)
    api.tokens.clear()
    listed = (await api.op("staff/BandsOffline", {"communityId": "1"}, await api.sign_in(GRID_WORKER)))["data"]
    assert [(b["device"], b["name"]) for b in listed["bandsOffline"]] == [("BAND-0001", "黎文华")]
    # Heard from again: off the list.
    await post(api, {"device_id": "BAND-0001", "event_id": "s-9", "kind": "low_battery"})
    listed = (await api.op("staff/BandsOffline", {"communityId": "1"}, await api.sign_in(GRID_WORKER)))["data"]
    assert listed["bandsOffline"] == []
    unknown = await post(api, {"device_id": "BAND-0001", "event_id": "x-1", "kind": "heart_attack"})
    assert unknown.status_code == 400


async def texts_of(api: Api, phone: str) -> list[str]:
    feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
    return [n["text"] for n in feed["data"]["notifications"]["nodes"]]


async def test_a_band_retrying_a_press_after_its_alarm_was_closed_is_answered(api: Api) -> None:
    first = await post(api, {"device_id": "BAND-0001", "event_id": "e-closed"})
    alert_id = str(first.json()["alert_id"])
    closed = await api.op(
        "staff/ResolveEmergency", {"emergencyId": alert_id, "outcome": "FALSE_ALARM"}, await api.sign_in(GRID_WORKER)
    )
    assert closed["data"]["resolveEmergency"]["status"] == "RESOLVED", closed
    resent = await post(api, {"device_id": "BAND-0001", "event_id": "e-closed"})
    assert resent.status_code == 200
    assert resent.json() == {"accepted": True, "alert_id": int(alert_id), "new": False}
