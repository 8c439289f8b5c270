"""The whole story of an alarm, told truthfully: who was told, told again only when it is
true, every step reaching the elder, the family and the responders on their own paths,
repeats after the last tier, and the duty rota at night."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from backend.db import utcnow
from backend.emergency.models import Alert
from backend.jobs import Job, JobStatus
from tests.conftest import (
    ADMIN,
    ELDER,
    FAMILY,
    GRID_WORKER,
    HEPING_ELDER,
    SERVICE_CENTRE,
    Api,
    Database,
    run_due_jobs,
)

OTHER_WORKER = "+8613700000002"  # 幸福社区 grid 2: not the elder's own grid worker


async def press(api: Api, phone: str = ELDER, key: str | None = None) -> dict[str, Any]:
    result = await api.op("app/TriggerEmergency", {"idempotencyKey": key}, await api.sign_in(phone))
    await api.settle()
    return result["data"]["triggerEmergency"]


async def texts(api: Api, phone: str) -> list[str]:
    """Every SMS to `phone`, oldest first."""
    response = await api.client.get("/dev/outbox", params={"to": phone})
    return [m["text"] for m in reversed(response.json()["messages"])]


async def a_minute_passes(db: Database) -> None:
    async with db.factory() as session, session.begin():
        await session.execute(update(Alert).values(notified_at=utcnow() - dt.timedelta(seconds=61)))


async def pending_jobs(db: Database) -> list[Job]:
    async with db.factory() as session:
        return list((await session.scalars(select(Job).where(Job.status == JobStatus.PENDING))).all())


async def test_a_second_press_tells_the_tier_again_but_not_more_than_once_a_minute(api: Api, db: Database) -> None:
    await press(api)
    soon = await press(api)
    assert soon["reply"]["text"] == "刚才已通知网格员和您的家人，正在等他们回应，请保持电话畅通。"
    assert len(await texts(api, GRID_WORKER)) == 1
    await a_minute_passes(db)
    later = await press(api)
    assert later["reply"]["text"] == "已再次通知网格员和您的家人，请保持电话畅通。"
    for phone in (GRID_WORKER, FAMILY):
        first, again = await texts(api, phone)
        assert "按了紧急按钮" in first
        assert "【再次按键】黎文华又按了紧急按钮（第3次）" in again
    assert later["emergency"]["presses"] == 3


async def test_a_press_when_nobody_is_set_up_to_answer_says_exactly_that(api: Api) -> None:
    """和平社区's policy tells only family, and this elder has none receiving alerts."""
    admin = await api.sign_in(ADMIN)
    family_only = [
        {"afterSeconds": 0, "notify": ["FAMILY"]},
        {"afterSeconds": 60, "notify": ["FAMILY"], "callEmergencyServices": True},
    ]
    saved = await api.op(
        "staff/UpdateEscalationPolicy",
        {"communityId": "2", "tiers": family_only, "enRouteTimeoutSeconds": 1800},
        admin,
    )
    assert saved["data"]["updateEscalationPolicy"]["__typename"] == "EscalationPolicy"
    raised = await press(api, HEPING_ELDER)
    assert raised["new"] is True
    assert raised["reply"]["text"] == "您的社区还没有登记可以接收紧急呼叫的人。请马上拨打120或110。"
    alarm = (await api.op("app/Emergency", {"id": raised["emergency"]["id"]}, await api.sign_in(HEPING_ELDER)))["data"][
        "emergency"
    ]
    assert alarm["callEmergencyServices"] is True


