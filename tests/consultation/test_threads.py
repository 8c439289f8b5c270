"""Threads with the community's desks through the clients' own documents: asked, given to a
person of the desk, reminded before the promise runs out, the lead told when it has,
answered (the asker told), followed up, rated; the family doctor's reads of the health
profile only with consent, each one logged."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from backend.consultation.hours import after_open_minutes
from backend.consultation.models import ConsultMessage, ConsultThread
from tests.conftest import (
    ADMIN,
    ELDER,
    ELDER_2,
    FAMILY,
    FAMILY_2,
    HEPING_ELDER,
    SERVICE_CENTRE,
    Api,
    Database,
    run_due_jobs,
)

CLERK = "+8613700000002"  # 钱志强, grid worker, answers at 幸福社区's office desk
DOCTOR = "+8613300000001"  # 何春梅, the family doctor of both demo communities
LAWYER = "+8613300000002"  # 唐志远, 幸福社区's legal adviser
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def notifications(api: Api, phone: str) -> list[str]:
    feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
    return [n["text"] for n in feed["data"]["notifications"]["nodes"]]


def ok(result: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in result, result
    found = result["data"][field]
    assert found.get("__typename", "ConsultThread") == "ConsultThread", found
    return found


async def ask(api: Api, phone: str, desk: str, question: str, **more: Any) -> dict[str, Any]:
    return await api.op("app/AskDesk", {"desk": desk, "question": question, **more}, await api.sign_in(phone))


def test_the_promise_counts_opening_hours_only() -> None:
    # The office (08:30-17:30, Monday to Saturday) promises 10 minutes: asked on a Friday
    # night, the reply is due on Saturday at 08:40.
    friday_night = dt.datetime(2026, 12, 4, 22, 0, tzinfo=SHANGHAI)
    office = {"opens": dt.time(8, 30), "closes": dt.time(17, 30), "weekdays": "012345", "zone": SHANGHAI}
    assert after_open_minutes(friday_night, 10, **office) == dt.datetime(2026, 12, 5, 8, 40, tzinfo=SHANGHAI)
    # Asked at 17:25, five minutes are left today and five tomorrow.
    late = dt.datetime(2026, 12, 3, 17, 25, tzinfo=SHANGHAI)
    assert after_open_minutes(late, 10, **office) == dt.datetime(2026, 12, 4, 8, 35, tzinfo=SHANGHAI)
    # The lawyer's one working day (09:00-17:00, weekdays) from Friday 16:00 runs to Monday 16:00.
    lawyer = {"opens": dt.time(9), "closes": dt.time(17), "weekdays": "01234", "zone": SHANGHAI}
    friday = dt.datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)
    assert after_open_minutes(friday, 480, **lawyer) == dt.datetime(2026, 12, 7, 16, 0, tzinfo=SHANGHAI)


async def test_a_question_is_assigned_reminded_escalated_answered_and_an_unsatisfied_rating_reaches_the_centre(
    api: Api, db: Database
) -> None:
    asked = ok(await ask(api, ELDER, "OFFICE", "我家楼道的灯坏了好几天了，找谁修？"), "askDesk")
    # The office desk has two people with nothing waiting: the first of them takes it.
    assert (asked["status"], asked["assigneeName"], asked["deskName"]) == ("WAITING", "钱志强", "社区办公室")
    assert asked["dueAt"] is not None and asked["messages"][0]["text"] == "我家楼道的灯坏了好几天了，找谁修？"
    await api.settle()
    assert any(t.startswith("新咨询（社区办公室）：黎文华问“我家楼道的灯坏了") for t in await notifications(api, CLERK))
    # Only the person it was given to is told, not the whole desk.
    assert not any(t.startswith("新咨询") for t in await notifications(api, SERVICE_CENTRE))

    await run_due_jobs(api, db, ("consultation.remind",))
    assert any(t.startswith("快到回复时限了：黎文华的咨询") for t in await notifications(api, CLERK))
    assert not any(t.startswith("超时未回复") for t in await notifications(api, SERVICE_CENTRE))

    await run_due_jobs(api, db, ("consultation.overdue",))
    told = [t for t in await notifications(api, SERVICE_CENTRE) if t.startswith("超时未回复")]
    assert len(told) == 1 and "负责人：钱志强" in told[0], told  # 周敏 leads the office desk
    queue = await api.op("staff/DeskQueue", {"communityId": "1"}, await api.sign_in(CLERK))
    [waiting] = [t for t in queue["data"]["deskQueue"] if t["id"] == asked["id"]]
    assert waiting["overdue"] is True

    answer = "已经报给物业了，今天下午电工上门换灯。"
    replied = ok(
        await api.op("app/ReplyToConsultation", {"threadId": asked["id"], "text": answer}, await api.sign_in(CLERK)),
        "replyToConsultation",
    )
    assert (replied["status"], replied["dueAt"], replied["canRate"]) == ("ANSWERED", None, False)
    await api.settle()
    heard = [t for t in await notifications(api, ELDER) if t.startswith("社区办公室回复了您的问题")]
    assert heard == [f"社区办公室回复了您的问题“我家楼道的灯坏了好几天了，找谁修？”：{answer}"]
    mine = await api.op("app/MyConsultations", {}, await api.sign_in(ELDER))
    [thread] = mine["data"]["myConsultations"]
    assert thread["canRate"] and [m["fromDesk"] for m in thread["messages"]] == [False, True]
    assert thread["messages"][1]["readAloudUrl"] and thread["ringBack"] is None

    rated = ok(
        await api.op(
            "app/RateConsultation",
            {"threadId": asked["id"], "rating": "UNSATISFIED", "comment": "说了下午来，到晚上也没人来"},
            await api.sign_in(ELDER),
        ),
        "rateConsultation",
    )
    assert (rated["status"], rated["rating"]) == ("CLOSED", "UNSATISFIED")
    await api.settle()
    for supervisor in (SERVICE_CENTRE, ADMIN):
        assert any(
            t.startswith("不满意评价：黎文华对社区办公室的回复不满意") and "到晚上也没人来" in t
            for t in await notifications(api, supervisor)
        )
    listed = await api.op("staff/UnsatisfiedConsultations", {"communityId": "1"}, await api.sign_in(SERVICE_CENTRE))
    assert [t["id"] for t in listed["data"]["unsatisfiedConsultations"]] == [asked["id"]]
    again = await api.op(
        "app/RateConsultation", {"threadId": asked["id"], "rating": "SATISFIED"}, await api.sign_in(ELDER)
    )
    assert again["data"]["rateConsultation"]["message"] == "这个咨询已经评价过了，谢谢您。"
    closed = await api.op(
        "app/ReplyToConsultation", {"threadId": asked["id"], "text": "还有"}, await api.sign_in(ELDER)
    )
    assert closed["data"]["replyToConsultation"]["code"] == "THREAD_CLOSED"


async def test_an_answer_in_time_stops_the_clock_and_a_follow_up_starts_it_again(api: Api, db: Database) -> None:
    # The daughter in another city asks the family doctor for her mother (she orders for her).
    asked = ok(
        await ask(api, FAMILY, "DOCTOR", "妈妈最近晚上睡不着，能吃安眠药吗？", personId=await elder_id(db)),
        "askDesk",
    )
    assert (asked["elderName"], asked["askedByName"], asked["assigneeName"]) == ("黎文华", "秦磊燕", "何春梅")
    replied = ok(
        await api.op(
            "app/ReplyToConsultation",
            {"threadId": asked["id"], "text": "先别自己吃，明天上午带她来卫生站看看。"},
            await api.sign_in(DOCTOR),
        ),
        "replyToConsultation",
    )
    assert replied["status"] == "ANSWERED"
    await run_due_jobs(api, db, ("consultation.remind", "consultation.overdue"))
    assert not any(t.startswith(("快到回复时限", "超时未回复")) for t in await notifications(api, DOCTOR))
    # Both the mother and the daughter hear the answer.
    for phone in (ELDER, FAMILY):
        assert any(t.startswith("家庭医生回复了您的问题") for t in await notifications(api, phone))

    follow = ok(
        await api.op(
            "app/ReplyToConsultation", {"threadId": asked["id"], "text": "上午几点开门？"}, await api.sign_in(FAMILY)
        ),
        "replyToConsultation",
    )
    assert follow["status"] == "WAITING" and follow["dueAt"] is not None
    await api.settle()
    assert any(t.startswith("黎文华追问了（家庭医生）") for t in await notifications(api, DOCTOR))
    await run_due_jobs(api, db, ("consultation.overdue",))
    assert any(t.startswith("超时未回复：黎文华") for t in await notifications(api, DOCTOR))  # she leads her desk

    # The mother sees the thread her daughter opened; another family does not.
    theirs = await api.op("app/MyConsultations", {}, await api.sign_in(ELDER))
    assert [t["id"] for t in theirs["data"]["myConsultations"]] == [asked["id"]]
    stranger = await api.op("app/Consultation", {"id": asked["id"]}, await api.sign_in(FAMILY_2))
    assert stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    elsewhere = await api.op("app/Consultation", {"id": asked["id"]}, await api.sign_in(ELDER_2))
    assert elsewhere["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def elder_id(db: Database) -> str:
    from backend.community.models import Person

    async with db.factory() as session:
        return str(await session.scalar(select(Person.id).where(Person.phone == ELDER)))


async def test_the_doctor_reads_the_health_profile_only_with_consent_and_every_read_is_logged(
    api: Api, db: Database
) -> None:
    asked = ok(await ask(api, ELDER, "DOCTOR", "我的降压药可以和感冒药一起吃吗？"), "askDesk")
    doctor = await api.sign_in(DOCTOR)
    refused = await api.op("staff/ConsultationHealthProfile", {"threadId": asked["id"]}, doctor)
    assert refused["data"]["consultationHealthProfile"]["code"] == "NO_HEALTH_CONSENT"
    # The office clerk does not see the doctor's thread; the service centre sees it (it
    # follows threads up) but is no doctor: neither reads, and neither is logged.
    clerk = await api.op("staff/ConsultationHealthProfile", {"threadId": asked["id"]}, await api.sign_in(CLERK))
    assert clerk["data"]["consultationHealthProfile"]["code"] == "NOT_FOUND"
    centre = await api.op(
        "staff/ConsultationHealthProfile", {"threadId": asked["id"]}, await api.sign_in(SERVICE_CENTRE)
    )
    assert centre["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    elder = await api.sign_in(ELDER)
    assert (await api.op("app/GiveHealthConsent", {}, elder))["data"]["giveHealthConsent"]["consented"]
    await api.op("app/UpdateEmergencyProfile", {"conditions": "高血压", "medicines": "氨氯地平"}, elder)
    read = await api.op("staff/ConsultationHealthProfile", {"threadId": asked["id"]}, doctor)
    assert read["data"]["consultationHealthProfile"]["medicines"] == "氨氯地平"

    log = await api.op("app/HealthAccessLog", {}, elder)
    by_doctor = [e for e in log["data"]["healthAccessLog"] if e["readerName"] == "何春梅"]
    assert [e["purpose"] for e in by_doctor] == [f"consult:{asked['id']}"] * 2  # the refused ask too


async def test_bad_questions_change_nothing_and_a_missing_desk_says_so(api: Api, db: Database) -> None:
    async with db.factory() as session:
        before = await session.scalar(select(func.count()).select_from(ConsultThread))
    empty = await ask(api, ELDER, "OFFICE", "   ")
    assert empty["data"]["askDesk"]["code"] == "INVALID_INPUT"
    long = await ask(api, ELDER, "OFFICE", "问" * 1001)
    assert long["data"]["askDesk"]["code"] == "INVALID_INPUT"
    # 和平社区 has no legal adviser yet.
    none = await ask(api, HEPING_ELDER, "LAWYER", "房子过户要准备什么？")
    assert none["data"]["askDesk"]["message"] == "社区还没有开设这个咨询窗口，请选别的窗口，或打社区服务电话。"
    # Nobody may ask in the name of an elder who did not let them.
    other = await ask(api, FAMILY_2, "OFFICE", "帮我问问", personId=await elder_id(db))
    assert other["data"]["askDesk"]["code"] == "NOT_FOUND"
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(ConsultThread)) == before
        assert await session.scalar(select(func.count()).select_from(ConsultMessage)) == 0


async def test_the_centre_sets_a_desk_up_and_a_resident_sees_its_hours(api: Api, db: Database) -> None:
    centre = await api.sign_in(SERVICE_CENTRE)
    lawyer_id = (await api.op("app/Me", {}, await api.sign_in(LAWYER)))["data"]["me"]["id"]
    changed = await api.op(
        "staff/SetConsultDesk",
        {
            "input": {
                "communityId": "2",
                "kind": "LAWYER",
                "opens": "14:00",
                "closes": "17:00",
                "weekdays": [2],
                "promiseMinutes": 180,
                "people": [lawyer_id],
                "lead": lawyer_id,
            }
        },
        centre,
    )
    desk = changed["data"]["setConsultDesk"]
    assert (desk["name"], desk["weekdays"], desk["people"][0]["name"]) == ("法律顾问", [2], "唐志远")
    seen = await api.op("app/ConsultDesks", {}, await api.sign_in(HEPING_ELDER))
    shown = {d["kind"]: d for d in seen["data"]["consultDesks"]}
    assert shown["LAWYER"]["opens"] == "14:00" and shown["LAWYER"]["people"] == []  # names only to staff
    asked = ok(await ask(api, HEPING_ELDER, "LAWYER", "房子过户要准备什么？"), "askDesk")
    assert asked["assigneeName"] == "唐志远"

    wrong = await api.op(
        "staff/SetConsultDesk",
        {
            "input": {
                "communityId": "2",
                "kind": "LAWYER",
                "opens": "17:00",
                "closes": "14:00",
                "weekdays": [2],
                "promiseMinutes": 180,
                "people": [lawyer_id],
            }
        },
        centre,
    )
    assert wrong["data"]["setConsultDesk"]["code"] == "INVALID_INPUT"
    resident = await api.op(
        "staff/SetConsultDesk",
        {
            "input": {
                "communityId": "2",
                "kind": "LAWYER",
                "opens": "09:00",
                "closes": "12:00",
                "weekdays": [1],
                "promiseMinutes": 60,
                "people": [],
            }
        },
        await api.sign_in(HEPING_ELDER),
    )
    assert resident["errors"][0]["extensions"]["code"] == "FORBIDDEN"
