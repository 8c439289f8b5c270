"""JPush for phones in mainland China: the app registers its JPush registration id, alarms go
in the phone vendors' urgent class, everyday notices in the normal class, and a phone JPush no
longer knows is forgotten and the message goes on by SMS at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import ELDER, FAMILY, GRID_WORKER, Api, Database, in_process, make_settings
from tests.notify.jpush_standin import APP_KEY, MASTER_SECRET, JPushStandIn


@pytest.fixture
def jpush() -> Iterator[JPushStandIn]:
    with JPushStandIn() as s:
        yield s


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int], jpush: JPushStandIn) -> AsyncIterator[Api]:
    settings = make_settings(
        tmp_path, db.url, jpush_app_key=APP_KEY, jpush_master_secret=MASTER_SECRET, jpush_endpoint=jpush.url
    )
    async with in_process(settings, "203.0.113.9") as api:
        yield api


async def register(api: Api, phone: str, registration_id: str) -> dict[str, object]:
    token = await api.sign_in(phone)
    result = await api.op(
        "app/RegisterPushDevice", {"token": registration_id, "platform": "android", "service": "JPUSH"}, token
    )
    return dict(result["data"]["registerPushDevice"])


async def test_a_jpush_phone_gets_the_alarm_in_the_vendors_urgent_class(api: Api, jpush: JPushStandIn) -> None:
    registered = await register(api, GRID_WORKER, "1a0018970a8b3c2d")
    assert registered == {
        "__typename": "PushDevice",
        "token": "1a0018970a8b3c2d",
        "platform": "android",
        "service": "JPUSH",
    }
    await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    await api.settle()
    (push,) = jpush.to("1a0018970a8b3c2d")
    android = push["notification"]["android"]
    assert android["title"] == "紧急呼叫" and "黎文华" in android["alert"] and "按了紧急按钮" in android["alert"]
    assert android["priority"] == 2 and android["channel_id"] == "linli_emergency"
    assert android["extras"]["kind"] == "emergency" and android["extras"]["notificationId"]
    options = push["options"]
    assert options["classification"] == 1  # a personal (system) message, not operations
    vendors = options["third_party_channel"]
    assert vendors["huawei"]["importance"] == "NORMAL" and vendors["huawei"]["urgency"] == "HIGH"
    assert vendors["xiaomi"]["channel_id"] == "linli_emergency" and vendors["oppo"]["notify_level"] == 16
    assert vendors["vivo"]["classification"] == 1
    assert push["notification"]["ios"]["interruption-level"] == "critical"
    # Pushed, awaiting the phone's confirmation; the SMS waits for the fallback time.
    notes = (await api.op("app/Notifications", {"first": 5}, await api.sign_in(GRID_WORKER)))["data"]
    (alarm,) = notes["notifications"]["nodes"]
    assert [(d["path"], d["result"]) for d in alarm["deliveries"]] == [("push", "sent")]


async def test_everyday_notices_go_in_the_normal_class(api: Api, jpush: JPushStandIn) -> None:
    await register(api, FAMILY, "1a0018970a8b0001")
    elder = await api.sign_in(ELDER)
    links = (await api.op("app/FamilyLinks", {}, elder))["data"]["familyLinks"]["nodes"]
    son_link = next(link for link in links if link["familyMember"]["phone"].endswith(FAMILY[-4:]))
    await api.op("app/RevokeFamilyLink", {"linkId": son_link["id"]}, elder)
    await api.settle()
    (push,) = jpush.to("1a0018970a8b0001")
    assert push["notification"]["android"]["priority"] == 0
    assert push["notification"]["android"]["channel_id"] == "linli_general"
    assert "urgency" not in push["options"]["third_party_channel"]["huawei"]
    assert "interruption-level" not in push["notification"]["ios"]


async def test_a_phone_jpush_no_longer_knows_is_forgotten_and_sms_goes_at_once(api: Api, jpush: JPushStandIn) -> None:
    await register(api, GRID_WORKER, "gone-1a0018970a8b")
    await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    await api.settle()
    assert "按了紧急按钮" in await api.last_sms(GRID_WORKER)
    worker = await api.sign_in(GRID_WORKER)
    (alarm,) = (await api.op("app/Notifications", {"first": 5}, worker))["data"]["notifications"]["nodes"]
    assert [(d["path"], d["result"], d["detail"]) for d in alarm["deliveries"]] == [
        ("push", "failed", "UNREGISTERED"),
        ("sms", "delivered", "gateway accepted"),
    ]
    # A second alarm does not try the forgotten phone again.
    await api.op("app/TriggerEmergency", {}, await api.sign_in("+8613800000002"))
    await api.settle()
    assert len(jpush.pushes) == 0


async def test_an_unknown_push_service_is_refused(api: Api) -> None:
    token = await api.sign_in(GRID_WORKER)
    refused = await api.op(
        "app/RegisterPushDevice", {"token": "x" * 20, "platform": "android", "service": "APNS"}, token
    )
    assert "errors" in refused  # not one of the enum's values: refused before anything is stored