async def test_family_and_responders_hear_every_step_on_their_own_paths(api: Api, db: Database) -> None:
    raised = await press(api)
    alert_id = raised["emergency"]["id"]
    worker = await api.sign_in(GRID_WORKER)
    await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
    await api.settle()
    assert (await texts(api, FAMILY))[-1] == "【邻里】黎文华的紧急呼叫已由赵晓燕确认。详情请打开邻里App查看。"
    await api.op("staff/MarkEmergencyEnRoute", {"emergencyId": alert_id}, worker)
    await api.settle()
    assert (await texts(api, FAMILY))[-1] == "【邻里】黎文华的紧急呼叫赵晓燕正在赶往。详情请打开邻里App查看。"
    arrived = await api.op("staff/MarkEmergencyArrived", {"emergencyId": alert_id}, worker)
    assert arrived["data"]["markEmergencyArrived"]["status"] == "ARRIVED"
    await api.settle()
    assert "赵晓燕已经到了。" in await api.last_sms(ELDER)
    assert (await texts(api, FAMILY))[-1] == "【邻里】黎文华的紧急呼叫赵晓燕已到达。详情请打开邻里App查看。"
    # Arrival stops the check on whether anyone came; nothing is left to chase.
    assert [j.kind for j in await pending_jobs(db) if j.kind.startswith("emergency.")] == []
    await api.op("staff/ResolveEmergency", {"emergencyId": alert_id, "outcome": "TO_HOSPITAL", "note": None}, worker)
    await api.settle()
    assert (await texts(api, FAMILY))[-1] == "【邻里】黎文华的紧急呼叫已处理（已送医）。详情请打开邻里App查看。"
    assert "您的紧急呼叫已处理完毕。" in await api.last_sms(ELDER)
    # The one who took each step was not told of it by SMS: she did it.
    assert [t for t in await texts(api, GRID_WORKER) if "赵晓燕" in t] == []


async def test_an_elder_cancelling_tells_everyone_already_told(api: Api) -> None:
    raised = await press(api)
    cancelled = await api.op(
        "app/CancelEmergency", {"emergencyId": raised["emergency"]["id"]}, await api.sign_in(ELDER)
    )
    assert cancelled["data"]["cancelEmergency"]["status"] == "CANCELLED"
    await api.settle()
    for phone in (GRID_WORKER, FAMILY):
        assert (await texts(api, phone))[-1] == "【邻里】黎文华的紧急呼叫已取消（误按）。详情请打开邻里App查看。"
    assert await texts(api, OTHER_WORKER) == []  # tier 2 was never told, so is not told of the end


async def test_after_the_last_tier_every_tier_is_told_again_every_five_minutes(api: Api, db: Database) -> None:
    raised = await press(api)
    alert_id = raised["emergency"]["id"]
    await run_due_jobs(api, db)  # tier 2
    await run_due_jobs(api, db)  # tier 3: call 120
    (repeat,) = [j for j in await pending_jobs(db) if j.kind == "emergency.repeat"]
    assert dt.timedelta(seconds=295) < repeat.run_at - utcnow() <= dt.timedelta(seconds=300)
    staff = await api.sign_in(SERVICE_CENTRE)
    listed = (await api.op("staff/OpenEmergencies", {}, staff))["data"]["openEmergencies"]
    assert listed[0]["unanswered"] is False  # not yet: tier 3's time is not over
    await run_due_jobs(api, db, ("emergency.repeat",))
    await api.settle()
    for phone in (GRID_WORKER, FAMILY, OTHER_WORKER, SERVICE_CENTRE, ADMIN):
        assert "【无人应答】黎文华的紧急呼叫" in (await texts(api, phone))[-1], phone
    listed = (await api.op("staff/OpenEmergencies", {}, staff))["data"]["openEmergencies"]
    assert listed[0]["id"] == alert_id and listed[0]["unanswered"] is True
    await run_due_jobs(api, db, ("emergency.repeat",))
    await api.settle()
    assert sum("【无人应答】" in t for t in await texts(api, ADMIN)) == 2
    await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, staff)
    assert [j for j in await pending_jobs(db) if j.kind.startswith("emergency.")] == []
    listed = (await api.op("staff/OpenEmergencies", {}, staff))["data"]["openEmergencies"]
    assert listed[0]["unanswered"] is False and listed[0]["status"] == "ACKNOWLEDGED"


