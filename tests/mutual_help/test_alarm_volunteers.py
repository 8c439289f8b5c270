"""Volunteers as a tier of the alarm's ladder: the neighbours of the elder's grid who agreed
to be called are told when nobody has answered in 30 s (their quiet hours hold unless they
chose otherwise), and "我去" tells the elder someone is coming while the ladder goes on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend.emergency.models import Alert, AlertEvent, AlertStatus
from backend.emergency.service import escalate_key
from backend.jobs import Job, JobStatus
from tests.conftest import ELDER, GRID_WORKER, Api, Database, run_due_jobs
from tests.mutual_help.test_help import DEMO_VOLUNTEER, OTHER_GRID, SAME_BUILDING, SAME_GRID, notifications


async def offer(api: Api, phone: str, *, alarms: bool, at_night: bool = False) -> None:
    done = await api.op(
        "app/SetVolunteerProfile",
        {
            "input": {
                "skills": ["CHAT"],
                "weekdays": [0, 1, 2, 3, 4, 5, 6],
                "fromTime": "08:00",
                "untilTime": "20:00",
                "answersAlarms": alarms,
                "alarmsInQuietHours": at_night,
            }
        },
        await api.sign_in(phone),
    )
    assert done["data"]["setVolunteerProfile"]["answersAlarms"] is alarms, done


async def quiet_now(api: Api, phone: str) -> None:
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    hours = {
        "start": (now - dt.timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + dt.timedelta(hours=1)).strftime("%H:%M"),
    }
    done = await api.op("app/UpdateNotificationSettings", {"quietHours": hours}, await api.sign_in(phone))
    assert done["data"]["updateNotificationSettings"]["__typename"] == "NotificationSettings", done


async def test_neighbours_who_volunteer_are_called_and_one_going_tells_the_elder(api: Api, db: Database) -> None:
    await offer(api, SAME_BUILDING, alarms=True, at_night=True)
    await offer(api, SAME_GRID, alarms=False)  # volunteers, but not for alarms
    await offer(api, OTHER_GRID, alarms=True)  # too far: grid 2
    await quiet_now(api, SAME_BUILDING)  # woken anyway: he chose to be
    await quiet_now(api, DEMO_VOLUNTEER)  # the demo volunteer answers alarms, but not in her quiet hours

    pressed = await api.op(
        "app/TriggerEmergency", {"idempotencyKey": "9c8a1f0e-0000-4000-8000-000000000001"}, await api.sign_in(ELDER)
    )
    alert_id = pressed["data"]["triggerEmergency"]["emergency"]["id"]
    await api.settle()
    assert not any(t.startswith("邻居黎文华按了紧急按钮") for t in await notifications(api, SAME_BUILDING))

    await run_due_jobs(api, db, ("emergency.volunteers",))
    told = [t for t in await notifications(api, SAME_BUILDING) if t.startswith("邻居黎文华按了紧急按钮")]
    assert len(told) == 1 and "1单元101" in told[0], told
    for phone in (SAME_GRID, OTHER_GRID, DEMO_VOLUNTEER):
        assert not any(t.startswith("邻居黎文华按了紧急按钮") for t in await notifications(api, phone)), phone

    going = await api.op("app/VolunteerGoing", {"emergencyId": alert_id}, await api.sign_in(SAME_BUILDING))
    assert going["data"]["volunteerGoing"]["going"] is True
    await api.settle()
    assert "邻居许德胜正在过来看您。" in await notifications(api, ELDER)
    assert any("邻居许德胜正在赶去" in t for t in await notifications(api, GRID_WORKER))
    # A neighbour is help, not the answer: the alarm is still open and the next tier still due.
    async with db.factory() as session:
        alert = await session.get(Alert, int(alert_id))
        assert alert is not None and alert.status == AlertStatus.OPEN
        steps = [
            e.kind for e in (await session.execute(select(AlertEvent).where(AlertEvent.alert_id == alert.id))).scalars()
        ]
        assert steps[-2:] == ["volunteers_told", "volunteer_going"]
        escalation = await session.scalar(select(Job).where(Job.dedupe_key == escalate_key(alert.id)))
        assert escalation is not None and escalation.status == JobStatus.PENDING
    # Someone who was not asked cannot say they are going.
    stranger = await api.op("app/VolunteerGoing", {"emergencyId": alert_id}, await api.sign_in(SAME_GRID))
    assert stranger["data"]["volunteerGoing"]["code"] == "NOT_FOUND"


async def test_an_alarm_answered_at_once_calls_no_neighbour(api: Api, db: Database) -> None:
    await offer(api, SAME_BUILDING, alarms=True)
    pressed = await api.op(
        "app/TriggerEmergency", {"idempotencyKey": "9c8a1f0e-0000-4000-8000-000000000002"}, await api.sign_in(ELDER)
    )
    alert_id = pressed["data"]["triggerEmergency"]["emergency"]["id"]
    answered = await api.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, await api.sign_in(GRID_WORKER))
    assert "errors" not in answered, answered
    await run_due_jobs(api, db, ("emergency.volunteers",))
    assert not any(t.startswith("邻居黎文华按了紧急按钮") for t in await notifications(api, SAME_BUILDING))
