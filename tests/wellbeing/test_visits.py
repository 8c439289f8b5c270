"""巡访关爱 through the staff documents: every elder on the plan, at risk more often, the
overdue on top; a visit or greeting in a few taps; what is noted about health kept only with
the elder's consent; follow-ups until done."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from backend.community.models import Person
from backend.db import transaction, utcnow
from backend.services.models import Booking, BookingStatus
from backend.wellbeing.models import Visit
from tests.conftest import ELDER, GRID_WORKER, HEPING_WORKER, SERVICE_CENTRE, Api, Database

NOT_ALONE = "+8613800000005"  # 尹玉梅, 73: given a husband below, so at no risk


async def a_page(api: Api, phone: str = GRID_WORKER, **more: Any) -> dict[str, Any]:
    found = await api.op("staff/VisitPlan", {"communityId": "1", **more}, await api.sign_in(phone))
    assert "errors" not in found, found
    return dict(found["data"]["visitPlan"])


async def the_plan(api: Api, phone: str = GRID_WORKER, **more: Any) -> list[dict[str, Any]]:
    """Every page of it."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = await a_page(api, phone, after=after, **more)
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def record(api: Api, person_id: int, phone: str = GRID_WORKER, **more: Any) -> dict[str, Any]:
    done = await api.op("staff/RecordVisit", {"personId": str(person_id), **more}, await api.sign_in(phone))
    return dict(done["data"]["recordVisit"])


async def test_the_plan_visits_those_at_risk_more_often_and_puts_the_overdue_on_top(
    api: Api, db: Database, people: dict[str, int], local_clock: Any
) -> None:
    local_clock("09:00")
    async with transaction(db.factory) as session:
        wife = await session.get(Person, people[NOT_ALONE])
        assert wife is not None
        session.add(Person(phone="+8613800000099", name="尹国庆", household_id=wife.household_id))
    plan = await the_plan(api)
    by_name = {d["name"]: d for d in plan}
    assert by_name["黎文华"]["risks"] == ["alone", "old"] and by_name["黎文华"]["everyDays"] == 7
    assert by_name["黎文华"]["riskWords"] == ["独居", "80岁以上"]
    assert by_name["尹玉梅"]["risks"] == [] and by_name["尹玉梅"]["everyDays"] == 30
    assert "尹国庆" not in by_name  # not an elder
    assert all(d["lastVisit"] is None and d["overdueDays"] == 0 for d in plan)  # never visited: due today
    assert plan[-1]["name"] == "尹玉梅"  # those at risk first
    # A grid worker's plan is her round: the grids she looks after (1号楼, 2号楼), not 3号楼's
    # 张振华 (another grid's elder, with his phone and address), whatever she asks for.
    own = {d["name"] for d in await the_plan(api, mine=True)}
    assert "黎文华" in own and "钟桂芳" in own and own == set(by_name) and "张振华" not in by_name
    centre = {d["name"] for d in await the_plan(api, SERVICE_CENTRE)}
    assert "张振华" in centre and set(by_name) < centre

    seen = await record(api, people[ELDER], kind="visit", how="well", note="气色不错")
    assert seen["__typename"] == "VisitRecorded" and seen["visit"]["byName"] == "赵晓燕"
    assert seen["checkedIn"] is False  # nothing was open, and she has no daily check-in
    assert seen["healthNoteKept"] is None
    await record(api, people[NOT_ALONE], kind="call", how="well")
    # A visit that did not reach him keeps him due.
    missed = await record(api, people["+8613800000002"], kind="visit", how="not_reached", note="家里没人")
    assert missed["checkedIn"] is False

    local_clock("09:00", days_later=8)
    api.tokens.clear()
    overdue = await the_plan(api, overdueOnly=True)
    assert overdue[0]["name"] == "黎文华" and overdue[0]["overdueDays"] == 1, overdue[:2]
    assert overdue[0]["lastVisit"]["note"] == "气色不错"
    names = [d["name"] for d in overdue]
    assert "尹玉梅" not in names  # due in 30 days
    liu = next(d for d in overdue if d["name"] == "刘树林")
    assert liu["lastVisit"] is None and liu["lastTry"]["how"] == "not_reached"
    # The centre sees the whole community's list; another community's worker nothing.
    whole = [d["name"] for d in await the_plan(api, SERVICE_CENTRE, overdueOnly=True)]
    assert [n for n in whole if n in names] == names and "张振华" in whole
    other = await api.op("staff/VisitPlan", {"communityId": "1"}, await api.sign_in(HEPING_WORKER))
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_health_notes_need_consent_follow_ups_stay_until_done_and_bad_input_records_nothing(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    elder_id = people[ELDER]
    first = await record(
        api, elder_id, kind="visit", how="unwell", note="说头晕", followUp="联系家庭医生", healthNote="血压160/100"
    )
    assert first["healthNoteKept"] is False  # she has not consented: not kept anywhere
    assert first["visit"]["followUp"] == "联系家庭医生"
    elder = await api.sign_in(ELDER)
    await api.op("app/GiveHealthConsent", {}, elder)
    second = await record(api, elder_id, kind="call", how="well", healthNote="按时吃降压药")
    assert second["healthNoteKept"] is True
    profile = (await api.op("app/EmergencyProfile", {}, elder))["data"]["emergencyProfile"]["profile"]
    assert profile["notes"].endswith("赵晓燕: 按时吃降压药") and "160" not in profile["notes"]
    log = (await api.op("app/HealthAccessLog", {}, elder))["data"]["healthAccessLog"]
    assert {"readerName": "赵晓燕", "purpose": "visit"} in [
        {"readerName": e["readerName"], "purpose": e["purpose"]} for e in log
    ]

    hers = next(d for d in await the_plan(api) if d["name"] == "黎文华")
    assert hers["openFollowUp"]["followUp"] == "联系家庭医生"
    done = await api.op(
        "staff/MarkFollowUpDone", {"visitId": hers["openFollowUp"]["id"]}, await api.sign_in(SERVICE_CENTRE)
    )
    assert done["data"]["markFollowUpDone"]["followUpDoneAt"] is not None
    hers = next(d for d in await the_plan(api) if d["name"] == "黎文华")
    assert hers["openFollowUp"] is None

    async with db.factory() as session:
        before = await session.scalar(select(func.count()).select_from(Visit))
    for bad in (
        {"kind": "letter", "how": "well"},
        {"kind": "visit", "how": "fine"},
        {"kind": "visit", "how": "well", "note": "长" * 201},
    ):
        refused = await record(api, elder_id, **bad)
        assert refused["code"] == "INVALID_INPUT", refused
    stranger = await record(api, elder_id, HEPING_WORKER, kind="visit", how="well")
    assert stranger["code"] == "NOT_FOUND"
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Visit)) == before


