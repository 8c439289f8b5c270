"""What a band says about its wearer beyond a press: where it was when it raised an alarm, and
heart rate and blood oxygen against her limits. Each is kept only with her separate consent,
erased when she withdraws it, and every read is in her health access log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
from sqlalchemy import func, select

from backend.health.models import BandFix, VitalSign
from backend.wellbeing.models import MissedCheckIn
from tests.conftest import (
    ELDER,
    FAMILY,
    GRID_WORKER,
    REPO_ROOT,
    Api,
    Database,
    make_settings,
    run_due_jobs,
    start_app,
)
from tests.emergency import test_sos_webhook
from tests.emergency.test_sos_webhook import SECRET, post, texts_of

api = test_sos_webhook.api  # the same app, with the band vendor's secret

STEP = ("wellbeing.step",)
WHERE = {"lat": 39.6309, "lon": 118.1802, "accuracy_m": 15}


async def count(db: Database, table: type) -> int:
    async with db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def log_of(api: Api) -> list[tuple[str | None, str]]:
    entries = (await api.op("app/HealthAccessLog", {}, await api.sign_in(ELDER)))["data"]["healthAccessLog"]
    return [(e["readerName"], e["purpose"]) for e in entries]


async def location(api: Api, alert_id: int) -> dict | None:
    seen = await api.op("staff/EmergencyBandLocation", {"id": str(alert_id)}, await api.sign_in(GRID_WORKER))
    return seen["data"]["emergency"]["bandLocation"]


async def resolve(api: Api, alert_id: int) -> None:
    done = await api.op(
        "staff/ResolveEmergency",
        {"emergencyId": str(alert_id), "outcome": "FALSE_ALARM"},
        await api.sign_in(GRID_WORKER),
    )
    assert done["data"]["resolveEmergency"]["__typename"] == "Emergency", done


async def test_a_falls_location_is_kept_only_with_her_consent_and_every_read_is_logged(api: Api, db: Database) -> None:
    first = await post(api, {"device_id": "BAND-0001", "event_id": "f-1", "kind": "fall", "location": WHERE})
    assert first.json()["new"] is True
    assert await location(api, first.json()["alert_id"]) is None  # she never agreed: nothing kept
    assert await count(db, BandFix) == 0
    assert ("赵晓燕", f"alert:{first.json()['alert_id']}:location") in await log_of(api)
    await resolve(api, first.json()["alert_id"])

    elder = await api.sign_in(ELDER)
    given = await api.op("app/GiveHealthConsent", {"scope": "LOCATION"}, elder)
    assert given["data"]["giveHealthConsent"]["consented"] is False  # the profile's consent is its own
    logged = await log_of(api)
    consents = (await api.op("app/HealthConsents", {}, elder))["data"]["emergencyProfile"]
    assert consents == {"consented": False, "locationConsented": True, "vitalsConsented": False}
    assert await log_of(api) == logged  # asking which consents she gave reads no health data

    fall = await post(api, {"device_id": "BAND-0001", "event_id": "f-2", "kind": "fall", "location": WHERE})
    alert_id = fall.json()["alert_id"]
    where = await location(api, alert_id)
    assert where is not None and (where["lat"], where["lon"], where["accuracyM"]) == (39.6309, 118.1802, 15)
    assert ("赵晓燕", f"alert:{alert_id}:location") in await log_of(api)

    # A location that is no place is dropped; the alarm is not.
    await resolve(api, alert_id)
    odd = await post(
        api, {"device_id": "BAND-0001", "event_id": "f-3", "kind": "fall", "location": {"lat": 300, "lon": 1}}
    )
    assert odd.status_code == 200 and odd.json()["new"] is True
    assert await location(api, odd.json()["alert_id"]) is None

    # Withdrawn: every location kept is erased at once.
    await api.op("app/WithdrawHealthConsent", {"scope": "LOCATION"}, elder)
    assert await count(db, BandFix) == 0
    assert await location(api, alert_id) is None


async def test_vitals_are_judged_only_with_consent_and_a_reading_out_of_range_climbs_the_ladder(
    api: Api, db: Database
) -> None:
    reading = {"device_id": "BAND-0001", "kind": "heart_rate"}
    without = await post(api, {**reading, "event_id": "v-1", "value": 135})
    assert without.json() == {"accepted": True, "judged": False, "outOfRange": False}
    assert await count(db, VitalSign) == 0

    elder = await api.sign_in(ELDER)
    refused = await api.op("app/SetVitalLimits", {"heartLow": 50, "heartHigh": 140, "oxygenLow": 92}, elder)
    assert refused["data"]["setVitalLimits"]["code"] == "NO_HEALTH_CONSENT"
    await api.op("app/GiveHealthConsent", {"scope": "VITALS"}, elder)
    limits = (await api.op("app/VitalLimits", {}, elder))["data"]["vitalLimits"]
    assert limits == {"consented": True, "heartLow": 45, "heartHigh": 120, "oxygenLow": 90, "own": False}

    calm = await post(api, {**reading, "event_id": "v-2", "value": 80})
    assert calm.json() == {"accepted": True, "judged": True, "outOfRange": False}
    assert await count(db, VitalSign) == 0  # in range: judged and dropped

    high = await post(api, {**reading, "event_id": "v-3", "value": 135})
    assert high.json() == {"accepted": True, "judged": True, "outOfRange": True}
    again = await post(api, {**reading, "event_id": "v-4", "value": 138})
    assert again.json()["outOfRange"] is True
    await api.settle()
    told = [t for t in await texts_of(api, ELDER) if "心率" in t]
    # One ladder a day per sign, however many readings, never an alarm.
    assert told == ["平安报：手环测到心率135次/分，高于设定的120，您还好吗？您好的话，按一下“我很好”。"], told
    assert (await api.op("staff/OpenEmergencies", {}, await api.sign_in(GRID_WORKER)))["data"]["openEmergencies"] == []
    await run_due_jobs(api, db, STEP)  # the call
    await run_due_jobs(api, db, STEP)  # family
    family = [t for t in await texts_of(api, FAMILY) if "心率" in t]
    assert family == ["黎文华的手环测到心率135次/分，高于设定的120，已经提醒过、打过电话。请您联系一下。"], family
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, await api.sign_in(GRID_WORKER))
    assert [(m["name"], m["kind"]) for m in listed["data"]["missedCheckIns"]] == [("黎文华", "vitals:heart_rate")]

    # The grid worker rings her: she is fine. The ladder stops though she has no check-in plan.
    elder_id = (await api.op("app/Me", {}, elder))["data"]["me"]["id"]
    rang = await api.op(
        "staff/RecordVisit",
        {"personId": elder_id, "kind": "call", "how": "well", "note": "刚爬完楼梯"},
        await api.sign_in(GRID_WORKER),
    )
    assert rang["data"]["recordVisit"]["checkedIn"] is True
    await api.settle()
    assert "黎文华已经报平安了（赵晓燕看到了，说很好）。" in await texts_of(api, FAMILY)
    listed = await api.op("staff/MissedCheckIns", {"communityId": "1"}, await api.sign_in(GRID_WORKER))
    assert listed["data"]["missedCheckIns"] == []

    # Staff read the readings out of range: logged. Her own limits make 135 normal for her.
    signs = (await api.op("app/VitalSigns", {"personId": elder_id}, await api.sign_in(GRID_WORKER)))["data"]
    assert [(s["kind"], s["value"], s["side"], s["limit"]) for s in signs["vitalSigns"]] == [
        ("heart_rate", 138, "high", 120),
        ("heart_rate", 135, "high", 120),
    ]
    assert ("赵晓燕", "vitals") in await log_of(api)
    son = await api.op(
        "app/SetVitalLimits",
        {"personId": elder_id, "heartLow": 50, "heartHigh": 140, "oxygenLow": 92},
        await api.sign_in(FAMILY),
    )
    assert son["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")  # no manage_settings
    bad = await api.op("app/SetVitalLimits", {"heartLow": 150, "heartHigh": 140, "oxygenLow": 92}, elder)
    assert bad["data"]["setVitalLimits"]["code"] == "INVALID_INPUT"
    own = await api.op("app/SetVitalLimits", {"heartLow": 50, "heartHigh": 140, "oxygenLow": 92}, elder)
    assert own["data"]["setVitalLimits"] == {
        "__typename": "VitalLimitsView",
        "heartLow": 50,
        "heartHigh": 140,
        "oxygenLow": 92,
        "own": True,
    }
    fine = await post(api, {**reading, "event_id": "v-5", "value": 135})
    assert fine.json()["outOfRange"] is False
    low = await post(api, {"device_id": "BAND-0001", "kind": "blood_oxygen", "event_id": "v-6", "value": 91})
    assert low.json()["outOfRange"] is True

    # A reading no band could make is refused; withdrawing erases the readings and her limits.
    broken = await post(api, {**reading, "event_id": "v-7", "value": 900})
    assert broken.status_code == 400
    await api.op("app/WithdrawHealthConsent", {"scope": "VITALS"}, elder)
    assert await count(db, VitalSign) == 0
    limits = (await api.op("app/VitalLimits", {}, elder))["data"]["vitalLimits"]
    assert limits == {"consented": False, "heartLow": 45, "heartHigh": 120, "oxygenLow": 90, "own": False}
    await api.settle()
    assert await count(db, MissedCheckIn) == 2  # the alerts stay, their readings gone


async def test_where_the_community_says_so_a_reading_out_of_range_is_an_alarm(
    tmp_path: Path, db: Database, people: dict[str, int]
) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", content)
    policy = json.loads((content / "health" / "vitals.json").read_text("utf-8"))
    policy["communities"] = {"xingfu": {"out_of_range": "alarm"}}
    (content / "health" / "vitals.json").write_text(json.dumps(policy), "utf-8")
    app, rt = await start_app(
        make_settings(tmp_path, db.url, sos_vendor_secrets={"demo-band": SECRET}, content_dir=content)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client, rt)
        await api.op("app/GiveHealthConsent", {"scope": "VITALS"}, await api.sign_in(ELDER))
        low = await post(api, {"device_id": "BAND-0001", "kind": "blood_oxygen", "event_id": "o-1", "value": 84})
        assert low.json()["new"] is True
        await api.settle()
        worker = await api.sign_in(GRID_WORKER)
        alarm = await api.op("app/Emergency", {"id": str(low.json()["alert_id"])}, worker)
        assert alarm["data"]["emergency"]["source"] == "VITALS"
        assert any("的手环测到心率或血氧超出设定范围" in t for t in await texts_of(api, GRID_WORKER))
        assert await count(db, MissedCheckIn) == 0
    await rt.close()
