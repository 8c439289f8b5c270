"""积分: a garbage-sorting station and the volunteer platform report what residents did; the
elder spends the points on goods at the community shop. Nothing unproven earns anything."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.db import transaction
from backend.signed_requests import sign
from backend.wallet import ledger
from backend.wallet.models import AccountKind
from tests.conftest import ELDER, FAMILY, Api, Database, make_settings, start_app

SECRETS = {
    "xingfu-garbage-station-1": "station-secret",
    "volunteer-platform": "volunteer-secret",
    "heping-garbage-station-1": "heping-secret",
}
HER_CARD = "8800000000000001"


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Api]:
    local_clock("09:00")  # the shop is open
    settings = make_settings(tmp_path, db.url, points_source_secrets=SECRETS)
    app, rt = await start_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, rt)
    await rt.close()


async def report(
    api: Api, body: dict[str, Any], *, source: str = "xingfu-garbage-station-1", **how: Any
) -> httpx.Response:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()) - how.get("age_s", 0))
    return await api.client.post(
        "/integrations/points",
        content=raw,
        headers={
            "content-type": "application/json",
            "x-linli-source": source,
            "x-linli-timestamp": timestamp,
            "x-linli-signature": sign(how.get("secret", SECRETS.get(source, "none")), timestamp, raw),
        },
    )


async def points(api: Api, phone: str = ELDER) -> tuple[int, list[tuple[int, str]]]:
    wallet = (await api.op("app/Wallet", {}, await api.sign_in(phone)))["data"]["wallet"]
    return wallet["points"], [(e["points"], e["label"]) for e in wallet["pointsEntries"]]


async def redeem(api: Api, product: str, phone: str = ELDER, **more: Any) -> dict[str, Any]:
    variables = {
        "items": [{"productCode": product, "quantity": 1}],
        "idempotencyKey": uuid.uuid4().hex,
        "payWith": "POINTS",
        **more,
    }
    result = await api.op("app/PlaceOrder", variables, await api.sign_in(phone))
    assert "errors" not in result, result
    return result["data"]["placeOrder"]


async def test_sorting_garbage_earns_points_once_per_report_up_to_the_days_cap(api: Api) -> None:
    first = await report(api, {"event_id": "bin-1", "kind": "garbage_sorting", "card": "8800 0000 0000 0001"})
    assert first.json() == {"accepted": True, "new": True, "points": 2, "balance": 2}
    resent = await report(api, {"event_id": "bin-1", "kind": "garbage_sorting", "card": HER_CARD})
    assert resent.json() == {"accepted": True, "new": False, "points": 2, "balance": 2}  # the station retried
    for n in (2, 3, 4):
        last = await report(api, {"event_id": f"bin-{n}", "kind": "garbage_sorting", "card": HER_CARD})
    assert last.json() == {"accepted": True, "new": True, "points": 0, "balance": 6}  # 6 a day at most
    volunteered = await report(
        api,
        {"event_id": "shift-7", "kind": "volunteer_hours", "phone": ELDER, "quantity": 3},
        source="volunteer-platform",
    )
    assert volunteered.json()["points"] == 30
    balance, entries = await points(api)
    assert balance == 36 and entries == [(30, "志愿服务"), (2, "垃圾分类"), (2, "垃圾分类"), (2, "垃圾分类")]


@pytest.mark.parametrize(
    ("body", "how", "status"),
    [
        ({"event_id": "x-1", "kind": "garbage_sorting", "card": HER_CARD}, {"secret": "guessed"}, 401),
        ({"event_id": "x-2", "kind": "garbage_sorting", "card": HER_CARD}, {"source": "my-own-bin"}, 401),
        ({"event_id": "x-3", "kind": "garbage_sorting", "card": HER_CARD}, {"age_s": 301}, 401),
        ({"event_id": "x-4", "kind": "garbage_sorting", "card": "9999999999"}, {}, 404),
        # A station in 和平社区 cannot award a 幸福社区 resident; a bin cannot report volunteering.
        ({"event_id": "x-5", "kind": "garbage_sorting", "card": HER_CARD}, {"source": "heping-garbage-station-1"}, 404),
        ({"event_id": "x-6", "kind": "volunteer_hours", "card": HER_CARD}, {}, 422),
        (
            {"event_id": "x-7", "kind": "volunteer_hours", "phone": ELDER, "quantity": 9},
            {"source": "volunteer-platform"},
            422,
        ),
        ({"kind": "garbage_sorting", "card": HER_CARD}, {}, 400),
    ],
)
async def test_anything_unproven_or_out_of_bounds_earns_nothing(
    api: Api, body: dict[str, Any], how: dict[str, Any], status: int
) -> None:
    refused = await report(api, body, **how)
    assert refused.status_code == status and refused.json()["accepted"] is False
    assert await points(api) == (0, [])


async def test_the_same_event_id_for_another_resident_is_refused(api: Api) -> None:
    await report(api, {"event_id": "bin-9", "kind": "garbage_sorting", "card": HER_CARD})
    other = await report(api, {"event_id": "bin-9", "kind": "garbage_sorting", "card": "8800000000000002"})
    assert other.status_code == 422 and await points(api) == (2, [(2, "垃圾分类")])


async def test_the_elder_redeems_points_for_eggs_and_gets_them_back_on_cancelling(api: Api) -> None:
    await report(
        api,
        {"event_id": "shift-1", "kind": "volunteer_hours", "phone": ELDER, "quantity": 8},
        source="volunteer-platform",
    )
    money_before = (await api.op("app/Wallet", {}, await api.sign_in(ELDER)))["data"]["wallet"]["balanceFen"]
    shop = (await api.op("app/Shops", {}, await api.sign_in(ELDER)))["data"]["shops"]
    goods = {g["productCode"]: g for s in shop for g in s["goods"]}
    assert goods["eggs-15"]["pointsPrice"] == 60 and goods["milk-1l"]["pointsPrice"] is None
    eggs = await redeem(api, "eggs-15")
    assert (eggs["totalPoints"], eggs["totalFen"], eggs["lines"][0]["unitPoints"]) == (60, 0, 60)
    assert (await points(api))[0] == 20
    wallet = (await api.op("app/Wallet", {}, await api.sign_in(ELDER)))["data"]["wallet"]
    assert wallet["balanceFen"] == money_before  # points are not money
    short = await redeem(api, "eggs-15")
    assert short["code"] == "NOT_ENOUGH_POINTS" and (short["balance"], short["needed"]) == (20, 60)
    assert "积分不够" in short["message"]
    milk = await redeem(api, "milk-1l")
    assert milk["code"] == "INVALID_INPUT" and "不能用积分兑换" in milk["message"]
    cancelled = await api.op("app/CancelOrder", {"orderId": eggs["id"]}, await api.sign_in(ELDER))
    assert cancelled["data"]["cancelOrder"]["status"] == "CANCELLED"
    balance, entries = await points(api)
    assert balance == 80 and entries == [(60, "兑换取消，积分退回"), (-60, "积分兑换"), (80, "志愿服务")]
    await api.settle()


async def test_family_cannot_spend_the_elders_points_unless_she_allowed_her_wallet(api: Api) -> None:
    await report(
        api,
        {"event_id": "shift-2", "kind": "volunteer_hours", "phone": ELDER, "quantity": 8},
        source="volunteer-platform",
    )
    mother = str((await api.op("app/Me", {}, await api.sign_in(ELDER)))["data"]["me"]["id"])
    refused = await redeem(api, "eggs-15", FAMILY, personId=mother)
    assert refused["code"] == "INVALID_INPUT" and refused["field"] == "payFrom"
    assert (await points(api))[0] == 80


async def test_a_movement_never_mixes_points_and_money(db: Database, people: dict[str, int]) -> None:
    async with transaction(db.factory) as session:
        mine = await ledger.account(session, ledger.points_key(people[ELDER]), AccountKind.POINTS)
        issued = await ledger.account(session, ledger.points_issued_key(1), AccountKind.POINTS_ISSUED)
        wallet = await ledger.account(session, ledger.wallet_key(people[ELDER]), AccountKind.WALLET)
        await ledger.post(session, kind="points_earned", legs=[(issued, -5), (mine, 5)])
        with pytest.raises(ValueError, match="never two"):
            await ledger.post(session, kind="payment", legs=[(mine, -5), (wallet, 5)])
        # Nor minutes of the time bank with points.
        hours = await ledger.account(session, ledger.time_key(people[ELDER]), AccountKind.TIME)
        with pytest.raises(ValueError, match="never two"):
            await ledger.post(session, kind="time_gift", legs=[(mine, -5), (hours, 5)])
