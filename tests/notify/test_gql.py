"""Registered phones get pushed to; a token FCM has forgotten is pruned and SMS takes over."""

from __future__ import annotations

from sqlalchemy import select

from backend.community.models import Device, DeviceKind
from tests.conftest import ELDER, FAMILY, Api, Database
from tests.notify.fcm_standin import FcmStandIn


async def app_tokens(db: Database) -> list[str]:
    async with db.factory() as session:
        return list((await session.execute(select(Device.identifier).where(Device.kind == DeviceKind.APP))).scalars())


async def test_a_family_member_with_the_app_is_told_by_push_not_sms(api: Api, standin: FcmStandIn) -> None:
    child = await api.sign_in(FAMILY)
    registered = await api.op("app/RegisterPushDevice", {"token": "ok-phone-of-son", "platform": "android"}, child)
    assert registered["data"]["registerPushDevice"] == {
        "__typename": "PushDevice",
        "token": "ok-phone-of-son",
        "platform": "android",
        "service": "FCM",  # unless the app says it is a JPush registration id
    }
    elder = await api.sign_in(ELDER)
    links = (await api.op("app/FamilyLinks", {}, elder))["data"]["familyLinks"]["nodes"]
    await api.op("app/RevokeFamilyLink", {"linkId": links[0]["id"]}, elder)
    await api.settle()
    (pushed,) = [m for m in standin.sent if m["token"] == "ok-phone-of-son"]
    assert "解除" in pushed["notification"]["body"] and pushed["notification"]["title"] == "家人关联"
    # The id lets the app confirm receipt (confirmNotification), which stops the fallback to SMS.
    assert pushed["data"] == {
        "kind": "family_link",
        "linkId": links[0]["id"],
        "notificationId": pushed["data"]["notificationId"],
    }
    outbox = (await api.client.get("/dev/outbox", params={"to": FAMILY})).json()["messages"]
    assert not any("解除" in m["text"] for m in outbox)  # the app took it: no SMS
    # The elder has no app registered: SMS.
    assert "解除" in await api.last_sms(ELDER)


async def test_an_uninstalled_app_is_forgotten_and_sms_takes_over(api: Api, db: Database) -> None:
    child = await api.sign_in(FAMILY)
    await api.op("app/RegisterPushDevice", {"token": "gone-old-phone", "platform": "ios"}, child)
    elder = await api.sign_in(ELDER)
    links = (await api.op("app/FamilyLinks", {}, elder))["data"]["familyLinks"]["nodes"]
    await api.op("app/RevokeFamilyLink", {"linkId": links[0]["id"]}, elder)
    await api.settle()
    assert "解除" in await api.last_sms(FAMILY)
    assert "gone-old-phone" not in await app_tokens(db)


async def test_registering_is_idempotent_and_bad_input_is_refused(api: Api, db: Database) -> None:
    child = await api.sign_in(FAMILY)
    for _ in range(2):
        await api.op("app/RegisterPushDevice", {"token": "ok-t1", "platform": "harmony"}, child)
    assert await app_tokens(db) == ["ok-t1"]
    bad = await api.op("app/RegisterPushDevice", {"token": "ok-t2", "platform": "symbian"}, child)
    assert bad["data"]["registerPushDevice"]["code"] == "INVALID_INPUT"
    removed = await api.op("app/UnregisterPushDevice", {"token": "ok-t1"}, child)
    assert removed["data"]["unregisterPushDevice"]["removed"] is True
    assert await app_tokens(db) == []
