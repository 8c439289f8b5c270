"""The community's noticeboard through the clients' own documents: staff publish, residents
read what is meant for them, and sign up for events with a waiting list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from backend.bulletin.models import Announcement, Contact
from backend.community.models import Building, Community
from backend.db import utcnow
from tests.conftest import ADMIN, ELDER, FAMILY, GRID_WORKER, HEPING_WORKER, SERVICE_CENTRE, Api, Database, run_due_jobs

OLDER_NEIGHBOUR = "+8613800000002"  # 86, 幸福社区 1号楼
YOUNGER_ELDER = "+8613800000006"  # 69, 幸福社区 2号楼


async def ids(db: Database) -> dict[str, str]:
    async with db.factory() as session:
        xingfu = await session.scalar(select(Community.id).where(Community.code == "xingfu"))
        b1 = await session.scalar(select(Building.id).where(Building.code == "xingfu-b1"))
    return {"xingfu": str(xingfu), "b1": str(b1)}


def notice(community: str, **more: Any) -> dict[str, Any]:
    return {
        "communityId": community,
        "kind": "ANNOUNCEMENT",
        "title": "电梯检修",
        "body": "1号楼电梯本周四上午检修，请走楼梯或等候。",
        "plainText": "周四上午1号楼电梯检修。",
        **more,
    }


async def titles(api: Api, phone: str) -> list[str]:
    seen = await api.op("app/Announcements", {}, await api.sign_in(phone))
    assert "errors" not in seen, seen
    return [a["title"] for a in seen["data"]["announcements"]]


async def test_each_resident_sees_what_is_meant_for_them_and_a_withdrawn_notice_is_gone(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    place = await ids(db)
    staff = await api.sign_in(GRID_WORKER)
    lift = await api.op(
        "staff/PublishAnnouncement",
        {"input": notice(place["xingfu"], audience="BUILDING", buildingId=place["b1"])},
        staff,
    )
    assert lift["data"]["publishAnnouncement"]["__typename"] == "Announcement", lift
    allowance = await api.op(
        "staff/PublishAnnouncement",
        {
            "input": notice(
                place["xingfu"],
                kind="POLICY",
                title="高龄体检",
                plainText="80岁以上老人免费体检。",
                audience="ELDERS",
                minAge=80,
            )
        },
        staff,
    )
    assert allowance["data"]["publishAnnouncement"]["minAge"] == 80

    # The 82-year-old in building 1 sees both, policies first; the 69-year-old in building 2
    # sees neither, only what the whole community was told (the demo's own notices).
    mine = await titles(api, ELDER)
    assert mine.index("高龄体检") < mine.index("电梯检修")
    theirs = await titles(api, YOUNGER_ELDER)
    assert "高龄体检" not in theirs and "电梯检修" not in theirs
    assert "周六停水通知" in theirs and "周六停水通知" in mine
    # The son reads what his mother sees.
    son = await api.op("app/Announcements", {"personId": str(people[ELDER])}, await api.sign_in(FAMILY))
    assert "高龄体检" in [a["title"] for a in son["data"]["announcements"]]

    lift_id = lift["data"]["publishAnnouncement"]["id"]
    gone = await api.op("staff/WithdrawAnnouncement", {"id": lift_id}, staff)
    assert gone["data"]["withdrawAnnouncement"]["__typename"] == "Announcement"
    assert "电梯检修" not in await titles(api, ELDER)


async def test_a_notice_that_cannot_be_right_is_refused_in_words_and_nothing_is_published(
    api: Api, db: Database
) -> None:
    place = await ids(db)
    staff = await api.sign_in(GRID_WORKER)
    async with db.factory() as session:
        before = await session.scalar(select(func.count()).select_from(Announcement))
    for wrong in (
        notice(place["xingfu"], audience="ELDERS"),  # elders of what age?
        notice(place["xingfu"], plainText=" "),
        notice(place["xingfu"], until=(utcnow() - dt.timedelta(hours=1)).isoformat()),
    ):
        refused = await api.op("staff/PublishAnnouncement", {"input": wrong}, staff)
        assert refused["data"]["publishAnnouncement"]["__typename"] == "InvalidInputError", refused
        assert refused["data"]["publishAnnouncement"]["message"].startswith("填写的内容有误")
    # Another community's worker, and a resident, may not publish here.
    other = await api.op(
        "staff/PublishAnnouncement", {"input": notice(place["xingfu"])}, await api.sign_in(HEPING_WORKER)
    )
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    resident = await api.op("staff/PublishAnnouncement", {"input": notice(place["xingfu"])}, await api.sign_in(ELDER))
    assert resident["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == before


async def notifications(api: Api, phone: str) -> list[str]:
    feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
    return [n["text"] for n in feed["data"]["notifications"]["nodes"]]


async def test_the_last_place_goes_to_the_first_waiting_who_is_told_and_everyone_is_reminded(
    api: Api, db: Database
) -> None:
    place = await ids(db)
    staff = await api.sign_in(ADMIN)
    starts = utcnow() + dt.timedelta(days=1)
    created = await api.op(
        "staff/CreateCommunityEvent",
        {
            "input": {
                "communityId": place["xingfu"],
                "kind": "CLASS",
                "title": "剪纸课",
                "plainText": "老师教剪窗花。",
                "place": "社区活动室",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + dt.timedelta(hours=2)).isoformat(),
                "capacity": 1,
            }
        },
        staff,
    )
    event = created["data"]["createCommunityEvent"]
    assert event["placesLeft"] == 1, created

    first = await api.op("app/SignUpForEvent", {"eventId": event["id"]}, await api.sign_in(ELDER))
    assert first["data"]["signUpForEvent"]["mySignup"] == "CONFIRMED"
    assert first["data"]["signUpForEvent"]["placesLeft"] == 0
    second = await api.op("app/SignUpForEvent", {"eventId": event["id"]}, await api.sign_in(OLDER_NEIGHBOUR))
    assert second["data"]["signUpForEvent"]["mySignup"] == "WAITING"
    assert second["data"]["signUpForEvent"]["waiting"] == 1
    # Pressing again changes nothing.
    again = await api.op("app/SignUpForEvent", {"eventId": event["id"]}, await api.sign_in(OLDER_NEIGHBOUR))
    assert again["data"]["signUpForEvent"]["waiting"] == 1

    roster = await api.op("staff/EventRoster", {"eventId": event["id"]}, staff)
    assert [(a["name"], a["status"]) for a in roster["data"]["eventRoster"]["attendees"]] == [
        ("黎文华", "CONFIRMED"),
        ("刘树林", "WAITING"),
    ]

    left = await api.op("app/WithdrawFromEvent", {"eventId": event["id"]}, await api.sign_in(ELDER))
    assert left["data"]["withdrawFromEvent"]["mySignup"] == "WITHDRAWN"
    await api.settle()
    told = await notifications(api, OLDER_NEIGHBOUR)
    assert any(t.startswith("有空位了：您已报上剪纸课") and "社区活动室" in t for t in told), told
    mine = await api.op("app/CommunityEvents", {}, await api.sign_in(OLDER_NEIGHBOUR))
    shown = next(e for e in mine["data"]["communityEvents"] if e["id"] == event["id"])
    assert shown["mySignup"] == "CONFIRMED" and shown["waiting"] == 0

    await run_due_jobs(api, db, ("bulletin.remind",))
    assert any(t.startswith("提醒：剪纸课") for t in await notifications(api, OLDER_NEIGHBOUR))
    assert not any(t.startswith("提醒：剪纸课") for t in await notifications(api, ELDER))

    # Withdrawing twice is refused in words.
    twice = await api.op("app/WithdrawFromEvent", {"eventId": event["id"]}, await api.sign_in(ELDER))
    assert twice["data"]["withdrawFromEvent"]["message"] == "您还没有报名这个活动。"


async def test_a_son_signs_his_mother_up_she_is_told_and_a_cancelled_event_tells_everyone(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    place = await ids(db)
    staff = await api.sign_in(GRID_WORKER)
    starts = utcnow() + dt.timedelta(days=3)
    created = await api.op(
        "staff/CreateCommunityEvent",
        {
            "input": {
                "communityId": place["xingfu"],
                "kind": "EVENT",
                "title": "包饺子",
                "plainText": "一起包饺子，吃饺子。",
                "place": "社区食堂",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + dt.timedelta(hours=2)).isoformat(),
                "capacity": 10,
            }
        },
        staff,
    )
    event_id = created["data"]["createCommunityEvent"]["id"]
    mother = str(people[ELDER])
    signed = await api.op("app/SignUpForEvent", {"eventId": event_id, "personId": mother}, await api.sign_in(FAMILY))
    assert signed["data"]["signUpForEvent"]["mySignup"] == "CONFIRMED", signed
    await api.settle()
    assert any(t.startswith("秦磊燕为您报名了包饺子") for t in await notifications(api, ELDER))

    cancelled = await api.op("staff/CancelCommunityEvent", {"id": event_id}, staff)
    assert cancelled["data"]["cancelCommunityEvent"]["cancelled"] is True
    await api.settle()
    assert any(t.startswith("包饺子") and "取消了" in t for t in await notifications(api, ELDER))
    late = await api.op("app/SignUpForEvent", {"eventId": event_id}, await api.sign_in(OLDER_NEIGHBOUR))
    assert late["data"]["signUpForEvent"]["__typename"] == "EventClosedError"
    assert late["data"]["signUpForEvent"]["message"] == "这个活动已经开始或取消了，不能再报名或退出。"


async def test_contacts_are_replaced_whole_and_a_bad_number_changes_nothing(api: Api, db: Database) -> None:
    place = await ids(db)
    staff = await api.sign_in(SERVICE_CENTRE)
    before = await api.op("app/CommunityContacts", {}, await api.sign_in(ELDER))
    assert before["data"]["communityContacts"][0]["name"] == "幸福社区服务中心"
    wrong = await api.op(
        "staff/SetCommunityContacts",
        {"communityId": place["xingfu"], "contacts": [{"kind": "POLICE", "name": "派出所", "phone": "call us"}]},
        staff,
    )
    assert wrong["data"]["setCommunityContacts"]["__typename"] == "InvalidInputError"
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 6  # the demo's
    given = [
        {"kind": "IN_CHARGE", "name": "社区主任 李红", "phone": "029-88880003", "hours": "工作日"},
        {"kind": "POLICE", "name": "幸福路派出所", "phone": "110"},
    ]
    done = await api.op("staff/SetCommunityContacts", {"communityId": place["xingfu"], "contacts": given}, staff)
    assert [c["name"] for c in done["data"]["setCommunityContacts"]["contacts"]] == ["社区主任 李红", "幸福路派出所"]
    after = await api.op("app/CommunityContacts", {}, await api.sign_in(ELDER))
    assert [(c["kind"], c["phone"]) for c in after["data"]["communityContacts"]] == [
        ("IN_CHARGE", "029-88880003"),
        ("POLICE", "110"),
    ]