async def test_a_booked_visit_where_nobody_was_home_puts_her_at_risk(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    async with transaction(db.factory) as session:
        wife = await session.get(Person, people[NOT_ALONE])
        assert wife is not None
        session.add(Person(phone="+8613800000099", name="尹国庆", household_id=wife.household_id))
        session.add(
            Booking(
                offering_code="bath",
                provider_code="p1",
                slot_start=utcnow() - dt.timedelta(days=3),
                beneficiary_id=wife.id,
                household_id=wife.household_id,
                address="",
                placed_by_id=wife.id,
                placed_as="self",
                status=BookingStatus.NO_SHOW,
                price_fen=3000,
                payer_id=wife.id,
                idempotency_key="test-no-show",
                check_in_code="1234",
            )
        )
    hers = next(d for d in await the_plan(api) if d["name"] == "尹玉梅")
    assert hers["risks"] == ["no_show"] and hers["riskWords"] == ["最近预约上门时家里没人"] and hers["everyDays"] == 7


async def test_the_plan_comes_a_page_at_a_time_and_only_a_pages_phones_are_read(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    whole = await the_plan(api)
    assert len(whole) > 4
    first = await a_page(api, first=2)
    assert [d["name"] for d in first["nodes"]] == [d["name"] for d in whole[:2]]
    assert first["total"] == len(whole) and first["overdue"] == 0 and first["pageInfo"]["hasNextPage"]
    # Only the page's elders have a read of their phone by the plan in their access log.
    third = whole[2]["personId"]
    [phone] = [p for p, i in people.items() if str(i) == third]

    async def plan_reads() -> int:
        log = (await api.op("app/DataAccessLog", {}, await api.sign_in(phone)))["data"]["dataAccessLog"]
        return sum(1 for e in log if e["purpose"] == "visits")

    before = await plan_reads()
    assert before >= 2  # the whole plan read her phone and address
    await a_page(api, first=2)
    assert await plan_reads() == before
    await a_page(api, first=3)
    assert await plan_reads() == before + 2

    # Visiting the first on the list moves her to the end; the next page still starts where it was.
    await record(api, int(first["nodes"][0]["personId"]), kind="visit", how="well")
    second = await a_page(api, first=2, after=first["pageInfo"]["endCursor"])
    assert [d["name"] for d in second["nodes"]] == [d["name"] for d in whole[2:4]]
    again = await the_plan(api)
    assert again[-1]["name"] == whole[0]["name"] and len(again) == len(whole)

    for bad in ({"after": "not-a-cursor"}, {"first": 0}, {"first": 101}):
        refused = await api.op("staff/VisitPlan", {"communityId": "1", **bad}, await api.sign_in(GRID_WORKER))
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT", refused