async def set_rota(api: Api, night: list[str], day: list[str], people: dict[str, int]) -> dict[str, Any]:
    admin = await api.sign_in(ADMIN)
    every_day = [{"weekday": d, "personIds": [str(people[p]) for p in night]} for d in range(7)]
    result = await api.op(
        "staff/SetDutyShift",
        {"communityId": "1", "name": "夜班", "starts": "20:00:00", "ends": "08:00:00", "weekly": every_day},
        admin,
    )
    assert result["data"]["setDutyShift"]["__typename"] == "DutyRota", result
    every_day = [{"weekday": d, "personIds": [str(people[p]) for p in day]} for d in range(7)]
    result = await api.op(
        "staff/SetDutyShift",
        {"communityId": "1", "name": "白班", "starts": "08:00:00", "ends": "20:00:00", "weekly": every_day},
        admin,
    )
    return dict(result["data"]["setDutyShift"])


async def test_the_duty_rota_picks_the_on_duty_worker_at_night(
    api: Api, db: Database, people: dict[str, int], local_clock: Any
) -> None:
    local_clock("03:00")
    rota = await set_rota(api, night=[OTHER_WORKER], day=[GRID_WORKER], people=people)
    assert rota["onDutyNow"] == [str(people[OTHER_WORKER])]
    assert [s["name"] for s in rota["shifts"]] == ["白班", "夜班"]
    await press(api)
    await run_due_jobs(api, db, ("emergency.escalate",))  # the minute passes: tier 2
    await api.settle()
    # Tier 2 (community staff, service centre): the night worker, not the day worker asleep at
    # home; nobody of the service centre is on the rota, so all of it.
    assert "【升级】" in (await texts(api, OTHER_WORKER))[-1]
    assert "【升级】" in (await texts(api, SERVICE_CENTRE))[-1]
    assert not any("【升级】" in t for t in await texts(api, GRID_WORKER))


async def test_nobody_on_duty_means_everyone_with_the_role(
    api: Api, db: Database, people: dict[str, int], local_clock: Any
) -> None:
    day = local_clock("03:00")
    await set_rota(api, night=[OTHER_WORKER], day=[GRID_WORKER], people=people)
    # Tonight's night worker is off (the shift started yesterday evening).
    off = await api.op(
        "staff/SetDutyException",
        {
            "communityId": "1",
            "shift": "夜班",
            "date": (day.date() - dt.timedelta(days=1)).isoformat(),
            "personId": str(people[OTHER_WORKER]),
            "onDuty": False,
        },
        await api.sign_in(ADMIN),
    )
    assert off["data"]["setDutyException"]["onDutyNow"] == []
    await press(api)
    await run_due_jobs(api, db, ("emergency.escalate",))
    await api.settle()
    for phone in (GRID_WORKER, OTHER_WORKER):
        assert "【升级】" in (await texts(api, phone))[-1], phone


async def test_only_the_communitys_own_staff_go_on_its_rota(api: Api, people: dict[str, int]) -> None:
    admin = await api.sign_in(ADMIN)
    refused = await api.op(
        "staff/SetDutyShift",
        {
            "communityId": "1",
            "name": "夜班",
            "starts": "20:00:00",
            "ends": "08:00:00",
            "weekly": [{"weekday": 0, "personIds": [str(people[FAMILY])]}],
        },
        admin,
    )
    assert refused["data"]["setDutyShift"]["field"] == "personIds"
    rota = await api.op("staff/DutyRota", {"communityId": "1"}, admin)
    assert rota["data"]["dutyRota"]["shifts"] == []
    worker = await api.sign_in(GRID_WORKER)  # staff, but not an admin or the service centre
    refused = await api.op(
        "staff/SetDutyShift",
        {"communityId": "1", "name": "夜班", "starts": "20:00:00", "ends": "08:00:00", "weekly": []},
        worker,
    )
    assert refused["data"]["setDutyShift"]["code"] == "NOT_FOUND"
