"""A set-top box pairs with a home: code on screen, approval in the app, token to the box."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import func, select

from backend.auth.models import TvCodeTry
from tests.conftest import ELDER, FAMILY, FAMILY_2, Api, Database, in_process, make_settings

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


async def test_an_old_device_code_gives_nothing_once_the_box_was_unpaired_and_paired_by_another_home(
    api: Api, people: dict[str, int]
) -> None:
    # Given: someone asks for a code with a box's serial, approves it into her own home,
    # never collects the token, and unpairs the box.
    neighbour = await api.sign_in("+8613800000002")
    stale = await start(api, "STB-STALE")
    paired = await api.op("app/ApproveTvDevice", {"userCode": stale["user_code"]}, neighbour)
    device_id = paired["data"]["approveTvDevice"]["id"]
    assert (await api.op("app/UnpairTvDevice", {"deviceId": device_id}, neighbour))["data"]["unpairTvDevice"][
        "__typename"
    ] == "TvDeviceUnpaired"

    # When: the real box is paired by the elder's home, and the old device code is redeemed.
    elder = await api.sign_in(ELDER)
    real = await start(api, "STB-STALE")
    await api.op("app/ApproveTvDevice", {"userCode": real["user_code"]}, elder)
    status, body = await poll(api, stale["device_code"])

    # Then: no token for the elder's home; the box's own code still works.
    assert status == 400 and body == {"error": "invalid_grant"}
    status, body = await poll(api, real["device_code"])
    assert status == 200
    home = await api.op("tv/TvHome", {}, body["access_token"])
    assert home["data"]["home"]["community"]["name"] == "幸福社区"


async def test_pairing_again_voids_the_code_approved_before(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    first = await start(api, "STB-TWICE")
    await api.op("app/ApproveTvDevice", {"userCode": first["user_code"]}, elder)
    second = await start(api, "STB-TWICE")
    await api.op("app/ApproveTvDevice", {"userCode": second["user_code"]}, elder)

    status, body = await poll(api, first["device_code"])
    assert status == 400 and body["error"] == "invalid_grant"
    status, _ = await poll(api, second["device_code"])
    assert status == 200


async def test_an_approved_code_not_collected_in_time_expires(tmp_path: Path, db: Database, people: dict) -> None:
    async with in_process(make_settings(tmp_path, db.url, tv_grant_ttl_s=1)) as api:
        grant = await start(api, "STB-LATE")
        elder = await api.sign_in(ELDER)
        approved = await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, elder)
        assert approved["data"]["approveTvDevice"]["__typename"] == "TvDevice"
        await asyncio.sleep(1.2)
        status, body = await poll(api, grant["device_code"])
        assert status == 400 and body["error"] == "expired_token"
        status, body = await poll(api, grant["device_code"])
        assert body["error"] == "invalid_grant"


APPROVE_MANY = (
    "mutation Guess("
    + ", ".join(f"$c{i}: String!" for i in range(15))
    + ") {"
    + " ".join(
        f"g{i}: approveTvDevice(userCode: $c{i}) {{ __typename ... on UserError {{ code }} }}" for i in range(15)
    )
    + "}"
)


async def test_wrong_pairing_codes_are_limited_per_account_and_one_pairing_per_request(api: Api, db: Database) -> None:
    neighbour = await api.sign_in("+8613800000002")
    # Fifteen guesses in one request: the first is tried, the others are refused unread.
    guessed = await api.gql(APPROVE_MANY, {f"c{i}": f"{10_000_000 + i}" for i in range(15)}, neighbour)
    codes = [guessed["data"][f"g{i}"].get("code") for i in range(15)]
    assert codes == ["INVALID_DEVICE_CODE"] + ["RATE_LIMITED"] * 14
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(TvCodeTry)) == 1

    for i in range(9):
        wrong = await api.op("app/ApproveTvDevice", {"userCode": f"2000 000{i}"}, neighbour)
        assert wrong["data"]["approveTvDevice"]["code"] == "INVALID_DEVICE_CODE"
    # The eleventh try in the hour is refused, even with a real code, and says when to try again.
    grant = await start(api, "STB-GUESSED")
    refused = await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, neighbour)
    assert refused["data"]["approveTvDevice"]["code"] == "RATE_LIMITED"
    assert re.fullmatch(r"操作太频繁，请\d+秒后再试。", refused["data"]["approveTvDevice"]["message"])
    status, body = await poll(api, grant["device_code"])
    assert body["error"] == "authorization_pending"
    # Someone else, from another account, still pairs.
    elder = await api.sign_in(ELDER)
    ok = await api.op("app/ApproveTvDevice", {"userCode": grant["user_code"]}, elder)
    assert ok["data"]["approveTvDevice"]["__typename"] == "TvDevice"


async def test_an_address_asking_for_too_many_codes_is_told_to_slow_down(
    tmp_path: Path, db: Database, people: dict
) -> None:
    async with in_process(make_settings(tmp_path, db.url, tv_codes_per_ip_per_hour=3)) as api:
        for i in range(3):
            assert (await api.client.post("/tv/device/code", data={"serial": f"STB-{i}"})).status_code == 200
        refused = await api.client.post("/tv/device/code", data={"serial": "STB-9"})
        assert refused.status_code == 429
        assert refused.json()["error"] == "slow_down" and int(refused.headers["retry-after"]) > 0


async def test_codes_sessions_and_pairings_go_a_day_after_they_served(api: Api, db: Database) -> None:
    import datetime as dt

    from backend.auth.models import LoginCode, RefreshToken, TvDeviceGrant
    from backend.db import transaction, utcnow
    from backend.jobs import schedule, standing_key
    from tests.conftest import run_due_jobs

    await api.sign_in(ELDER)
    grant = await start(api, "STB-OLD")
    await api.op("app/ApproveTvDevice", {"userCode": "1234 5678"}, await api.sign_in(ELDER))  # a wrong code
    long_ago = utcnow() - dt.timedelta(days=2)
    async with transaction(db.factory) as session:
        for model, column in ((LoginCode, "expires_at"), (RefreshToken, "expires_at"), (TvDeviceGrant, "expires_at")):
            for row in (await session.execute(select(model))).scalars():
                setattr(row, column, long_ago)
        for tried in (await session.execute(select(TvCodeTry))).scalars():
            tried.at = long_ago
        await schedule(session, "auth.prune", utcnow(), key=standing_key("auth.prune"))
    await run_due_jobs(api, db, ("auth.prune",))
    async with db.factory() as session:
        for model in (LoginCode, RefreshToken, TvDeviceGrant, TvCodeTry):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model
    assert grant["device_code"]
