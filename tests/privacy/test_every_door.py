"""PIPL export and erasure over everything the domains declare: an elder who used every door
(the TV, the phone line, a desk, neighbours' help, the time bank, an event, check-ins, a
booking) exports all of it; after erasure no table holds her name, phone, address or words,
nobody still expects her (the volunteer, the desk, the centre, the provider, the next in line
for her place), and the ledger balances."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select

from backend.community.models import Household
from backend.db import Base, transaction, utcnow
from backend.phone import service as phone
from backend.wallet.models import Account, LedgerEntry
from tests.conftest import ADMIN, ELDER, ELDER_2, SERVICE_CENTRE, Api, Database, run_due_jobs
from tests.mutual_help.test_help import SAME_BUILDING, notifications, tomorrow_at, volunteer
from tests.services.test_booking import book, fill_wallet, slots
from tests.tv_channel.test_portal_api import paired_box

DOCTOR = "+8613300000001"
WORDS = ("最近头晕，要不要换药？", "帮我读读报纸上的养老新闻", "我想问问高龄补贴", "帮邻居读报", "门口有台阶")


async def everything_stored(db: Database, *, but: tuple[str, ...] = ()) -> str:
    out = []
    async with db.factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in but:
                out.extend(repr(tuple(row)) for row in (await session.execute(select(table))).all())
    return "\n".join(out)


async def a_life_at_every_door(api: Api, db: Database, people: dict[str, int]) -> dict[str, Any]:
    elder = await api.sign_in(ELDER)
    me = (await api.op("app/Me", {}, elder))["data"]["me"]
    # The TV: paired with her home; she asks for a call back and checks in with OK.
    box = {"Authorization": f"Bearer {await paired_box(api)}"}
    assert (await api.client.post("/tv/portal/api/callback", json={}, headers=box)).status_code == 200
    # The phone line: a call from her number, and what the line heard.
    async with transaction(db.factory) as session:
        call = await phone.register(session, call_ref="CA-door-1", bridge="stream", caller=ELDER, called="88880001")
        await phone.record(session, call.id, [("turn", {"heard": WORDS[2], "answer": "subsidy"})])
    # A desk: a question to the family doctor.
    asked = await api.op("app/AskDesk", {"desk": "DOCTOR", "question": WORDS[0]}, elder)
    thread = asked["data"]["askDesk"]
    # Neighbours: she asks for help and a volunteer says he will come; she volunteers herself
    # and says she will go to her neighbour's.
    await volunteer(api, SAME_BUILDING, ["READING"])
    help_asked = await api.op(
        "app/AskForHelp",
        {"input": {"kind": "READING", "startsAt": tomorrow_at("10:00"), "minutes": 60, "note": WORDS[1]}},
        elder,
    )
    request = help_asked["data"]["askForHelp"]
    await api.op("app/AcceptHelpRequest", {"id": request["id"]}, await api.sign_in(SAME_BUILDING))
    await volunteer(api, ELDER, ["CHAT"])
    theirs = await api.op(
        "app/AskForHelp",
        {"input": {"kind": "CHAT", "startsAt": tomorrow_at("15:00"), "minutes": 60}},
        await api.sign_in(ELDER_2),
    )
    going = await api.op("app/AcceptHelpRequest", {"id": theirs["data"]["askForHelp"]["id"]}, elder)
    assert going["data"]["acceptHelpRequest"]["status"] == "MATCHED", going
    # The time bank: the centre records her hour of help.
    recorded = await api.op(
        "staff/RecordTime", {"personId": me["id"], "minutes": 60, "reason": WORDS[3]}, await api.sign_in(SERVICE_CENTRE)
    )
    assert recorded["data"]["recordTime"]["__typename"] != "InvalidInputError", recorded
    # An event with one place: she has it, her neighbour waits.
    starts = utcnow() + dt.timedelta(days=2)
    created = await api.op(
        "staff/CreateCommunityEvent",
        {
            "input": {
                "communityId": me["household"]["community"]["id"],
                "kind": "CLASS",
                "title": "剪纸课",
                "plainText": "老师教剪窗花。",
                "place": "社区活动室",
                "startsAt": starts.isoformat(),
                "endsAt": (starts + dt.timedelta(hours=2)).isoformat(),
                "capacity": 1,
            }
        },
        await api.sign_in(ADMIN),
    )
    event = created["data"]["createCommunityEvent"]
    await api.op("app/SignUpForEvent", {"eventId": event["id"]}, elder)
    await api.op("app/SignUpForEvent", {"eventId": event["id"]}, await api.sign_in(ELDER_2))
    # 平安报, and a bath at home booked for a day to come, paid from her wallet.
    await api.op("app/SetCheckInPlan", {"active": True, "byTime": "10:00"}, elder)
    await api.op("app/CheckIn", {}, elder)
    await fill_wallet(api, ELDER, 20000)
    open_slot = next(s["start"] for s in await slots(api, ELDER, "bath-at-home") if s["placesLeft"] > 0)
    booked = await book(api, ELDER, "bath-at-home", open_slot, note=WORDS[4])
    await api.settle()
    return {"token": elder, "me": me, "thread": thread, "request": request, "event": event, "booking": booked}


async def test_everything_declared_is_exported_and_erased_and_nobody_still_expects_her(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    life = await a_life_at_every_door(api, db, people)
    elder, me = life["token"], life["me"]

    exported = (await api.op("app/ExportMyData", {}, elder))["data"]["exportMyData"]
    data = json.loads((await api.client.get(exported["downloadUrl"])).content)
    assert [t["question"] for t in data["consultations"]] == [WORDS[0]]
    assert WORDS[0] in [m["text"] for m in data["consultation_messages"]]
    assert [r["note"] for r in data["help_requests"] if r["note"]] == [WORDS[1]]
    assert data["volunteer_profile"][0]["skills"] == ["chat"]
    assert [o["status"] for o in data["help_offers"]] == ["accepted"]
    assert [t["reason"] for t in data["time_bank"]] == [WORDS[3]]
    assert [s["status"] for s in data["event_signups"]] == ["confirmed"]
    assert [c["reason"] for c in data["callback_requests"]] == ["tv"]
    assert data["phone_calls"] and data["phone_call_turns"][0]["detail"]["heard"] == WORDS[2]
    assert data["bookings"][0]["note"] == WORDS[4] and data["check_ins"]
    assert [d["kind"] for d in data["home_devices"]] == ["tv"]
    for secret in ("check_in_code", "idempotency_key", "confirm_code", "voice_pin_hash"):
        assert secret not in json.dumps(data, ensure_ascii=False), secret
    summary = exported["summary"]
    assert "· 咨询的问题：1条" in summary and "· 请邻居帮忙：1条" in summary and "privacy.sections" not in summary

    # She deletes her account; the erasure job runs.
    api.runtime.settings.login_code_resend_after_s = 0  # no minute's wait since her sign-in code
    await api.op("app/RequestLoginCode", {"phone": ELDER})
    deleted = await api.op("app/DeleteMyAccount", {"code": await api.login_code(ELDER)}, elder)
    assert deleted["data"]["deleteMyAccount"]["__typename"] == "AccountDeleted", deleted
    await api.settle()

    # Nobody still expects her: the volunteer is told her request is off, her neighbour that
    # she cannot come, the next in line has her place, the centre and the desk have nothing
    # of hers open, the provider's visit is cancelled.
    asked_of = (await api.op("app/HelpAskedOfMe", {}, await api.sign_in(SAME_BUILDING)))["data"]["helpAskedOfMe"]
    assert life["request"]["id"] not in [r["id"] for r in asked_of]
    assert any("取消" in t for t in await notifications(api, SAME_BUILDING))
    assert any("来不了" in t for t in await notifications(api, ELDER_2))
    roster = await api.op("staff/EventRoster", {"eventId": life["event"]["id"]}, await api.sign_in(ADMIN))
    assert [a["status"] for a in roster["data"]["eventRoster"]["attendees"] if a["status"] != "WITHDRAWN"] == [
        "CONFIRMED"
    ]
    centre = await api.sign_in(SERVICE_CENTRE)
    assert (await api.op("staff/CallbackRequests", {}, centre))["data"]["callbackRequests"] == []
    queue = await api.op(
        "staff/DeskQueue", {"communityId": me["household"]["community"]["id"]}, await api.sign_in(DOCTOR)
    )
    assert life["thread"]["id"] not in [t["id"] for t in queue["data"]["deskQueue"]]
    async with db.factory() as session:
        from backend.services.models import Booking

        assert (await session.get(Booking, int(life["booking"]["id"]))).status.value == "cancelled"

    await run_due_jobs(api, db, kinds=("privacy.erase",))
    # No table holds her name, phone, address or words (her flat stays in the register).
    stored = await everything_stored(db, but=("households",))
    for held in (me["name"], ELDER, ELDER.removeprefix("+86"), me["household"]["address"], *WORDS):
        assert held not in stored, held
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Household)) > 0
        # The ledger still balances.
        assert await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) == 0
        for account in (await session.execute(select(Account))).scalars():
            entries = await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account.id)
            )
            assert entries == account.balance
    # After the retention period what was kept for it goes; the ledger still balances.
    await run_due_jobs(api, db, kinds=("privacy.forget",))
    async with db.factory() as session:
        assert await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) == 0
