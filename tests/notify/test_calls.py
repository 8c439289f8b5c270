"""Voice notification calls: the phone of a responder who has not confirmed rings, a TTS
template speaks the alarm, and pressing 1 confirms it like a tap in the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.notify.service import NEXT_PATH
from tests.conftest import ELDER, FAMILY, GRID_WORKER, Api, Database, in_process, make_settings, run_due_jobs
from tests.notify.call_standin import SHOW_NUMBER, AliyunVoiceStandIn
from tests.notify.sms_standins import AliyunSmsStandIn, sms_settings

TOKEN = "cb-7f3a9e2c51d04b8f"


class SmsGatewayApi(Api):
    """Signs in with the code the SMS gateway stand-in received (there is no outbox here)."""

    def __init__(self, client: httpx.AsyncClient, runtime: Any, aliyun: AliyunSmsStandIn) -> None:
        super().__init__(client, runtime)
        self.sms = aliyun

    async def login_code(self, phone: str) -> str:
        codes = [m["params"]["code"] for m in self.sms.to(phone) if "code" in m["params"]]
        assert codes, f"no sign-in code sent to {phone}"
        return str(codes[-1])


@pytest.fixture
def calls() -> Iterator[AliyunVoiceStandIn]:
    with AliyunVoiceStandIn() as s:
        yield s


@pytest.fixture
async def api(
    tmp_path: Path, db: Database, people: dict[str, int], calls: AliyunVoiceStandIn, aliyun: AliyunSmsStandIn
) -> AsyncIterator[Api]:
    settings = make_settings(
        tmp_path,
        db.url,
        **sms_settings(aliyun, None),
        aliyun_voice_show_number=SHOW_NUMBER,
        aliyun_voice_endpoint=calls.url,
        provider_callback_token=TOKEN,
    )
    async with in_process(settings, "203.0.113.9", lambda client, rt: SmsGatewayApi(client, rt, aliyun)) as api:
        yield api


def alarms_by_sms(aliyun: AliyunSmsStandIn, phone: str) -> list[dict[str, Any]]:
    return [m for m in aliyun.to(phone) if "summary" in m["params"]]


async def alarm_of(api: Api, phone: str) -> dict[str, Any]:
    nodes = (await api.op("app/Notifications", {"first": 5}, await api.sign_in(phone)))["data"]["notifications"]
    (alarm,) = [n for n in nodes["nodes"] if n["kind"] == "emergency"]
    return dict(alarm)


async def test_a_responder_who_presses_1_on_the_call_stops_the_fallback(
    api: Api, db: Database, calls: AliyunVoiceStandIn, aliyun: AliyunSmsStandIn
) -> None:
    worker = await api.sign_in(GRID_WORKER)
    saved = await api.op("app/UpdateNotificationSettings", {"paths": ["voice", "sms"]}, worker)
    assert saved["data"]["updateNotificationSettings"]["paths"] == ["voice", "sms"]
    await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    await api.settle()
    (call,) = calls.to(GRID_WORKER)
    assert call["template"] == "TTS_48100101" and "黎文华" in call["params"]
    assert call["keys"] == {"1": "TTS_48100301"}  # press 1: "已确认，谢谢。"
    report = AliyunVoiceStandIn.report(call, dtmf="1")
    answer = await api.client.post(f"/callbacks/aliyun/voice/{TOKEN}", json=[report])
    assert answer.json() == {"code": 0, "msg": "OK"}
    await run_due_jobs(api, db, (NEXT_PATH,))  # the 10 s pass: nothing more for her
    assert alarms_by_sms(aliyun, GRID_WORKER) == []
    alarm = await alarm_of(api, GRID_WORKER)
    assert alarm["state"] == "delivered" and alarm["deliveredBy"] == "voice"
    assert [(d["path"], d["result"], bool(d["confirmedAt"])) for d in alarm["deliveries"]] == [("voice", "sent", True)]
    # Her son did not confirm anything: SMS first (his default), then the call after 10 s.
    assert len(alarms_by_sms(aliyun, FAMILY)) == 1 and calls.to(FAMILY) != []


async def test_a_call_nobody_answers_with_1_confirms_nothing(
    api: Api, db: Database, calls: AliyunVoiceStandIn, aliyun: AliyunSmsStandIn
) -> None:
    worker = await api.sign_in(GRID_WORKER)
    await api.op("app/UpdateNotificationSettings", {"paths": ["voice", "sms"]}, worker)
    await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    await api.settle()
    (call,) = calls.to(GRID_WORKER)
    refused = await api.client.post("/callbacks/aliyun/voice/not-the-token", json=[calls.report(call, "1")])
    assert refused.status_code == 404
    await api.client.post(f"/callbacks/aliyun/voice/{TOKEN}", json=[calls.report(call, "")])
    await run_due_jobs(api, db, (NEXT_PATH,))
    assert len(alarms_by_sms(aliyun, GRID_WORKER)) == 1  # not confirmed: the SMS went after the wait
    alarm = await alarm_of(api, GRID_WORKER)
    assert [(d["path"], d["result"]) for d in alarm["deliveries"]] == [
        ("voice", "sent"),
        ("voice", "unconfirmed"),
        ("sms", "delivered"),
    ]


async def test_settings_that_list_only_paths_everyday_messages_cannot_take_are_refused(api: Api) -> None:
    son = await api.sign_in(FAMILY)
    for paths in (["voice"], ["tv"], ["tv", "voice"]):
        refused = await api.op("app/UpdateNotificationSettings", {"paths": paths}, son)
        assert refused["data"]["updateNotificationSettings"]["field"] == "paths", paths
    kept = await api.op("app/NotificationSettings", {}, son)
    assert kept["data"]["notificationSettings"]["paths"] == ["push", "sms"]


async def test_an_sms_receipt_that_says_not_received_calls_at_once(
    api: Api, calls: AliyunVoiceStandIn, aliyun: AliyunSmsStandIn
) -> None:
    """The worker's phone is off: the carrier's receipt comes back failed, and the call does
    not wait out the 10 s the SMS was given."""
    await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    await api.settle()
    (worker_sms,) = alarms_by_sms(aliyun, GRID_WORKER)
    (son_sms,) = alarms_by_sms(aliyun, FAMILY)
    assert calls.to(GRID_WORKER) == []
    receipts = [
        AliyunSmsStandIn.receipt(worker_sms, received=False, err_code="MN:0001"),
        AliyunSmsStandIn.receipt(son_sms, received=True),
    ]
    answer = await api.client.post(f"/callbacks/aliyun/sms/{TOKEN}", json=receipts)
    assert answer.json() == {"code": 0, "msg": "OK"}
    await api.settle()
    assert len(calls.to(GRID_WORKER)) == 1 and calls.to(FAMILY) == []
    worker = await alarm_of(api, GRID_WORKER)
    assert [(d["path"], d["result"], d["detail"]) for d in worker["deliveries"]][1:] == [
        ("sms", "failed", "receipt: MN:0001"),
        ("tv", "unavailable", "no TV on at home"),
        ("voice", "sent", "call placed"),
    ]
    son = await alarm_of(api, FAMILY)
    assert [(d["path"], d["result"], d["detail"]) for d in son["deliveries"]][1:] == [
        ("sms", "delivered", "receipt: DELIVERED")
    ]
    # The same receipt pushed twice changes nothing more.
    await api.client.post(f"/callbacks/aliyun/sms/{TOKEN}", json=receipts)
    await api.settle()
    assert len(calls.to(GRID_WORKER)) == 1


async def test_readiness_and_metrics_show_each_paths_state(
    api: Api, calls: AliyunVoiceStandIn, aliyun: AliyunSmsStandIn
) -> None:
    paths = (await api.client.get("/readyz")).json()["paths"]
    assert paths["push"] == {"configured": False, "via": None, "lastSuccessAt": None, "recentFailures": 0}
    assert paths["sms"]["configured"] is True and paths["sms"]["via"] == "aliyun"
    assert paths["voice"]["configured"] is True and paths["voice"]["lastSuccessAt"] is None
    await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    await api.settle()
    paths = (await api.client.get("/readyz")).json()["paths"]
    assert paths["sms"]["lastSuccessAt"] is not None and paths["sms"]["recentFailures"] == 0
    other_elder = await api.sign_in("+8613800000002")
    aliyun.down = True  # the only SMS provider here: the next SMS fails
    await api.op("app/TriggerEmergency", {}, other_elder)
    await api.settle()
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200  # a path down is a warning, not a reason to stop serving
    assert ready.json()["paths"]["sms"]["recentFailures"] == 2  # her grid worker and her son
    metrics = (await api.client.get("/metrics")).text
    assert 'linli_delivery_attempts_total{path="sms",result="failed"}' in metrics
    assert 'linli_path_last_success_timestamp_seconds{path="sms"}' in metrics
