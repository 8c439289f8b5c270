"""Once the elder revokes her relative's link, what he once asked for her is no longer his: he
neither acts on it nor reads it nor hears of it, in any room (help, the desks, orders)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.community.models import Person
from tests.conftest import ELDER, FAMILY, Api, Database, run_due_jobs
from tests.mutual_help.test_help import SAME_BUILDING, notifications, tomorrow_at, volunteer

DOCTOR = "+8613300000001"


async def elder_id(db: Database) -> str:
    async with db.factory() as session:
        return str(await session.scalar(select(Person.id).where(Person.phone == ELDER)))


async def revoke_son(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    links = (await api.op("app/FamilyLinks", {}, elder))["data"]["familyLinks"]["nodes"]
    [son] = [link for link in links if link["familyMember"]["phone"].endswith(FAMILY[-4:])]
    revoked = await api.op("app/RevokeFamilyLink", {"linkId": son["id"]}, elder)
    assert revoked["data"]["revokeFamilyLink"]["status"] == "REVOKED", revoked


def payload(result: dict[str, Any], field: str) -> dict[str, Any]:
    return result["data"][field] if result.get("data") else {"code": result["errors"][0]["extensions"]["code"]}


async def test_a_revoked_son_no_longer_cancels_or_confirms_the_help_he_asked_for_her(api: Api, db: Database) -> None:
    # Given: the son asked a neighbour to help his mother, and the neighbour said he would go.
    await volunteer(api, SAME_BUILDING, ["READING"])
    asked = await api.op(
        "app/AskForHelp",
        {"input": {"kind": "READING", "startsAt": tomorrow_at("10:00"), "minutes": 60}, "personId": await elder_id(db)},
        await api.sign_in(FAMILY),
    )
    request = asked["data"]["askForHelp"]
    going = await api.op("app/AcceptHelpRequest", {"id": request["id"]}, await api.sign_in(SAME_BUILDING))
    assert going["data"]["acceptHelpRequest"]["status"] == "MATCHED"
    await api.settle()

    # When: his mother revokes his link.
    await revoke_son(api)

    # Then: he can neither confirm nor cancel it, and is not shown her address or the code.
    son = await api.sign_in(FAMILY)
    confirmed = await api.op("app/ConfirmHelpDone", {"id": request["id"]}, son)
    cancelled = await api.op("app/CancelHelpRequest", {"id": request["id"]}, son)
    for result, field in ((confirmed, "confirmHelpDone"), (cancelled, "cancelHelpRequest")):
        shown = payload(result, field)
        assert shown.get("code") == "NOT_FOUND", result
        assert "1单元101" not in str(result) and request["confirmCode"] not in str(result)
    mine = await api.op("app/MyHelpRequests", {"personId": await elder_id(db)}, son)
    assert "errors" in mine or mine["data"]["myHelpRequests"] == []
    # She can still confirm it herself.
    done = await api.op("app/ConfirmHelpDone", {"id": request["id"]}, await api.sign_in(ELDER))
    assert done["data"]["confirmHelpDone"]["status"] == "DONE"


async def test_a_revoked_son_no_longer_reads_follows_up_or_hears_the_doctors_answer(api: Api, db: Database) -> None:
    # Given: the son asked the family doctor about his mother.
    asked = await api.op(
        "app/AskDesk",
        {"desk": "DOCTOR", "question": "妈妈最近晚上睡不着，能吃安眠药吗？", "personId": await elder_id(db)},
        await api.sign_in(FAMILY),
    )
    thread = asked["data"]["askDesk"]
    assert thread["status"] == "WAITING", asked

    # When: his mother revokes his link, then the doctor answers.
    await revoke_son(api)
    answered = await api.op(
        "app/ReplyToConsultation",
        {"threadId": thread["id"], "text": "先别自己吃，明天上午带她来卫生站看看。"},
        await api.sign_in(DOCTOR),
    )
    assert answered["data"]["replyToConsultation"]["status"] == "ANSWERED"
    await api.settle()

    # Then: he neither reads the thread, nor posts to it (the desk's clock stays stopped),
    # nor hears the answer; his mother does.
    son = await api.sign_in(FAMILY)
    read = await api.op("app/Consultation", {"id": thread["id"]}, son)
    assert read["errors"][0]["extensions"]["code"] == "NOT_FOUND" and "安眠药" not in str(read["data"])
    follow = await api.op("app/ReplyToConsultation", {"threadId": thread["id"], "text": "几点开门？"}, son)
    assert payload(follow, "replyToConsultation").get("code") == "NOT_FOUND", follow
    await run_due_jobs(api, db, ("consultation.remind", "consultation.overdue"))
    assert not any(t.startswith(("快到回复时限", "超时未回复")) for t in await notifications(api, DOCTOR))
    assert not any(t.startswith("家庭医生回复了") for t in await notifications(api, FAMILY))
    assert any(t.startswith("家庭医生回复了您的问题") for t in await notifications(api, ELDER))


async def test_a_revoked_son_no_longer_cancels_or_hears_of_the_visit_he_booked_for_her(api: Api, db: Database) -> None:
    from tests.services.test_booking import book, fill_wallet, slots

    # Given: the son booked a bath at home for his mother, paid from his own wallet.
    mother = await elder_id(db)
    await fill_wallet(api, FAMILY, 20000)
    start = next(s["start"] for s in await slots(api, FAMILY, "bath-at-home", mother) if s["placesLeft"] > 0)
    booked = await book(api, FAMILY, "bath-at-home", start, personId=mother, payFrom="ME")
    assert booked["__typename"] == "ServiceBooking", booked

    # When: she revokes his link.
    await revoke_son(api)
    await api.settle()
    before = len(await notifications(api, FAMILY))

    # Then: he cannot cancel it (nor see her address in the answer); she still can.
    son = await api.sign_in(FAMILY)
    refused = await api.op("app/CancelBooking", {"bookingId": booked["id"]}, son)
    assert payload(refused, "cancelBooking").get("code") == "NOT_FOUND", refused
    assert "1单元101" not in str(refused)
    cancelled = await api.op("app/CancelBooking", {"bookingId": booked["id"]}, await api.sign_in(ELDER))
    assert cancelled["data"]["cancelBooking"]["status"] == "CANCELLED", cancelled
    await api.settle()
    told = (await notifications(api, FAMILY))[: -before or None]
    assert not [t for t in told if "助浴" in t or "预约" in t], told  # not told of her affairs any more
