"""Mutual help and the time bank through the clients' own documents: a request goes to the
nearest volunteers who fit (building, then grid, then community), one accepts, the elder's
code confirms it, the hours are credited once (replays and races too) with the points that
follow from them; a daughter gives banked hours to her mother, which pay for her next help;
staff record hours by hand, with a reason, kept for audit."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend.community.models import Person
from backend.wallet import points, time_bank
from backend.wallet.models import TimeEntry
from tests.conftest import ELDER, FAMILY, FAMILY_2, GRID_WORKER, SERVICE_CENTRE, Api, Database, run_due_jobs

SAME_BUILDING = "+8613800000004"  # 许德胜, 幸福社区 1号楼 like the elder
SAME_GRID = "+8613800000006"  # 蒋玉兰, 2号楼, grid 1
OTHER_GRID = "+8613800000011"  # 张振华, 3号楼, grid 2
DEMO_VOLUNTEER = "+8613400000001"  # 陈思雨, 2号楼: chat, shopping, escort, reading, 08:00-21:00


def tomorrow_at(hh_mm: str) -> str:
    zone = ZoneInfo("Asia/Shanghai")
    day = dt.datetime.now(zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time.fromisoformat(hh_mm), zone).isoformat()


async def notifications(api: Api, phone: str) -> list[str]:
    feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
    return [n["text"] for n in feed["data"]["notifications"]["nodes"]]


async def volunteer(api: Api, phone: str, skills: list[str]) -> None:
    done = await api.op(
        "app/SetVolunteerProfile",
        {"input": {"skills": skills, "weekdays": [0, 1, 2, 3, 4, 5, 6], "fromTime": "08:00", "untilTime": "20:00"}},
        await api.sign_in(phone),
    )
    assert done["data"]["setVolunteerProfile"]["__typename"] == "VolunteerProfile", done


async def ask(api: Api, phone: str, kind: str, hh_mm: str = "10:00", **more: Any) -> dict[str, Any]:
    asked = await api.op(
        "app/AskForHelp",
        {"input": {"kind": kind, "startsAt": tomorrow_at(hh_mm), "minutes": 60, **more}},
        await api.sign_in(phone),
    )
    found = asked["data"]["askForHelp"]
    assert found["__typename"] == "HelpRequest", asked
    return found


async def person_id(db: Database, phone: str) -> int:
    async with db.factory() as session:
        return int(await session.scalar(select(Person.id).where(Person.phone == phone)))


async def banked(db: Database, phone: str) -> int:
    async with db.factory() as session:
        return await time_bank.balance(session, await person_id(db, phone))


async def test_help_goes_to_the_nearest_volunteer_who_fits_and_the_hours_count_once(api: Api, db: Database) -> None:
    await volunteer(api, SAME_BUILDING, ["READING"])
    await volunteer(api, SAME_GRID, ["READING", "CHAT"])
    await volunteer(api, OTHER_GRID, ["READING"])

    reading = await ask(api, ELDER, "READING")
    assert (reading["reach"], [v["name"] for v in reading["volunteers"]]) == ("BUILDING", ["许德胜"])
    await api.settle()
    told = [t for t in await notifications(api, SAME_BUILDING) if t.startswith("邻居黎文华需要读报")]
    assert len(told) == 1 and "在1号楼附近" in told[0] and "1单元101" not in told[0], told
    assert not any(t.startswith("邻居黎文华") for t in await notifications(api, SAME_GRID))
    # The volunteer sees the building, not the flat, until he says he is going.
    [seen] = (await api.op("app/HelpAskedOfMe", {}, await api.sign_in(SAME_BUILDING)))["data"]["helpAskedOfMe"]
    assert (seen["place"], seen["confirmCode"], seen["myAnswer"]) == ("1号楼", None, "ASKED")

    # Nobody in the building shops: the grid is asked at once; in time, the community.
    shopping = await ask(api, ELDER, "SHOPPING", "15:00")
    assert (shopping["reach"], [v["name"] for v in shopping["volunteers"]]) == ("GRID", ["陈思雨"])
    await run_due_jobs(api, db, ("mutual_help.widen",))
    [again] = (await api.op("app/MyHelpRequests", {}, await api.sign_in(ELDER)))["data"]["myHelpRequests"][:1]
    assert again["id"] == shopping["id"] and again["reach"] == "COMMUNITY"
    assert [v["name"] for v in again["volunteers"]] == ["陈思雨"]  # nobody else fits

    going = await api.op("app/AcceptHelpRequest", {"id": reading["id"]}, await api.sign_in(SAME_BUILDING))
    accepted = going["data"]["acceptHelpRequest"]
    assert (accepted["status"], accepted["myAnswer"]) == ("MATCHED", "ACCEPTED")
    assert accepted["place"] == "幸福街道幸福社区1号楼1单元101室"
    await api.settle()
    code = reading["confirmCode"]
    assert any(t.startswith("许德胜答应") and f"确认码{code}" in t for t in await notifications(api, ELDER))

    wrong = "0000" if code != "0000" else "1111"
    refused = await api.op(
        "app/ConfirmHelpDone", {"id": reading["id"], "code": wrong}, await api.sign_in(SAME_BUILDING)
    )
    assert refused["data"]["confirmHelpDone"]["message"] == "确认码不对，请再问一下老人。还可以试4次。"
    assert await banked(db, SAME_BUILDING) == 0

    # The volunteer's code and the elder's own button at once: credited once.
    both = await asyncio.gather(
        api.op("app/ConfirmHelpDone", {"id": reading["id"], "code": code}, await api.sign_in(SAME_BUILDING)),
        api.op("app/ConfirmHelpDone", {"id": reading["id"]}, await api.sign_in(ELDER)),
    )
    assert [b["data"]["confirmHelpDone"]["status"] for b in both] == ["DONE", "DONE"], both
    again_done = await api.op("app/ConfirmHelpDone", {"id": reading["id"]}, await api.sign_in(ELDER))
    assert again_done["data"]["confirmHelpDone"]["volunteers"][0]["minutesCredited"] == 60
    assert await banked(db, SAME_BUILDING) == 60
    async with db.factory() as session:
        # 10 points an hour follow from the hour banked, once.
        assert await points.balance(session, await person_id(db, SAME_BUILDING)) == 10
    await api.settle()
    assert any(
        t.startswith("谢谢您帮黎文华读报！时间银行已记入60分钟") for t in await notifications(api, SAME_BUILDING)
    )
    statement = await api.op("app/TimeBank", {}, await api.sign_in(SAME_BUILDING))
    assert statement["data"]["timeBank"]["entries"][0]["minutes"] == 60

    # Too late for the others: the request was taken.
    late = await api.op("app/AcceptHelpRequest", {"id": shopping["id"]}, await api.sign_in(SAME_BUILDING))
    assert late["data"]["acceptHelpRequest"]["code"] == "NOT_FOUND"  # he was never asked


async def test_two_volunteers_answering_at_once_one_goes_and_the_other_hears_it_is_taken(
    api: Api, db: Database
) -> None:
    await volunteer(api, SAME_GRID, ["CHAT"])
    chat = await ask(api, ELDER, "CHAT", "16:00")
    assert sorted(v["name"] for v in chat["volunteers"]) == ["蒋玉兰", "陈思雨"]  # grid 1, both
    answers = await asyncio.gather(
        api.op("app/AcceptHelpRequest", {"id": chat["id"]}, await api.sign_in(SAME_GRID)),
        api.op("app/AcceptHelpRequest", {"id": chat["id"]}, await api.sign_in(DEMO_VOLUNTEER)),
    )
    kinds = sorted(a["data"]["acceptHelpRequest"]["__typename"] for a in answers)
    assert kinds == ["HelpRequest", "HelpTakenError"], answers
    mine = (await api.op("app/MyHelpRequests", {}, await api.sign_in(ELDER)))["data"]["myHelpRequests"][0]
    assert [v["status"] for v in mine["volunteers"]].count("ACCEPTED") == 1


async def test_when_every_volunteer_asked_lets_it_pass_the_centre_and_the_elder_are_told(
    api: Api, db: Database
) -> None:
    await volunteer(api, SAME_BUILDING, ["REPAIR"])
    await volunteer(api, OTHER_GRID, ["REPAIR"])
    repair = await ask(api, ELDER, "REPAIR")
    assert [v["name"] for v in repair["volunteers"]] == ["许德胜"]
    await run_due_jobs(api, db, ("mutual_help.widen",))  # nobody else in grid 1: the community
    [mine] = (await api.op("app/MyHelpRequests", {}, await api.sign_in(ELDER)))["data"]["myHelpRequests"]
    assert mine["reach"] == "COMMUNITY" and [v["name"] for v in mine["volunteers"]] == ["许德胜", "张振华"]
    assert not any("志愿者都还没有答应" in t for t in await notifications(api, SERVICE_CENTRE))

    # Ten more minutes and nobody said 我去: the centre arranges it, and she knows why she waits.
    await run_due_jobs(api, db, ("mutual_help.widen",))
    told = [t for t in await notifications(api, SERVICE_CENTRE) if "志愿者都还没有答应" in t]
    assert len(told) == 1 and told[0].startswith("黎文华需要小修小补（") and told[0].endswith("请帮忙安排。"), told
    hers = [t for t in await notifications(api, ELDER) if "已经告诉社区服务中心" in t]
    assert len(hers) == 1 and hers[0].endswith(
        "的小修小补，邻居志愿者暂时都没有空，已经告诉社区服务中心，会有人联系您。"
    )
    await run_due_jobs(api, db, ("mutual_help.widen",))
    assert len([t for t in await notifications(api, SERVICE_CENTRE) if "志愿者都还没有答应" in t]) == 1  # once

    # A neighbour asked earlier may still go.
    going = await api.op("app/AcceptHelpRequest", {"id": repair["id"]}, await api.sign_in(OTHER_GRID))
    assert going["data"]["acceptHelpRequest"]["status"] == "MATCHED"


async def test_nobody_fitting_at_all_tells_the_centre_at_once(api: Api, db: Database) -> None:
    repair = await ask(api, ELDER, "REPAIR")
    assert (repair["reach"], repair["volunteers"]) == ("COMMUNITY", [])
    await api.settle()
    told = [t for t in await notifications(api, SERVICE_CENTRE) if t.startswith("黎文华需要小修小补")]
    assert len(told) == 1 and "社区里暂时没有合适的志愿者" in told[0], told
    assert not any("已经告诉社区服务中心" in t for t in await notifications(api, ELDER))  # the door says so
    await run_due_jobs(api, db, ("mutual_help.widen",))
    assert len([t for t in await notifications(api, SERVICE_CENTRE) if t.startswith("黎文华需要")]) == 1


async def test_a_daughter_banks_hours_for_her_mother_which_pay_for_her_next_help(api: Api, db: Database) -> None:
    staff = await api.sign_in(GRID_WORKER)
    daughter = await person_id(db, FAMILY)
    # She volunteered in Shenzhen; the community checked and records it by hand.
    recorded = await api.op(
        "staff/RecordTime",
        {"personId": str(daughter), "minutes": 120, "reason": "深圳社区志愿服务两小时，已核实证明"},
        staff,
    )
    assert recorded["data"]["recordTime"] == {"__typename": "TimeRecorded", "minutes": 120, "balanceMinutes": 120}
    async with db.factory() as session:
        [entry] = (await session.execute(select(TimeEntry))).scalars().all()
        assert (entry.person_id, entry.minutes, entry.reason) == (daughter, 120, "深圳社区志愿服务两小时，已核实证明")
    no_reason = await api.op("staff/RecordTime", {"personId": str(daughter), "minutes": 30, "reason": " "}, staff)
    assert no_reason["data"]["recordTime"]["code"] == "INVALID_INPUT"
    herself = await api.op(
        "staff/RecordTime", {"personId": str(daughter), "minutes": 30, "reason": "自己记"}, await api.sign_in(FAMILY)
    )
    assert herself["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    mother = str(await person_id(db, ELDER))
    gift = await api.op(
        "app/GiveTime", {"toPersonId": mother, "minutes": 90, "idempotencyKey": "g1"}, await api.sign_in(FAMILY)
    )
    assert gift["data"]["giveTime"]["balanceMinutes"] == 30
    replay = await api.op(
        "app/GiveTime", {"toPersonId": mother, "minutes": 90, "idempotencyKey": "g1"}, await api.sign_in(FAMILY)
    )
    assert replay["data"]["giveTime"]["balanceMinutes"] == 30  # the same gift, sent twice, moves once
    short = await api.op("app/GiveTime", {"toPersonId": mother, "minutes": 60}, await api.sign_in(FAMILY))
    assert short["data"]["giveTime"]["message"] == "时间银行里的时间不够，现在有0.5小时。"
    stranger = await api.op("app/GiveTime", {"toPersonId": mother, "minutes": 10}, await api.sign_in(FAMILY_2))
    assert stranger["data"]["giveTime"]["code"] == "NOT_FOUND"
    assert await banked(db, ELDER) == 90

    # The mother's next help is paid from her banked hours; the volunteer is credited in full.
    escort = await ask(api, ELDER, "ESCORT", "09:00")
    await api.op("app/AcceptHelpRequest", {"id": escort["id"]}, await api.sign_in(DEMO_VOLUNTEER))
    done = await api.op("app/ConfirmHelpDone", {"id": escort["id"]}, await api.sign_in(ELDER))
    assert done["data"]["confirmHelpDone"]["status"] == "DONE"
    assert await banked(db, ELDER) == 30
    assert await banked(db, DEMO_VOLUNTEER) == 60
    hers = await api.op("app/TimeBank", {"personId": mother}, await api.sign_in(FAMILY))
    assert [e["kind"] for e in hers["data"]["timeBank"]["entries"]] == ["time_served", "time_gift"]


async def test_a_bad_request_changes_nothing(api: Api, db: Database) -> None:
    bad = await api.op(
        "app/AskForHelp",
        {"input": {"kind": "CHAT", "startsAt": "2020-01-01T10:00:00+08:00", "minutes": 60}},
        await api.sign_in(ELDER),
    )
    assert bad["data"]["askForHelp"]["code"] == "INVALID_INPUT"
    long = await api.op(
        "app/AskForHelp",
        {"input": {"kind": "CHAT", "startsAt": tomorrow_at("10:00"), "minutes": 600}},
        await api.sign_in(ELDER),
    )
    assert long["data"]["askForHelp"]["code"] == "INVALID_INPUT"
    mine = await api.op("app/MyHelpRequests", {}, await api.sign_in(ELDER))
    assert mine["data"]["myHelpRequests"] == []
