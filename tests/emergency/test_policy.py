"""A community's staff decide who is told when an alarm is not answered, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db import utcnow
from backend.emergency.service import ESCALATE
from backend.jobs import Job, JobStatus
from tests.conftest import ADMIN, ELDER, GRID_WORKER, HEPING_WORKER, SERVICE_CENTRE, Api, Database, run_due_jobs

QUICKER = [
    {"afterSeconds": 0, "notify": ["GRID_WORKER", "FAMILY"]},
    {"afterSeconds": 30, "notify": ["SERVICE_CENTRE"]},
    {"afterSeconds": 120, "notify": ["ADMIN", "COMMUNITY_STAFF"], "callEmergencyServices": True},
]


async def xingfu(api: Api) -> str:
    me = (await api.op("app/Me", {}, await api.sign_in(ADMIN)))["data"]["me"]
    return str(me["roles"][0]["community"]["id"])


async def policy(api: Api, phone: str, community_id: str) -> dict[str, Any]:
    return await api.op("staff/EscalationPolicy", {"communityId": community_id}, await api.sign_in(phone))


async def update(api: Api, phone: str, community_id: str, tiers: list[dict[str, Any]], timeout: int = 600) -> Any:
    result = await api.op(
        "staff/UpdateEscalationPolicy",
        {"communityId": community_id, "tiers": tiers, "enRouteTimeoutSeconds": timeout},
        await api.sign_in(phone),
    )
    return result["data"]["updateEscalationPolicy"]


async def next_escalation_in_s(db: Database) -> float:
    async with db.factory() as session:
        job = (
            await session.execute(select(Job).where(Job.kind == ESCALATE, Job.status == JobStatus.PENDING))
        ).scalar_one()
    return (job.run_at - utcnow()).total_seconds()


async def test_staff_read_the_default_and_the_service_centre_sets_their_own(api: Api, db: Database) -> None:
    cid = await xingfu(api)
    default = (await policy(api, GRID_WORKER, cid))["data"]["escalationPolicy"]
    assert [t["afterSeconds"] for t in default["tiers"]] == [0, 60, 300]
    assert default["tiers"][2]["callEmergencyServices"] is True and default["enRouteTimeoutSeconds"] == 1800

    saved = await update(api, SERVICE_CENTRE, cid, QUICKER)
    assert saved["__typename"] == "EscalationPolicy"
    assert [t["afterSeconds"] for t in saved["tiers"]] == [0, 30, 120] and saved["enRouteTimeoutSeconds"] == 600
    read_back = (await policy(api, GRID_WORKER, cid))["data"]["escalationPolicy"]
    assert read_back["tiers"] == saved["tiers"] and read_back["tiers"][1]["notify"] == ["SERVICE_CENTRE"]

    # The next alarm follows it: tier 2 after 30 s, and it is the service centre alone.
    raised = await api.op("app/TriggerEmergency", {}, await api.sign_in(ELDER))
    assert raised["data"]["triggerEmergency"]["new"] is True
    await api.settle()
    assert 25 < await next_escalation_in_s(db) <= 30
    await run_due_jobs(api, db)
    assert "【升级】" in await api.last_sms(SERVICE_CENTRE)
    outbox = (await api.client.get("/dev/outbox", params={"to": "+8613700000002"})).json()["messages"]
    assert not any("紧急" in m["text"] for m in outbox)  # the other grid's worker is tier 3 now
    assert 85 < await next_escalation_in_s(db) <= 90


async def test_a_policy_that_could_leave_an_alarm_unheard_is_refused(api: Api) -> None:
    cid = await xingfu(api)
    late_start = [{**QUICKER[0], "afterSeconds": 10}, *QUICKER[1:]]
    refused = await update(api, ADMIN, cid, late_start)
    assert refused["__typename"] == "InvalidInputError" and refused["field"] == "afterSeconds"
    assert "第一级须立即通知" in refused["message"]
    no_120 = [*QUICKER[:2], {**QUICKER[2], "callEmergencyServices": False}]
    assert (await update(api, ADMIN, cid, no_120))["field"] == "callEmergencyServices"
    nobody = [QUICKER[0], {**QUICKER[1], "notify": []}, QUICKER[2]]
    assert (await update(api, ADMIN, cid, nobody))["field"] == "notify"
    backwards = [QUICKER[0], QUICKER[2], {**QUICKER[1], "callEmergencyServices": True}]
    assert (await update(api, ADMIN, cid, backwards))["field"] == "afterSeconds"
    assert (await update(api, ADMIN, cid, QUICKER, timeout=60))["field"] == "enRouteTimeoutSeconds"
    unchanged = (await policy(api, ADMIN, cid))["data"]["escalationPolicy"]
    assert [t["afterSeconds"] for t in unchanged["tiers"]] == [0, 60, 300]


async def test_only_the_communitys_admins_and_service_centre_change_it(api: Api) -> None:
    cid = await xingfu(api)
    assert (await update(api, GRID_WORKER, cid, QUICKER))["code"] == "NOT_FOUND"
    assert (await update(api, HEPING_WORKER, cid, QUICKER))["code"] == "NOT_FOUND"
    other = await policy(api, HEPING_WORKER, cid)
    assert other["data"] is None and other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    elder = await api.op("staff/EscalationPolicy", {"communityId": cid}, await api.sign_in(ELDER))
    assert elder["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
