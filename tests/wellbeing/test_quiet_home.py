"""Quiet-home signals over the signed webhook, with the real timers: a meter that goes quiet
when the home usually uses power starts the check-in ladder with the reason in words; a home
marked away does not; hours past the retention are gone; nothing unproven is kept."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from backend import jobs
from backend.community.models import Person
from backend.db import transaction, utcnow
from backend.health.models import VitalSign
from backend.signed_requests import sign
from backend.wellbeing.models import HomeHour, MissedCheckIn
from tests.conftest import (
    ELDER,
    ELDER_2,
    GRID_WORKER,
    HEPING_WORKER,
    Api,
    Database,
    make_settings,
    run_due_jobs,
    start_app,
)

SECRETS = {"xingfu-meters": "meter-secret"}
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Api]:
    local_clock("09:00")
    settings = make_settings(tmp_path, db.url, home_signal_secrets=SECRETS)
    app, rt = await start_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, rt)
    await rt.close()


async def send(api: Api, body: Any, *, secret: str = SECRETS["xingfu-meters"]) -> httpx.Response:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    return await api.client.post(
        "/integrations/home-signals",
        content=raw,
        headers={
            "content-type": "application/json",
            "x-linli-source": "xingfu-meters",
            "x-linli-timestamp": timestamp,
            "x-linli-signature": sign(secret, timestamp, raw),
        },
    )


async def home_of(db: Database, phone: str) -> str:
    async with db.factory() as session:
        return str(await session.scalar(select(Person.household_id).where(Person.phone == phone)))


async def bind(api: Api, household_id: str, device: str) -> None:
    bound = await api.op(
        "staff/BindHomeSensor",
        {"householdId": household_id, "sender": "xingfu-meters", "device": device, "kind": "electricity"},
        await api.sign_in(GRID_WORKER),
    )
    assert bound["data"]["bindHomeSensor"]["__typename"] == "HomeSensor", bound


def usual_week(device: str, quiet_for_hours: int) -> list[dict[str, Any]]:
    """A week of hourly readings: power used from 07:00 to 22:59 every day, none at night,
    and none at all for the last `quiet_for_hours` hours (the meter still reports zeros)."""
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    readings = []
    for back in range(1, 7 * 24):
        at = now - dt.timedelta(hours=back) + dt.timedelta(minutes=15)
        used = 7 <= at.astimezone(ZONE).hour <= 22 and back > quiet_for_hours
        readings.append({"device": device, "at": at.isoformat(), "value": 0.4 if used else 0.0})
    return readings


async def the_worker_checks(api: Api, db: Database, kind: str) -> None:
    """The worker's standing job (off in tests, which start workers without them) runs now."""
    async with transaction(db.factory) as session:
        await jobs.schedule(session, kind, utcnow(), key=jobs.standing_key(kind))
    await run_due_jobs(api, db, (kind,))


async def notifications(api: Api, phone: str) -> list[str]:
    feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
    return [n["text"] for n in feed["data"]["notifications"]["nodes"]]


async def test_a_meter_gone_quiet_starts_the_ladder_and_a_home_away_does_not(api: Api, db: Database) -> None:
    hers, neighbours = await home_of(db, ELDER), await home_of(db, ELDER_2)
    await bind(api, hers, "M-0001")
    await bind(api, neighbours, "M-0002")
    # Since 20:00 yesterday nothing: 13 hours, five of them hours she usually uses power.
    for device in ("M-0001", "M-0002"):
        taken = await send(api, {"readings": usual_week(device, 13)})
        assert taken.json() == {"accepted": 167, "unknown": 0}, taken.text
    away = await api.op(
        "app/MarkHomeAway",
        {"householdId": neighbours, "until": (dt.date.today() + dt.timedelta(days=5)).isoformat(), "reason": "住院"},
        await api.sign_in(GRID_WORKER),
    )
    assert away["data"]["markHomeAway"]["reason"] == "住院"

    await the_worker_checks(api, db, "wellbeing.quiet_homes")
    told = [t for t in await notifications(api, ELDER) if t.startswith("平安报：从昨天20:00起家里没有用电")]
    assert len(told) == 1, await notifications(api, ELDER)
    assert not any("没有用电" in t for t in await notifications(api, ELDER_2))
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, await api.sign_in(GRID_WORKER))
    assert [m["name"] for m in listed["data"]["missedCheckIns"]] == ["黎文华"]

    # Checked again, the same quiet day starts nothing more; her 我很好 stops it, though she
    # has no daily check-in of her own.
    await the_worker_checks(api, db, "wellbeing.quiet_homes")
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(MissedCheckIn)) == 1
    mine = await api.op("app/CheckIn", {}, await api.sign_in(ELDER))
    assert mine["data"]["checkIn"]["via"] == "app"
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, await api.sign_in(GRID_WORKER))
    assert listed["data"]["missedCheckIns"] == []
    # With nothing open and no plan, a check-in is refused in words.
    seen = await api.op("app/CheckIn", {"personId": str(await _person(db, ELDER))}, await api.sign_in(GRID_WORKER))
    assert seen["data"]["checkIn"]["code"] == "NO_CHECK_IN_PLAN"


