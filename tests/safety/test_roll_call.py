"""报平安: staff ask every home; homes answer in the app; staff and each grid worker see who
has not, elders living alone and the oldest first; when the time is up the family and grid
worker of every silent home are told. A severe warning starts one by the community's policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.community.models import Community, Grid
from tests.conftest import ADMIN, ELDER, FAMILY, GRID_WORKER, Api, Database, in_process, make_settings, run_due_jobs
from tests.safety.test_cap import SECRET, SENDER, message, send

NEIGHBOUR = "+8613800000002"  # 1号楼, grid 1


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int]) -> Any:
    async with in_process(make_settings(tmp_path, db.url, cap_sender_secrets={SENDER: SECRET})) as api:
        yield api


async def places(db: Database) -> dict[str, int]:
    async with db.factory() as session:
        xingfu = await session.scalar(select(Community.id).where(Community.code == "xingfu"))
        grid = await session.scalar(select(Grid.id).where(Grid.code == "xingfu-g1"))
    assert xingfu is not None and grid is not None
    return {"xingfu": xingfu, "grid1": grid}


async def test_homes_answer_staff_see_the_silent_ones_alone_and_oldest_first_and_families_are_told(
    api: Api, db: Database
) -> None:
    where = await places(db)
    admin = await api.sign_in(ADMIN)
    started = await api.op(
        "staff/StartRollCall", {"communityId": str(where["xingfu"]), "reason": "暴雨过后报平安", "minutes": 30}, admin
    )
    call = started["data"]["startRollCall"]
    assert call["__typename"] == "RollCall", started
    asked = call["asked"]
    assert asked >= 20 and call["answered"] == 0
    await api.settle()
    # Each home hears the question.
    feed = await api.op("app/Notifications", {}, await api.sign_in(ELDER))
    assert feed["data"]["notifications"]["nodes"][0]["title"] == "报平安"
    mine = await api.op("app/MyRollCalls", {}, await api.sign_in(ELDER))
    assert [(r["reason"], r["answered"]) for r in mine["data"]["myRollCalls"]] == [("暴雨过后报平安", False)]

    safe = await api.op("app/AnswerRollCall", {"rollCallId": call["id"]}, await api.sign_in(ELDER))
    assert safe["data"]["answerRollCall"]["answered"] is True
    again = await api.op("app/AnswerRollCall", {"rollCallId": call["id"]}, await api.sign_in(ELDER))
    assert again["data"]["answerRollCall"]["answered"] is True  # twice changes nothing

    standing = (await api.op("staff/RollCall", {"id": call["id"]}, admin))["data"]["rollCall"]
    assert (standing["asked"], standing["answered"]) == (asked, 1)
    silent = standing["notAnswered"]
    assert "黎文华" not in [n for home in silent for n in home["names"]]
    alone = [h["alone"] for h in silent]
    assert alone == sorted(alone, reverse=True)  # living alone first
    ages = [h["oldestAge"] or 0 for h in silent if h["alone"]]
    assert ages == sorted(ages, reverse=True)  # then the oldest
    # The grid worker sees the homes of her own grid only.
    mine_only = (await api.op("staff/RollCall", {"id": call["id"]}, await api.sign_in(GRID_WORKER)))["data"]["rollCall"]
    assert 0 < len(mine_only["notAnswered"]) < len(silent)
    assert all("1号楼" in h["address"] or "2号楼" in h["address"] for h in mine_only["notAnswered"])

    # Time is up: the neighbour's home did not answer; her grid worker hears of it.
    await run_due_jobs(api, db, ("safety.roll_call_due",))
    told = await api.op("app/Notifications", {}, await api.sign_in(GRID_WORKER))
    texts = [n["text"] for n in told["data"]["notifications"]["nodes"]]
    assert any("刘树林" in t and "还没有回应" in t for t in texts), texts
    # The son of the elder who answered is not bothered.
    son = await api.op("app/Notifications", {}, await api.sign_in(FAMILY))
    assert not any("还没有回应" in n["text"] for n in son["data"]["notifications"]["nodes"])
    late = await api.op("app/AnswerRollCall", {"rollCallId": call["id"]}, await api.sign_in(NEIGHBOUR))
    assert late["data"]["answerRollCall"]["__typename"] == "NotFoundError"


async def test_a_severe_warning_starts_a_roll_call_by_the_communitys_policy(api: Api, db: Database) -> None:
    where = await places(db)
    admin = await api.sign_in(ADMIN)
    policy = await api.op(
        "staff/SetWarningPolicy",
        {"communityId": str(where["xingfu"]), "showFrom": "MODERATE", "rollCallFrom": "SEVERE", "rollCallMinutes": 45},
        admin,
    )
    assert policy["data"]["setWarningPolicy"]["rollCallFrom"] == "SEVERE", policy
    assert (await send(api, message(severity="Moderate", headline="大雾黄色预警")[1])).status_code == 200
    await api.settle()
    assert (await api.op("staff/OpenRollCalls", {"communityId": str(where["xingfu"])}, admin))["data"][
        "openRollCalls"
    ] == []
    assert (await send(api, message(severity="Severe")[1])).status_code == 200
    await api.settle()
    [call] = (await api.op("staff/OpenRollCalls", {"communityId": str(where["xingfu"])}, admin))["data"][
        "openRollCalls"
    ]
    assert call["reason"] == "渝中区暴雨橙色预警"
    mine = await api.op("app/MyRollCalls", {}, await api.sign_in(ELDER))
    assert [r["id"] for r in mine["data"]["myRollCalls"]] == [call["id"]]


async def test_a_roll_call_that_cannot_be_right_is_refused(api: Api, db: Database) -> None:
    where = await places(db)
    admin = await api.sign_in(ADMIN)
    refused = await api.op(
        "staff/StartRollCall", {"communityId": str(where["xingfu"]), "reason": "测试", "minutes": 1}, admin
    )
    assert refused["data"]["startRollCall"]["__typename"] == "InvalidInputError"
    async with db.factory() as session:
        heping_grid = await session.scalar(select(Grid.id).where(Grid.code == "heping-g1"))
    elsewhere = await api.op(
        "staff/StartRollCall",
        {"communityId": str(where["xingfu"]), "gridId": str(heping_grid), "reason": "测试", "minutes": 30},
        admin,
    )
    assert elsewhere["data"]["startRollCall"]["__typename"] == "InvalidInputError"
    assert (await api.op("staff/OpenRollCalls", {"communityId": str(where["xingfu"])}, admin))["data"][
        "openRollCalls"
    ] == []
    resident = await api.op(
        "staff/StartRollCall", {"communityId": str(where["xingfu"]), "reason": "测试"}, await api.sign_in(ELDER)
    )
    assert resident["errors"][0]["extensions"]["code"] == "FORBIDDEN"
