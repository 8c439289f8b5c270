"""平安报 through the clients' own documents, with the real durable timers: a missed window
climbs its ladder (the elder reminded, called, family, the grid worker with a visit) and
stops the moment anyone checks in; a check-in in time changes nothing; OK on the TV is a
check-in; family see one daily line."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.notify import service as notify
from backend.notify.models import Delivery, Notification
from backend.wellbeing.models import CheckIn, MissedCheckIn
from tests.conftest import ELDER, ELDER_2, FAMILY, FAMILY_2, GRID_WORKER, HEPING_WORKER, Api, Database, run_due_jobs

STEP = ("wellbeing.step",)


@pytest.fixture(autouse=True)
def nine_in_the_morning(local_clock: Any) -> None:
    """Before the 10:00 window, so the window the tests run is today's whatever the real hour."""
    local_clock("09:00")


async def notifications(api: Api, phone: str) -> list[str]:
    feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
    return [n["text"] for n in feed["data"]["notifications"]["nodes"]]


async def plan(api: Api, phone: str, **more: object) -> dict[str, object]:
    done = await api.op("app/SetCheckInPlan", {"active": True, "byTime": "10:00", **more}, await api.sign_in(phone))
    return dict(done["data"]["setCheckInPlan"])


async def elder_id(api: Api, phone: str = ELDER) -> str:
    return str((await api.op("app/Me", {}, await api.sign_in(phone)))["data"]["me"]["id"])


async def test_a_missed_check_in_climbs_its_ladder_and_stops_when_the_grid_worker_sees_her(
    api: Api, db: Database
) -> None:
    assert await plan(api, ELDER) == {"__typename": "CheckInPlan", "byTime": "10:00", "active": True}
    await run_due_jobs(api, db, ("wellbeing.window",))
    reminded = [t for t in await notifications(api, ELDER) if t.startswith("平安报：今天10:00前还没有收到您的平安")]
    assert len(reminded) == 1, reminded
    assert not any("没有报平安" in t for t in await notifications(api, FAMILY))

    await run_due_jobs(api, db, STEP)  # the check-in call: the voice path alone
    async with db.factory() as session:
        call = await session.scalar(select(Notification).where(Notification.kind == "check_in_call"))
        assert call is not None
        paths = (await session.execute(select(Delivery.path).where(Delivery.notification_id == call.id))).scalars()
        assert list(paths) == ["voice"]

    await run_due_jobs(api, db, STEP)
    told = [t for t in await notifications(api, FAMILY) if t.startswith("黎文华今天10:00前没有报平安")]
    assert len(told) == 1, told
    line = (await api.op("app/WellbeingToday", {"personId": await elder_id(api)}, await api.sign_in(FAMILY)))["data"]
    assert line["wellbeingToday"]["line"] == "今天10:00前没有报平安，社区正在联系"

    await run_due_jobs(api, db, STEP)
    visit = [t for t in await notifications(api, GRID_WORKER) if t.startswith("请上门看看：黎文华")]
    assert len(visit) == 1 and "1单元101" in visit[0], visit
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, await api.sign_in(GRID_WORKER))
    assert [m["name"] for m in listed["data"]["missedCheckIns"]] == ["黎文华"]

    # The grid worker finds her well and records it: the ladder stops, everyone told hears it.
    seen = await api.op(
        "app/CheckIn", {"personId": await elder_id(api), "note": "在楼下晒太阳"}, await api.sign_in(GRID_WORKER)
    )
    assert seen["data"]["checkIn"]["via"] == "proxy"
    await api.settle()
    assert "黎文华已经报平安了（赵晓燕看到了，说很好）。" in await notifications(api, FAMILY)
    before = len(await notifications(api, GRID_WORKER))
    await run_due_jobs(api, db, STEP)
    assert len(await notifications(api, GRID_WORKER)) == before  # nothing more
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, await api.sign_in(GRID_WORKER))
    assert listed["data"]["missedCheckIns"] == []
    line = (await api.op("app/WellbeingToday", {"personId": await elder_id(api)}, await api.sign_in(FAMILY)))["data"]
    assert line["wellbeingToday"]["line"].endswith("报平安（赵晓燕看到了，说很好）")


async def test_a_check_in_in_time_changes_nothing_and_family_see_one_line(api: Api, db: Database) -> None:
    await plan(api, ELDER)
    fine = await api.op("app/CheckIn", {}, await api.sign_in(ELDER))
    assert fine["data"]["checkIn"]["via"] == "app"
    again = await api.op("app/CheckIn", {}, await api.sign_in(ELDER))
    assert again["data"]["checkIn"]["at"] == fine["data"]["checkIn"]["at"]  # the day's first is kept
    await run_due_jobs(api, db, ("wellbeing.window",))
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(MissedCheckIn)) == 0
    assert not any(t.startswith("平安报") for t in await notifications(api, ELDER))
    today = (await api.op("app/WellbeingToday", {"personId": await elder_id(api)}, await api.sign_in(FAMILY)))["data"]
    assert today["wellbeingToday"]["line"].endswith("报平安（在手机上按了我很好）")
    # Another family sees nothing of her; a stranger cannot vouch for her.
    other = await api.op("app/WellbeingToday", {"personId": await elder_id(api)}, await api.sign_in(FAMILY_2))
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    vouch = await api.op("app/CheckIn", {"personId": await elder_id(api)}, await api.sign_in(HEPING_WORKER))
    assert vouch["data"]["checkIn"]["code"] == "NOT_FOUND"


async def test_ok_on_the_tv_to_the_reminder_is_her_check_in(api: Api, db: Database) -> None:
    await plan(api, ELDER)
    await run_due_jobs(api, db, ("wellbeing.window",))
    async with transaction(db.factory) as session:
        reminder = await session.scalar(select(Notification).where(Notification.kind == "check_in"))
        assert reminder is not None
        await notify.confirm_at_home(session, {reminder.person_id}, reminder.id, by="tv")
    async with db.factory() as session:
        [kept] = (await session.execute(select(CheckIn))).scalars().all()
        assert kept.via == "tv"
        [miss] = (await session.execute(select(MissedCheckIn))).scalars().all()
        assert (miss.resolved_via, miss.step) == ("tv", 1)
    await run_due_jobs(api, db, STEP)
    async with db.factory() as session:
        calls = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "check_in_call")
        )
        assert calls == 0  # stopped before the call


async def test_bad_plans_and_check_ins_without_one_are_refused_in_words(api: Api, db: Database) -> None:
    night = await plan(api, ELDER, byTime="02:00")
    assert night["code"] == "INVALID_INPUT"
    none = await api.op("app/CheckIn", {}, await api.sign_in(ELDER_2))
    assert none["data"]["checkIn"]["message"].startswith("还没有开启平安报")
    # Family without manage_settings cannot turn it on for her; staff can.
    denied = await api.op(
        "app/SetCheckInPlan", {"active": True, "personId": await elder_id(api)}, await api.sign_in(FAMILY)
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    by_staff = await api.op(
        "app/SetCheckInPlan", {"active": True, "personId": await elder_id(api)}, await api.sign_in(GRID_WORKER)
    )
    assert by_staff["data"]["setCheckInPlan"]["byTime"] == "10:00"  # the community's default
