"""PIPL rights end to end: an elder sees everything held about her, knows who read her address
and phone, and can have her account deleted (the ledger still balances, a kept alarm shows no
name)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import func, select, text

from backend.community.models import Person
from backend.db import Base
from backend.wallet.models import Account, LedgerEntry
from backend.wellbeing.models import HomeAway, HomeHour, HomeSensor
from tests.conftest import ELDER, ELDER_2, FAMILY, GRID_WORKER, Api, Database, run_due_jobs
from tests.wellbeing.test_quiet_home import SECRETS, bind, send, usual_week

PROFILE = {"conditions": "高血压", "allergies": "青霉素", "medicines": "氨氯地平", "notes": "独居，钥匙在302"}


async def a_life_in_linli(api: Api) -> dict[str, Any]:
    """The elder's data: a reminder, a top-up from her son, a health profile, an alarm a grid
    worker opened (reading her address, phone and her family's phones)."""
    elder = await api.sign_in(ELDER)
    me = (await api.op("app/Me", {}, elder))["data"]["me"]
    await api.op("app/ScheduleReminder", {"text": "晚饭后吃降压药", "at": "2031-05-01T19:00:00+08:00"}, elder)
    topped = await api.op(
        "app/TopUpWallet",
        {"amountFen": 5000, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex, "personId": me["id"]},
        await api.sign_in(FAMILY),
    )
    assert topped["data"]["topUpWallet"]["__typename"] == "WalletToppedUp", topped
    await api.op("app/GiveHealthConsent", {}, elder)
    await api.op("app/UpdateEmergencyProfile", PROFILE, elder)
    raised = await api.op("app/TriggerEmergency", {"idempotencyKey": "rights-1"}, elder)
    alert_id = raised["data"]["triggerEmergency"]["emergency"]["id"]
    worker = await api.sign_in(GRID_WORKER)
    seen = await api.gql(
        """query($id: ID!) { emergency(id: $id) { id elder { name phone address } familyPhones healthProfile {
        conditions } } }""",
        {"id": alert_id},
        worker,
    )
    assert seen["data"]["emergency"]["elder"]["phone"] == ELDER
    await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
    # 平安报 and a grid worker's visit, whose note describes her.
    await api.op("app/SetCheckInPlan", {"active": True, "byTime": "10:00"}, elder)
    await api.op("app/CheckIn", {}, elder)
    visited = await api.op(
        "staff/RecordVisit", {"personId": me["id"], "kind": "visit", "how": "well", "note": "腿脚不便，住三楼"}, worker
    )
    assert visited["data"]["recordVisit"]["__typename"] == "VisitRecorded", visited
    # Her home's meter: a day of hourly use, and the home marked away for a hospital stay.
    api.runtime.settings.home_signal_secrets = SECRETS
    async with api.runtime.factory() as session:
        home = str(await session.scalar(select(Person.household_id).where(Person.phone == ELDER)))
    await bind(api, home, "M-0001")
    assert (await send(api, {"readings": usual_week("M-0001", 0)[:24]})).json()["accepted"] == 24
    until = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    away = await api.op("app/MarkHomeAway", {"householdId": home, "until": until, "reason": "住院复查"}, elder)
    assert away["data"]["markHomeAway"]["reason"] == "住院复查", away
    await api.settle()
    return {"token": elder, "me": me, "alert_id": alert_id, "worker": worker}


async def test_an_elder_exports_everything_held_about_her(api: Api) -> None:
    life = await a_life_in_linli(api)
    elder, me = life["token"], life["me"]

    exported = (await api.op("app/ExportMyData", {}, elder))["data"]["exportMyData"]
    assert exported["__typename"] == "DataExport" and exported["requestedInPerson"] is False
    assert exported["summary"].startswith(f"{me['name']}的个人数据")
    assert "· 紧急呼叫：1条" in exported["summary"] and "· 提醒：1条" in exported["summary"]
    assert "· 网格员巡访记录：1条" in exported["summary"] and "privacy.sections" not in exported["summary"]
    assert "· 家中每小时是否有用电、用水、开门：24条" in exported["summary"]
    assert "· 外出不在家的登记：1条" in exported["summary"]

    response = await api.client.get(exported["downloadUrl"])
    assert response.status_code == 200 and response.headers["cache-control"] == "private, no-store"
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.content)
    assert data["person"]["phone"] == ELDER and data["person"]["name"] == me["name"]
    assert "voice_pin_hash" not in data["person"] and "community_card" not in data["person"]
    assert data["household"]["address"] == me["household"]["address"]
    assert [str(a["id"]) for a in data["alarms"]] == [life["alert_id"]]
    assert {e["kind"] for e in data["alarm_timelines"]} >= {"raised", "acknowledged"}
    assert data["health_profile"][0]["allergies"] == "青霉素"
    assert [c["method"] for c in data["health_consents"]] == ["app"]
    reads = {(r["what"], r["purpose"]) for r in data["data_access_log"]}
    assert {("address", f"alert:{life['alert_id']}"), ("phone", f"alert:{life['alert_id']}")} <= reads
    assert ("family_phones", f"alert:{life['alert_id']}") in reads
    assert any(h["purpose"] == f"alert:{life['alert_id']}" for h in data["health_access_log"])
    assert [r["text"] for r in data["reminders"]] == ["晚饭后吃降压药"]
    assert sum(m["amount"] for m in data["wallet_movements"]) == 5000
    assert any(link["relation"] for link in data["family_links"])
    assert data["notifications"] and all("body" in n for n in data["notifications"])
    assert [c["via"] for c in data["check_ins"]] == ["app"] and data["check_in_plan"][0]["active"] is True
    assert [v["note"] for v in data["visits"]] == ["腿脚不便，住三楼"]

    # Once a day; a wrong link shows nothing.
    again = (await api.op("app/ExportMyData", {}, elder))["data"]["exportMyData"]
    assert again["code"] == "RATE_LIMITED" and again["retryAfterSeconds"] > 80_000
    assert (await api.client.get(exported["downloadUrl"].replace(".json", "x.json"))).status_code == 404


