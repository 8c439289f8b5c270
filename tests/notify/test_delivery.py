"""The delivery ladder: first path at once, the next one when the first is not confirmed in
time, quiet hours for everyday messages only, and reminders on the durable jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend.community.models import Person
from backend.emergency.models import AlertSource
from backend.emergency.service import Press
from backend.jobs import Job, JobStatus
from backend.notify.models import Notification
from backend.notify.paths import bundles
from backend.notify.reminders import DUE
from backend.notify.service import NEXT_PATH
from tests.conftest import ELDER, ELDER_2, FAMILY, FAMILY_2, GRID_WORKER, Api, Database, run_due_jobs
from tests.notify.fcm_standin import FcmStandIn

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def sms_to(api: Api, phone: str) -> list[str]:
    response = await api.client.get("/dev/outbox", params={"to": phone})
    return [m["text"] for m in response.json()["messages"]]


async def my_notifications(api: Api, phone: str) -> list[dict[str, Any]]:
    result = await api.op("app/Notifications", {"first": 20}, await api.sign_in(phone))
    return result["data"]["notifications"]["nodes"]


async def press(api: Api, phone: str = ELDER) -> str:
    result = await api.op("app/TriggerEmergency", {}, await api.sign_in(phone))
    await api.settle()
    return result["data"]["triggerEmergency"]["emergency"]["id"]


async def test_an_alarm_pushed_but_not_confirmed_goes_out_by_sms_after_ten_seconds(
    api: Api, db: Database, standin: FcmStandIn
) -> None:
    # The grid worker's phone has the app, but (as in mainland China) the push never shows.
    worker = await api.sign_in(GRID_WORKER)
    await api.op("app/RegisterPushDevice", {"token": "ok-worker-phone", "platform": "android"}, worker)
    await press(api)
    (pushed,) = [m for m in standin.sent if m["token"] == "ok-worker-phone"]
    assert pushed["android"]["priority"] == "high"
    assert not any("紧急按钮" in t for t in await sms_to(api, GRID_WORKER))  # not yet: 10 s to confirm
    await run_due_jobs(api, db, (NEXT_PATH,))  # ten seconds pass
    assert any("紧急按钮" in t for t in await sms_to(api, GRID_WORKER))
    (alarm,) = [n for n in await my_notifications(api, GRID_WORKER) if n["kind"] == "emergency"]
    assert alarm["urgent"] is True
    assert [(d["path"], d["result"]) for d in alarm["deliveries"]] == [
        ("push", "sent"),
        ("push", "unconfirmed"),
        ("sms", "delivered"),
    ]


async def test_a_confirmed_push_stops_the_fallback(api: Api, db: Database, standin: FcmStandIn) -> None:
    worker = await api.sign_in(GRID_WORKER)
    await api.op("app/RegisterPushDevice", {"token": "ok-worker-phone-2", "platform": "ios"}, worker)
    await press(api)
    (pushed,) = [m for m in standin.sent if m["token"] == "ok-worker-phone-2"]
    confirmed = await api.op("app/ConfirmNotification", {"notificationId": pushed["data"]["notificationId"]}, worker)
    assert confirmed["data"]["confirmNotification"]["state"] == "delivered"
    assert confirmed["data"]["confirmNotification"]["deliveredBy"] == "push"
    await run_due_jobs(api, db, (NEXT_PATH,))
    assert not any("紧急按钮" in t for t in await sms_to(api, GRID_WORKER))
    (alarm,) = [n for n in await my_notifications(api, GRID_WORKER) if n["kind"] == "emergency"]
    assert alarm["deliveries"][0]["confirmedAt"] is not None
    # Only the owner can confirm; to anyone else the notification does not exist.
    other = await api.op(
        "app/ConfirmNotification", {"notificationId": pushed["data"]["notificationId"]}, await api.sign_in(FAMILY)
    )
    assert other["data"]["confirmNotification"]["code"] == "NOT_FOUND"


async def test_when_fcm_is_down_sms_goes_at_once(api: Api, standin: FcmStandIn) -> None:
    worker = await api.sign_in(GRID_WORKER)
    await api.op("app/RegisterPushDevice", {"token": "down-9-worker", "platform": "android"}, worker)
    await press(api)
    assert any("紧急按钮" in t for t in await sms_to(api, GRID_WORKER))
    (alarm,) = [n for n in await my_notifications(api, GRID_WORKER) if n["kind"] == "emergency"]
    assert [(d["path"], d["result"]) for d in alarm["deliveries"]] == [("push", "failed"), ("sms", "delivered")]
    assert alarm["deliveries"][0]["detail"] == "UNAVAILABLE"


async def test_answering_the_alarm_stops_chasing_the_other_responders(
    api: Api, db: Database, standin: FcmStandIn
) -> None:
    son = await api.sign_in(FAMILY)
    await api.op("app/RegisterPushDevice", {"token": "ok-son-phone", "platform": "android"}, son)
    alert_id = await press(api)
    worker = await api.sign_in(GRID_WORKER)
    await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
    await api.settle()
    await run_due_jobs(api, db, (NEXT_PATH,))
    assert not any("紧急按钮" in t for t in await sms_to(api, FAMILY))
    mine = [n for n in await my_notifications(api, FAMILY) if n["kind"] == "emergency"]
    (alarm,) = [n for n in mine if "按了紧急按钮" in n["text"]]
    assert alarm["state"] == "settled"
    # The news that it was answered is not an alarm: it is not settled, it reached him.
    (news,) = [n for n in mine if n is not alarm]
    assert news["title"] == "紧急呼叫进展" and "已由" in news["text"] and news["state"] != "settled"


async def test_quiet_hours_hold_everyday_messages_but_never_an_alarm(api: Api, db: Database) -> None:
    son = await api.sign_in(FAMILY)
    now = dt.datetime.now(SHANGHAI)
    # Quiet from an hour ago to an hour from now, whatever time the test runs.
    quiet = {
        "start": (now - dt.timedelta(hours=1)).strftime("%H:%M:00"),
        "end": (now + dt.timedelta(hours=1)).strftime("%H:%M:00"),
    }
    saved = await api.op("app/UpdateNotificationSettings", {"paths": ["sms"], "quietHours": quiet}, son)
    assert saved["data"]["updateNotificationSettings"] == {
        "__typename": "NotificationSettings",
        "paths": ["sms"],
        "quietHours": quiet,
    }
    # An everyday message (the elder ends the link) waits for the morning.
    elder = await api.sign_in(ELDER)
    links = (await api.op("app/FamilyLinks", {}, elder))["data"]["familyLinks"]["nodes"]
    await api.op("app/RevokeFamilyLink", {"linkId": links[0]["id"]}, elder)
    await api.settle()
    assert not any("解除" in t for t in await sms_to(api, FAMILY))
    (held,) = [n for n in await my_notifications(api, FAMILY) if n["kind"] == "family_link"]
    assert held["state"] == "held" and held["deliveries"][0]["result"] == "held"
    async with db.factory() as session:
        (job,) = (
            await session.execute(select(Job).where(Job.kind == NEXT_PATH, Job.status == JobStatus.PENDING))
        ).scalars()
    assert job.run_at.astimezone(SHANGHAI).strftime("%H:%M") == quiet["end"][:5]
    # Quiet hours could not end by themselves here: change them, then let the job run.
    await api.op("app/UpdateNotificationSettings", {"paths": ["sms"]}, son)
    await run_due_jobs(api, db, (NEXT_PATH,))
    assert any("解除" in t for t in await sms_to(api, FAMILY))


async def test_an_alarm_ignores_quiet_hours_and_tries_every_path(api: Api, db: Database) -> None:
    worker = await api.sign_in(GRID_WORKER)
    await api.op(
        "app/UpdateNotificationSettings",
        {"paths": ["sms"], "quietHours": {"start": "00:00:00", "end": "23:59:00"}},
        worker,
    )
    await press(api)
    assert any("紧急按钮" in t for t in await sms_to(api, GRID_WORKER))


async def test_bad_settings_are_refused_and_change_nothing(api: Api) -> None:
    son = await api.sign_in(FAMILY)
    for variables in (
        {"paths": ["fax"]},
        {"paths": []},
        {"paths": ["sms", "sms"]},
        {"quietHours": {"start": "22:00:00", "end": "22:00:00"}},
    ):
        refused = await api.op("app/UpdateNotificationSettings", variables, son)
        assert refused["data"]["updateNotificationSettings"]["code"] == "INVALID_INPUT", variables
        assert refused["data"]["updateNotificationSettings"]["message"].startswith("填写的内容有误")
    settings = (await api.op("app/NotificationSettings", {}, son))["data"]["notificationSettings"]
    assert settings == {"paths": ["push", "sms"], "quietHours": None}
    # Someone else's settings: only with manage_settings (FAMILY_2 has no link to ELDER).
    person_id = (await api.op("app/Me", {}, await api.sign_in(ELDER)))["data"]["me"]["id"]
    stranger = await api.op(
        "app/UpdateNotificationSettings", {"personId": person_id, "paths": ["sms"]}, await api.sign_in(FAMILY_2)
    )
    assert stranger["data"]["updateNotificationSettings"]["code"] == "NOT_FOUND"


async def test_a_daily_medicine_reminder_comes_every_morning_at_eight(api: Api, db: Database) -> None:
    elder = await api.sign_in(ELDER)
    elder_id = (await api.op("app/Me", {}, elder))["data"]["me"]["id"]
    eight = dt.datetime.now(SHANGHAI).replace(hour=8, minute=0, second=0, microsecond=0)
    variables = {"text": "该吃降压药了", "at": eight.isoformat(), "daily": True, "personId": elder_id}
    # The son may order for his mother but was not given manage_settings: refused.
    refused = await api.op("app/ScheduleReminder", variables, await api.sign_in(FAMILY))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Her grid worker sets it up for her.
    made = await api.op("app/ScheduleReminder", variables, await api.sign_in(GRID_WORKER))
    reminder = made["data"]["scheduleReminder"]
    assert reminder["__typename"] == "Reminder", made
    first = dt.datetime.fromisoformat(reminder["nextAt"]).astimezone(SHANGHAI)
    assert first.strftime("%H:%M") == "08:00" and first > dt.datetime.now(SHANGHAI)
    listed = (await api.op("app/Reminders", {}, elder))["data"]["reminders"]
    assert [r["text"] for r in listed] == ["该吃降压药了"]
    await run_due_jobs(api, db, (DUE,))  # eight o'clock
    assert await api.last_sms(ELDER) == "【邻里】提醒：该吃降压药了"  # no app: SMS, its own template
    (told,) = [n for n in await my_notifications(api, ELDER) if n["kind"] == "reminder"]
    assert told["title"] == "提醒" and told["readAloudUrl"].endswith(".wav")
    (again,) = (await api.op("app/Reminders", {}, elder))["data"]["reminders"]
    following = dt.datetime.fromisoformat(again["nextAt"]).astimezone(SHANGHAI)
    assert following.strftime("%H:%M") == "08:00" and following.date() == first.date() + dt.timedelta(days=1)
    cancelled = await api.op("app/CancelReminder", {"reminderId": again["id"]}, elder)
    assert cancelled["data"]["cancelReminder"]["active"] is False
    async with db.factory() as session:
        pending = (await session.execute(select(Job).where(Job.kind == DUE, Job.status == JobStatus.PENDING))).all()
    assert pending == []


async def test_a_reminder_in_the_past_or_for_a_stranger_is_refused(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    past = (dt.datetime.now(SHANGHAI) - dt.timedelta(hours=1)).isoformat()
    refused = await api.op("app/ScheduleReminder", {"text": "复诊", "at": past}, elder)
    assert refused["data"]["scheduleReminder"]["code"] == "INVALID_INPUT"
    elder_2 = (await api.op("app/Me", {}, await api.sign_in(ELDER_2)))["data"]["me"]["id"]
    tomorrow = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=1)).isoformat()
    stranger = await api.op("app/ScheduleReminder", {"text": "复诊", "at": tomorrow, "personId": elder_2}, elder)
    assert stranger["data"]["scheduleReminder"]["code"] == "NOT_FOUND"
    assert (await api.op("app/Reminders", {}, await api.sign_in(ELDER_2)))["data"]["reminders"] == []


async def test_alarms_raised_together_reach_a_phone_as_one_push_and_each_can_be_confirmed(
    api: Api, db: Database, standin: FcmStandIn, people: dict[str, int]
) -> None:
    """Two elders press at once: the grid worker's phone gets one push naming both alarms
    (FCM throttles a device at a few messages a minute), and confirming one leaves the other
    still chased by SMS."""
    async with db.factory() as session:
        households = {p: (await session.get(Person, people[p])).household_id for p in (ELDER, ELDER_2)}  # type: ignore[union-attr]
    worker = await api.sign_in(GRID_WORKER)
    await api.op("app/RegisterPushDevice", {"token": "ok-bundle-phone", "platform": "android"}, worker)
    # Pressed in the same instant: the alarm desk stores them as one group.
    presses = [Press(people[p], households[p], 1, AlertSource.APP) for p in (ELDER, ELDER_2)]
    await asyncio.gather(*(api.runtime.alarm_desk.press(p) for p in presses))
    await api.settle()
    pushes = [m for m in standin.sent if m["token"] == "ok-bundle-phone"]
    assert len(pushes) == 1
    (push,) = pushes
    assert push["notification"]["title"] == "紧急呼叫（2条）"
    assert push["android"]["priority"] == "high"
    items = json.loads(push["data"]["items"])
    assert push["data"]["count"] == "2" and len(items) == 2
    assert len({item["alertId"] for item in items}) == 2
    assert push["notification"]["body"].count("按了紧急按钮") == 2
    confirmed = await api.op("app/ConfirmNotification", {"notificationId": items[0]["notificationId"]}, worker)
    assert "errors" not in confirmed, confirmed
    await run_due_jobs(api, db, (NEXT_PATH,))  # ten seconds pass
    alarms = [n for n in await my_notifications(api, GRID_WORKER) if n["kind"] == "emergency"]
    paths = {n["id"]: [(d["path"], d["result"]) for d in n["deliveries"]] for n in alarms}
    assert paths[items[0]["notificationId"]] == [("push", "sent")]
    assert paths[items[1]["notificationId"]] == [("push", "sent"), ("push", "unconfirmed"), ("sms", "delivered")]


async def test_a_flood_for_one_phone_goes_in_pushes_fcm_accepts(api: Api) -> None:
    """FCM refuses a message over 4,096 bytes: 150 alarms for one grid worker go out in as
    few pushes as fit, each alarm in exactly one of them."""
    body = "幸福社区1号楼的张阿姨按了紧急按钮，请立即联系或前往查看。"
    alarms = [
        Notification(id=1000 + i, person_id=1, kind="emergency", title="紧急呼叫", body=body, data={"alertId": str(i)})
        for i in range(150)
    ]
    pushes = bundles(alarms, "zh-CN", api.runtime.catalog)
    assert 1 < len(pushes) < 150
    for title, text, data, _chunk in pushes:
        size = sum(len(s.encode("utf-8")) for s in (title, text, *data.keys(), *data.values()))
        assert size <= 4096
        items = json.loads(data["items"])
        assert title == f"紧急呼叫（{len(items)}条）" and data["count"] == str(len(items))
        assert text.startswith(body)
    carried = [item["notificationId"] for *_, data, _ in pushes for item in json.loads(data["items"])]
    assert carried == [str(n.id) for n in alarms]
    assert [i for *_, chunk in pushes for i in chunk] == list(range(150))
