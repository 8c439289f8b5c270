"""One press of the emergency button: stored first, everyone told, escalated until answered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.jobs import Job, JobStatus
from tests.conftest import (
    ELDER,
    ELDER_2,
    FAMILY,
    FAMILY_2,
    GRID_WORKER,
    HEPING_WORKER,
    SERVICE_CENTRE,
    Api,
    Database,
    run_due_jobs,
)


async def press(api: Api, phone: str = ELDER, key: str | None = None) -> dict[str, Any]:
    token = await api.sign_in(phone)
    result = await api.op("app/TriggerEmergency", {"idempotencyKey": key}, token)
    return result["data"]["triggerEmergency"]


async def timeline(api: Api, alert_id: str, phone: str = GRID_WORKER) -> list[dict[str, Any]]:
    result = await api.op("app/Emergency", {"id": alert_id}, await api.sign_in(phone))
    return result["data"]["emergency"]["timeline"]


async def run_escalation_now(api: Api, db: Database) -> None:
    """The minute passes (and the 10 s fallbacks with it)."""
    await run_due_jobs(api, db)


async def test_one_press_stores_the_alarm_answers_in_plain_words_and_tells_tier_one(api: Api) -> None:
    raised = await press(api)
    assert raised["__typename"] == "EmergencyRaised" and raised["new"] is True
    assert raised["reply"]["text"] == "已通知网格员和您的家人，请保持电话畅通。"
    assert raised["reply"]["readAloudUrl"].endswith(".wav")
    assert raised["emergency"]["status"] == "OPEN"
    await api.settle()
    # The grid worker of the elder's grid and the son who receives alerts both got an SMS.
    for phone in (GRID_WORKER, FAMILY):
        text = await api.last_sms(phone)
        assert "按了紧急按钮" in text and "幸福街道幸福社区1号楼" in text
    steps = await timeline(api, raised["emergency"]["id"])
    assert steps[0]["kind"] == "raised"
    # Each attempt is on the timeline: no app registered (this test runs without FCM), so SMS at once.
    attempts = {
        (s["detail"]["person"], s["detail"]["path"]): s["detail"]["result"] for s in steps if s["kind"] == "notified"
    }
    people = {person for person, _ in attempts}
    assert len(people) == 2
    assert all(attempts[(p, "push")] == "unavailable" and attempts[(p, "sms")] == "delivered" for p in people)
    # Staff of the other grid are tier 2, not yet told.
    outbox = (await api.client.get("/dev/outbox", params={"to": "+8613700000002"})).json()["messages"]
    assert not any("紧急" in m["text"] for m in outbox)


async def test_a_second_press_joins_the_open_alarm_and_a_replay_returns_it(api: Api) -> None:
    first = await press(api, key="press-0001-abcdef")
    replay = await press(api, key="press-0001-abcdef")
    assert replay["emergency"]["id"] == first["emergency"]["id"] and replay["emergency"]["presses"] == 1
    again = await press(api, key="press-0002-abcdef")
    assert again["new"] is False and again["emergency"]["id"] == first["emergency"]["id"]
    assert again["emergency"]["presses"] == 2
    # Within the minute: nobody is told again, and the reply says so.
    assert again["reply"]["text"] == "刚才已通知网格员和您的家人，正在等他们回应，请保持电话畅通。"


async def test_unanswered_alarms_escalate_and_finally_say_call_120(api: Api, db: Database) -> None:
    raised = await press(api)
    alert_id = raised["emergency"]["id"]
    await api.settle()
    await run_escalation_now(api, db)  # 60 s: tier 2
    assert "【升级】" in await api.last_sms(SERVICE_CENTRE)
    assert "【升级】" in await api.last_sms("+8613700000002")  # the other grid's worker too
    await run_escalation_now(api, db)  # 5 min: tier 3
    worker = await api.sign_in(GRID_WORKER)
    alert = (await api.op("app/Emergency", {"id": alert_id}, worker))["data"]["emergency"]
    assert alert["tier"] == 3 and alert["callEmergencyServices"] is True
    assert "120" in await api.last_sms("+8613500000001")
    assert alert["elder"]["address"].startswith("幸福街道") and alert["familyPhones"] == [FAMILY]
    assert [s["kind"] for s in alert["timeline"] if s["kind"] == "escalated"] == ["escalated", "escalated"]


async def test_acknowledging_stops_escalation_and_tells_the_elder(api: Api, db: Database) -> None:
    raised = await press(api)
    alert_id = raised["emergency"]["id"]
    worker = await api.sign_in(GRID_WORKER)
    acked = await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
    assert acked["data"]["acknowledgeEmergency"]["status"] == "ACKNOWLEDGED"
    await api.settle()
    assert "已收到您的呼叫" in await api.last_sms(ELDER)
    async with db.factory() as session:
        pending = (await session.execute(select(Job).where(Job.status == JobStatus.PENDING))).scalars().all()
    assert pending == []  # the 60-second escalation was cancelled
    en_route = await api.op("staff/MarkEmergencyEnRoute", {"emergencyId": alert_id}, worker)
    assert en_route["data"]["markEmergencyEnRoute"]["status"] == "EN_ROUTE"
    resolved = await api.op(
        "staff/ResolveEmergency", {"emergencyId": alert_id, "outcome": "HELPED_ON_SITE", "note": "扶起，无外伤"}, worker
    )
    assert resolved["data"]["resolveEmergency"]["status"] == "RESOLVED"
    # Notifications interleave with answers (they run beside the request); the answers keep their order.
    kinds = [s["kind"] for s in await timeline(api, alert_id) if s["kind"] != "notified"]
    assert kinds == ["raised", "acknowledged", "en_route", "resolved"]
    again = await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
    assert again["data"]["acknowledgeEmergency"]["code"] == "ALERT_CLOSED"


async def test_a_responder_who_never_arrives_counts_as_no_responder(api: Api, db: Database) -> None:
    raised = await press(api)
    worker = await api.sign_in(GRID_WORKER)
    await api.op("staff/MarkEmergencyEnRoute", {"emergencyId": raised["emergency"]["id"]}, worker)
    await run_escalation_now(api, db)  # 30 minutes later, still "en route"
    alert = (await api.op("app/Emergency", {"id": raised["emergency"]["id"]}, worker))["data"]["emergency"]
    assert alert["status"] == "OPEN" and alert["tier"] == 2
    assert "en_route_overdue" in [s["kind"] for s in alert["timeline"]]


async def test_an_elder_cancels_a_false_alarm_and_nothing_is_deleted(api: Api) -> None:
    raised = await press(api)
    elder = await api.sign_in(ELDER)
    cancelled = await api.op("app/CancelEmergency", {"emergencyId": raised["emergency"]["id"]}, elder)
    assert cancelled["data"]["cancelEmergency"] == {
        "__typename": "Emergency",
        "id": raised["emergency"]["id"],
        "status": "CANCELLED",
        "outcome": "FALSE_ALARM",
    }
    kinds = [s["kind"] for s in await timeline(api, raised["emergency"]["id"], ELDER) if s["kind"] != "notified"]
    assert kinds == ["raised", "cancelled"]
    # A new press after the cancellation is a new alarm.
    assert (await press(api))["new"] is True


async def test_only_those_involved_see_or_answer_an_alarm(api: Api) -> None:
    raised = await press(api)
    alert_id = raised["emergency"]["id"]
    for outsider in (HEPING_WORKER, FAMILY_2, ELDER_2):
        token = await api.sign_in(outsider)
        seen = await api.op("app/Emergency", {"id": alert_id}, token)
        assert seen["data"] is None and seen["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        answered = await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, token)
        assert answered["data"]["acknowledgeEmergency"]["code"] == "NOT_FOUND"
    # The son (receive_alerts) may answer.
    son = await api.sign_in(FAMILY)
    acked = await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, son)
    assert acked["data"]["acknowledgeEmergency"]["status"] == "ACKNOWLEDGED"


async def test_staff_see_open_alarms_unanswered_first(api: Api) -> None:
    first = await press(api, ELDER)
    second = await press(api, ELDER_2)
    worker = await api.sign_in(GRID_WORKER)
    await api.op("staff/AcknowledgeEmergency", {"emergencyId": first["emergency"]["id"]}, worker)
    listed = (await api.op("staff/OpenEmergencies", {}, worker))["data"]["openEmergencies"]
    assert [a["id"] for a in listed] == [second["emergency"]["id"], first["emergency"]["id"]]
    heping = await api.sign_in(HEPING_WORKER)
    assert (await api.op("staff/OpenEmergencies", {}, heping))["data"]["openEmergencies"] == []


async def test_the_red_key_on_a_paired_tv_raises_the_households_alarm(api: Api) -> None:
    grant = (await api.client.post("/tv/device/code", data={"serial": "STB-RED-1"})).json()
    elder = await api.sign_in(ELDER)
    await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, elder)
    tv_token = (
        await api.client.post(
            "/tv/device/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": grant["device_code"]},
        )
    ).json()["access_token"]
    raised = (await api.op("tv/TvEmergency", {"idempotencyKey": "tv-press-000001"}, tv_token))["data"]
    assert raised["triggerEmergency"]["new"] is True
    assert raised["triggerEmergency"]["reply"]["text"].startswith("已通知")
    alert = (await api.op("app/Emergency", {"id": raised["triggerEmergency"]["emergency"]["id"]}, elder))["data"]
    assert alert["emergency"]["source"] == "TV" and alert["emergency"]["elder"]["phone"] == ELDER
    # A TV token does nothing else a person can do.
    refused = await api.op("app/Me", {}, tv_token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_replaying_the_key_of_a_closed_alarm_says_what_happened_to_it(api: Api) -> None:
    # Given: the elder pressed, then cancelled (pressed by mistake) before anyone answered.
    raised = await press(api, key="closed-replay-01")
    elder = await api.sign_in(ELDER)
    cancelled = await api.op("app/CancelEmergency", {"emergencyId": raised["emergency"]["id"]}, elder)
    assert cancelled["data"]["cancelEmergency"]["status"] == "CANCELLED"

    # When: the app retries the same press (the network dropped its answer).
    again = await press(api, key="closed-replay-01")

    # Then: the same alarm, as it stands, in words; nothing new raised, nobody told again.
    assert again["emergency"] == {**raised["emergency"], "status": "CANCELLED"}
    assert again["new"] is False
    assert again["reply"]["text"] == "这次紧急呼叫已经取消了。如果需要帮助，请再按一次紧急按钮。"

    # A staff member closes another without anyone acknowledging it; its replay says so.
    second = await press(api, key="closed-replay-02")
    resolved = await api.op(
        "staff/ResolveEmergency",
        {"emergencyId": second["emergency"]["id"], "outcome": "FALSE_ALARM"},
        await api.sign_in(SERVICE_CENTRE),
    )
    assert resolved["data"]["resolveEmergency"]["status"] == "RESOLVED", resolved
    replayed = await press(api, key="closed-replay-02")
    assert replayed["emergency"]["id"] == second["emergency"]["id"]
    assert replayed["reply"]["text"] == "您的紧急呼叫已处理完毕。"
