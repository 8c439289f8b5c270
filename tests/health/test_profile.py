"""The emergency profile: health data kept only with the elder's own consent, shown to the
responders of an alarm, and every read logged."""

from __future__ import annotations

from tests.conftest import ELDER, ELDER_2, FAMILY, GRID_WORKER, Api

PROFILE = {
    "conditions": "高血压，房颤",
    "allergies": "青霉素",
    "medicines": "华法林",
    "notes": "独居，备用钥匙在302邻居家",
}


async def test_without_the_elders_consent_nothing_is_kept(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    refused = await api.op("app/UpdateEmergencyProfile", PROFILE, elder)
    assert refused["data"]["updateEmergencyProfile"]["code"] == "NO_HEALTH_CONSENT"
    assert "同意" in refused["data"]["updateEmergencyProfile"]["message"]
    status = (await api.op("app/EmergencyProfile", {}, elder))["data"]["emergencyProfile"]
    assert status == {"consented": False, "consentMethod": None, "profile": None}
    # Family cannot consent for the elder.
    elder_id = (await api.op("app/Me", {}, elder))["data"]["me"]["id"]
    son = await api.op("app/GiveHealthConsent", {"personId": elder_id}, await api.sign_in(FAMILY))
    assert son["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_responders_see_the_profile_during_an_alarm_and_the_elder_sees_who_read_it(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    given = await api.op("app/GiveHealthConsent", {}, elder)
    assert given["data"]["giveHealthConsent"] == {
        "__typename": "HealthProfileStatus",
        "consented": True,
        "consentMethod": "app",
    }
    saved = await api.op("app/UpdateEmergencyProfile", PROFILE, elder)
    assert saved["data"]["updateEmergencyProfile"]["profile"] == PROFILE
    alert_id = (await api.op("app/TriggerEmergency", {}, elder))["data"]["triggerEmergency"]["emergency"]["id"]
    seen = (await api.op("app/Emergency", {"id": alert_id}, await api.sign_in(GRID_WORKER)))["data"]["emergency"]
    assert seen["healthProfile"] == PROFILE
    log = (await api.op("app/HealthAccessLog", {}, elder))["data"]["healthAccessLog"]
    worker_name = (await api.op("app/Me", {}, await api.sign_in(GRID_WORKER)))["data"]["me"]["name"]
    assert {"readerName": worker_name, "purpose": f"alert:{alert_id}"} in [
        {"readerName": e["readerName"], "purpose": e["purpose"]} for e in log
    ]
    # Withdrawing erases the profile at once; responders see nothing more.
    await api.op("app/WithdrawHealthConsent", {}, elder)
    reads_before = len((await api.op("app/HealthAccessLog", {}, elder))["data"]["healthAccessLog"])
    again = (await api.op("app/Emergency", {"id": alert_id}, await api.sign_in(GRID_WORKER)))["data"]["emergency"]
    assert again["healthProfile"] is None
    # The read that found nothing is in the log all the same.
    after = (await api.op("app/HealthAccessLog", {}, elder))["data"]["healthAccessLog"]
    assert len(after) == reads_before + 1
    assert after[0]["readerName"] == worker_name and after[0]["purpose"] == f"alert:{alert_id}"
    status = (await api.op("app/EmergencyProfile", {}, elder))["data"]["emergencyProfile"]
    assert status == {"consented": False, "consentMethod": None, "profile": None}


async def test_staff_record_consent_given_in_person(api: Api) -> None:
    worker = await api.sign_in(GRID_WORKER)
    elder_2 = (await api.op("app/Me", {}, await api.sign_in(ELDER_2)))["data"]["me"]["id"]
    given = await api.op("app/GiveHealthConsent", {"personId": elder_2}, worker)
    assert given["data"]["giveHealthConsent"]["consentMethod"] == "in_person"
    saved = await api.op("app/UpdateEmergencyProfile", {"personId": elder_2, "allergies": "磺胺"}, worker)
    assert saved["data"]["updateEmergencyProfile"]["profile"]["allergies"] == "磺胺"
    too_long = await api.op("app/UpdateEmergencyProfile", {"personId": elder_2, "notes": "长" * 501}, worker)
    assert too_long["data"]["updateEmergencyProfile"]["code"] == "INVALID_INPUT"
    log = (await api.op("app/HealthAccessLog", {}, await api.sign_in(ELDER_2)))["data"]["healthAccessLog"]
    assert log and all(e["readerName"] for e in log)
