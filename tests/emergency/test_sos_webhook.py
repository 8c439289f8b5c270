"""A wearable band's vendor cloud raises the same alarm, if it proves who it is."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend.signed_requests import sign
from tests.conftest import GRID_WORKER, Api, Database, make_settings, start_app

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