async def test_staff_start_an_export_for_an_elder_who_asks_in_person(api: Api, people: dict[str, int]) -> None:
    worker = await api.sign_in(GRID_WORKER)
    done = (await api.op("app/ExportMyData", {"personId": str(people[ELDER_2])}, worker))["data"]["exportMyData"]
    assert done["__typename"] == "DataExport" and done["requestedInPerson"] is True
    data = json.loads((await api.client.get(done["downloadUrl"])).content)
    assert data["person"]["phone"] == ELDER_2
    assert data["exports"] == []  # this one is not listed in itself: it was being made
    # Someone who is not staff of her community cannot.
    nope = await api.op("app/ExportMyData", {"personId": str(people[ELDER_2])}, await api.sign_in(FAMILY))
    assert nope["data"]["exportMyData"]["code"] == "NOT_FOUND"


async def test_the_elder_sees_who_read_her_address_and_phone(api: Api) -> None:
    life = await a_life_in_linli(api)
    answer = await api.op("app/DataAccessLog", {}, life["token"])
    assert "errors" not in answer, answer
    log = answer["data"]["dataAccessLog"]
    worker_name = (await api.op("app/Me", {}, life["worker"]))["data"]["me"]["name"]
    assert {(e["readerName"], e["what"]) for e in log} >= {
        (worker_name, "address"),
        (worker_name, "phone"),
        (worker_name, "family_phones"),
    }
    # A staff list of residents is a read too.
    me = life["me"]
    await api.op("staff/Residents", {"communityId": me["household"]["community"]["id"]}, life["worker"])
    log = (await api.op("app/DataAccessLog", {}, life["token"]))["data"]["dataAccessLog"]
    assert any(e["purpose"] == "residents" and e["what"] == "phone" for e in log)
    # Her son reads it only with manage_settings (he has order_for, receive_alerts, view_wellbeing).
    son = await api.op("app/DataAccessLog", {"personId": me["id"]}, await api.sign_in(FAMILY))
    assert son["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def everything_stored(db: Database) -> str:
    """Every row of every table, as text."""
    out = []
    async with db.factory() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table))
            out.extend(repr(tuple(row)) for row in rows.all())
    return "\n".join(out)


async def test_an_elder_deletes_her_account(api: Api, db: Database) -> None:
    life = await a_life_in_linli(api)
    elder, me = life["token"], life["me"]
    name = me["name"]
    assert name in await everything_stored(db)

    # A wrong code changes nothing. (No minute's wait between codes in this test.)
    api.runtime.settings.login_code_resend_after_s = 0
    sent = await api.op("app/RequestLoginCode", {"phone": ELDER})
    assert sent["data"]["requestLoginCode"]["__typename"] == "LoginCodeSent"
    wrong = (await api.op("app/DeleteMyAccount", {"code": "000000"}, elder))["data"]["deleteMyAccount"]
    assert wrong["code"] == "INVALID_CODE" and wrong["remainingAttempts"] == 4
    assert (await api.op("app/Me", {}, elder))["data"]["me"]["id"] == me["id"]

    await api.op("app/RequestLoginCode", {"phone": ELDER})
    code = await api.login_code(ELDER)
    deleted = (await api.op("app/DeleteMyAccount", {"code": code}, elder))["data"]["deleteMyAccount"]
    assert deleted["__typename"] == "AccountDeleted" and "已停用" in deleted["message"]

    # Suspended at once: the token is refused, and the number is no longer an account.
    refused = await api.op("app/Me", {}, elder)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await api.settle()
    await api.op("app/RequestLoginCode", {"phone": ELDER})
    assert "尚未在邻里登记" in await api.last_sms(ELDER)  # told as an unknown number is
    # Her son is told the link ended, not why.
    told = await api.last_sms(FAMILY)
    assert "关联已解除" in told and "注销" not in told

    # The erasure job runs.
    await run_due_jobs(api, db, kinds=("privacy.erase",))
    stored = await everything_stored(db)
    assert name not in stored and ELDER not in stored
    assert "青霉素" not in stored and "晚饭后吃降压药" not in stored and "腿脚不便" not in stored
    # She lived alone: her home's meter, hours of use and hospital stay go with her.
    assert "住院复查" not in stored and "M-0001" not in stored
    async with db.factory() as session:
        for table in (HomeSensor, HomeHour, HomeAway):
            assert await session.scalar(select(func.count()).select_from(table)) == 0, table
    # The alarm record is kept, without her name or address.
    kept = await api.gql(
        "query($id: ID!) { emergency(id: $id) { status elder { name address } } }",
        {"id": life["alert_id"]},
        life["worker"],
    )
    assert kept["data"]["emergency"]["elder"] == {"name": "已注销用户", "address": None}
    # The ledger still balances: every movement sums to zero, every balance is its entries.
    async with db.factory() as session:
        assert await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) == 0
        for account in (await session.execute(select(Account))).scalars():
            entries = await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account.id)
            )
            assert entries == account.balance
        assert await session.scalar(text("SELECT count(*) FROM people WHERE name = '已注销用户'")) == 1
    # After the retention period the kept alarm record goes too; the ledger keeps balancing.
    await run_due_jobs(api, db, kinds=("privacy.forget",))
    gone = await api.gql("query($id: ID!) { emergency(id: $id) { id } }", {"id": life["alert_id"]}, life["worker"])
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    async with db.factory() as session:
        assert await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) == 0