async def test_a_home_with_its_own_quiet_time_is_judged_by_it(api: Api, db: Database) -> None:
    hers, neighbours = await home_of(db, ELDER), await home_of(db, ELDER_2)
    await bind(api, hers, "M-0001")
    await bind(api, neighbours, "M-0002")
    for device in ("M-0001", "M-0002"):
        await send(api, {"readings": usual_week(device, 13)})
    worker = await api.sign_in(GRID_WORKER)
    # Her neighbour works nights: a day without power is his usual.
    own = await api.op(
        "staff/SetHomeQuietRule", {"householdId": neighbours, "kind": "electricity", "quietHours": 24}, worker
    )
    assert own["data"]["setHomeQuietRule"] == {
        "__typename": "HomeQuietRuleView",
        "householdId": neighbours,
        "kind": "electricity",
        "quietHours": 24,
    }
    for bad in ({"kind": "electricity", "quietHours": 1}, {"kind": "gas", "quietHours": 24}):
        refused = await api.op("staff/SetHomeQuietRule", {"householdId": hers, **bad}, worker)
        assert refused["data"]["setHomeQuietRule"]["code"] == "INVALID_INPUT"
    other = await api.op(
        "staff/SetHomeQuietRule",
        {"householdId": hers, "kind": "electricity", "quietHours": 24},
        await api.sign_in(HEPING_WORKER),
    )
    assert other["data"]["setHomeQuietRule"]["code"] == "NOT_FOUND"

    await the_worker_checks(api, db, "wellbeing.quiet_homes")
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, worker)
    assert [(m["name"], m["kind"]) for m in listed["data"]["missedCheckIns"]] == [("黎文华", "quiet:electricity")]


async def _person(db: Database, phone: str) -> int:
    async with db.factory() as session:
        return int(await session.scalar(select(Person.id).where(Person.phone == phone)))


async def test_hours_past_the_retention_are_gone_and_nothing_unproven_is_kept(
    api: Api, db: Database, local_clock: Any
) -> None:
    hers = await home_of(db, ELDER)
    await bind(api, hers, "M-0001")
    now = dt.datetime.now(dt.UTC)
    old = {"device": "M-0001", "at": (now - dt.timedelta(days=14)).isoformat(), "value": 1.0}
    too_old = {"device": "M-0001", "at": (now - dt.timedelta(days=16)).isoformat(), "value": 1.0}
    stranger = {"device": "M-9999", "at": now.isoformat(), "value": 1.0}
    taken = await send(api, {"readings": [old, too_old, stranger]})
    assert taken.json() == {"accepted": 1, "unknown": 2}
    assert (await send(api, {"readings": [old]}, secret="wrong")).status_code == 401
    assert (await send(api, {"readings": [{"device": "M-0001", "at": "yesterday", "value": 1}]})).status_code == 400
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(HomeHour)) == 1
    # A band's readings out of range, kept with her vitals consent: one 14 days old, one new.
    async with transaction(db.factory) as session:
        elder = await _person(db, ELDER)
        session.add(
            VitalSign(
                person_id=elder, kind="heart_rate", value=130, side="high", limit=120, at=now - dt.timedelta(days=14)
            )
        )
        session.add(VitalSign(person_id=elder, kind="heart_rate", value=131, side="high", limit=120, at=now))

    local_clock("09:00", days_later=2)  # two days on: the hour is 16 days old
    await the_worker_checks(api, db, "wellbeing.prune")
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(HomeHour)) == 0
        assert list(await session.scalars(select(VitalSign.value))) == [131]


async def test_a_reading_that_is_not_a_finite_number_in_range_is_refused_and_nothing_is_kept(
    api: Api, db: Database
) -> None:
    await bind(api, await home_of(db, ELDER), "M-0001")
    at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    good = {"device": "M-0001", "at": at, "value": 0.4}
    for value in ("NaN", "Infinity", "-Infinity", "1e999", "true", "-1", '"0.3"', "null"):
        # One broken reading among good ones: the whole report is refused, as sent.
        broken = f'{{"device": "M-0001", "at": "{at}", "value": {value}}}'
        raw = f'{{"readings": [{json.dumps(good)}, {broken}]}}'.encode()
        timestamp = str(int(time.time()))
        answer = await api.client.post(
            "/integrations/home-signals",
            content=raw,
            headers={
                "content-type": "application/json",
                "x-linli-source": "xingfu-meters",
                "x-linli-timestamp": timestamp,
                "x-linli-signature": sign(SECRETS["xingfu-meters"], timestamp, raw),
            },
        )
        assert answer.status_code == 400, (value, answer.text)
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(HomeHour)) == 0
    assert (await send(api, {"readings": [good]})).json()["accepted"] == 1
