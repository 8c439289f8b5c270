"""A set-top box pairs with a home: code on screen, approval in the app, token to the box."""

from __future__ import annotations

import re

from tests.conftest import ELDER, FAMILY, FAMILY_2, Api

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def start(api: Api, serial: str = "STB-0001") -> dict:
    response = await api.client.post("/tv/device/code", data={"serial": serial})
    assert response.status_code == 200
    return response.json()


async def poll(api: Api, device_code: str) -> tuple[int, dict]:
    response = await api.client.post("/tv/device/token", data={"grant_type": GRANT, "device_code": device_code})
    return response.status_code, response.json()


async def test_an_elder_pairs_their_tv_and_the_tv_shows_their_home(api: Api) -> None:
    grant = await start(api)
    assert re.fullmatch(r"\d{4} \d{4}", grant["user_code"])
    assert grant["interval"] >= 1 and grant["expires_in"] == 600

    status, body = await poll(api, grant["device_code"])
    assert status == 400 and body["error"] == "authorization_pending"
    status, body = await poll(api, grant["device_code"])
    assert body["error"] == "slow_down"  # polling faster than asked

    elder = await api.sign_in(ELDER)
    approved = await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, elder)
    tv = approved["data"]["approveTvDevice"]
    assert tv["__typename"] == "TvDevice" and tv["householdAddress"].startswith("幸福街道")

    status, body = await poll(api, grant["device_code"])
    assert status == 200 and body["token_type"] == "Bearer"
    home = await api.op("tv/TvHome", {}, body["access_token"])
    assert home["data"]["home"]["community"]["name"] == "幸福社区"
    assert home["data"]["home"]["buttons"][0]["label"] == "紧急呼叫"

    # The device code works once.
    status, body = await poll(api, grant["device_code"])
    assert status == 400 and body["error"] == "invalid_grant"


async def test_a_daughter_far_away_pairs_her_mothers_tv_only_with_manage_settings(
    api: Api, people: dict[str, int]
) -> None:
    grant = await start(api, "STB-0003")
    # FAMILY has order_for, receive_alerts, view_wellbeing: not manage_settings.
    child = await api.sign_in(FAMILY)
    refused = await api.op(
        "app/ApproveTvDevice", {"userCode": grant["user_code"], "elderId": str(people[ELDER])}, child
    )
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    status, body = await poll(api, grant["device_code"])
    assert body["error"] == "authorization_pending"

    with_scope = await api.sign_in("+8613900000003")
    ok = await api.op(
        "app/ApproveTvDevice", {"userCode": grant["user_code"], "elderId": str(people["+8613800000003"])}, with_scope
    )
    assert ok["data"]["approveTvDevice"]["__typename"] == "TvDevice"
    # Someone else's elder: no link, no pairing.
    other = await api.sign_in(FAMILY_2)
    grant2 = await start(api, "STB-0004")
    nope = await api.op("app/ApproveTvDevice", {"userCode": grant2["user_code"], "elderId": str(people[ELDER])}, other)
    assert nope["data"]["approveTvDevice"]["code"] == "NOT_FOUND"


async def test_a_wrong_or_expired_code_is_explained(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    result = await api.op("app/ApproveTvDevice", {"userCode": "0000 0000"}, elder)
    assert result["data"]["approveTvDevice"]["code"] == "INVALID_DEVICE_CODE"
    assert "电视" in result["data"]["approveTvDevice"]["message"]


async def test_someone_without_a_home_cannot_pair(api: Api) -> None:
    grant = await start(api, "STB-0009")
    family = await api.sign_in(FAMILY)  # lives in another city: no household here
    result = await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, family)
    assert result["data"]["approveTvDevice"]["code"] == "NO_HOUSEHOLD"


async def test_the_token_endpoint_speaks_rfc_8628_errors(api: Api) -> None:
    response = await api.client.post("/tv/device/token", data={"grant_type": "password"})
    assert response.json()["error"] == "unsupported_grant_type"
    response = await api.client.post("/tv/device/token", data={"grant_type": GRANT, "device_code": "nope"})
    assert response.json()["error"] == "invalid_grant"
    response = await api.client.post("/tv/device/code", data={"serial": ""})
    assert response.json()["error"] == "invalid_request"


async def test_a_paired_tv_cannot_be_taken_over_by_another_home(api: Api, people: dict[str, int]) -> None:
    # Given: the elder's TV is paired with her home.
    grant = await start(api, "STB-VICTIM")
    elder = await api.sign_in(ELDER)
    await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, elder)
    _, body = await poll(api, grant["device_code"])
    victim_tv = body["access_token"]

    # When: another resident asks for a code with the same serial and approves it.
    attacker = await api.sign_in("+8613800000002")
    second = await start(api, "STB-VICTIM")
    result = await api.op("app/ApproveTvDevice", {"userCode": second["user_code"]}, attacker)

    # Then: refused in plain words, and the box still shows (and raises alarms for) its own home.
    assert result["data"]["approveTvDevice"]["code"] == "TV_PAIRED_ELSEWHERE"
    assert "解除绑定" in result["data"]["approveTvDevice"]["message"]
    status, body = await poll(api, second["device_code"])
    assert body["error"] == "authorization_pending"
    home = await api.op("tv/TvHome", {}, victim_tv)
    assert home["data"]["home"]["community"]["name"] == "幸福社区"
    mine = await api.op("app/TvDevices", {}, elder)
    assert [d["serial"] for d in mine["data"]["tvDevices"]] == ["STB-VICTIM"]
    assert (await api.op("app/TvDevices", {}, attacker))["data"]["tvDevices"] == []


async def test_a_tv_moves_only_after_its_home_unpairs_it(api: Api, people: dict[str, int]) -> None:
    grant = await start(api, "STB-MOVING")
    elder = await api.sign_in(ELDER)
    paired = await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, elder)
    device_id = paired["data"]["approveTvDevice"]["id"]
    _, body = await poll(api, grant["device_code"])
    old_token = body["access_token"]

    # Someone else cannot unpair it (the same answer as for a box that does not exist).
    neighbour = await api.sign_in("+8613800000002")
    refused = await api.op("app/UnpairTvDevice", {"deviceId": device_id}, neighbour)
    assert refused["data"]["unpairTvDevice"]["code"] == "NOT_FOUND"

    done = await api.op("app/UnpairTvDevice", {"deviceId": device_id}, elder)
    assert done["data"]["unpairTvDevice"] == {"__typename": "TvDeviceUnpaired", "id": device_id, "serial": "STB-MOVING"}
    gone = await api.op("tv/TvHome", {}, old_token)
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # Now the neighbour may pair it; the token of the first pairing stays dead.
    again = await start(api, "STB-MOVING")
    moved = await api.op("app/ApproveTvDevice", {"userCode": again["user_code"]}, neighbour)
    assert moved["data"]["approveTvDevice"]["__typename"] == "TvDevice"
    _, body = await poll(api, again["device_code"])
    assert (await api.op("tv/TvHome", {}, body["access_token"]))["data"]["home"]["community"]["name"] == "幸福社区"
    still_gone = await api.op("tv/TvHome", {}, old_token)
    assert still_gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
