"""Family paying from the elder's own wallet: only if the elder allowed it, and no more a
month than the limit the elder set, which both of them see."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import ELDER, FAMILY, SERVICE_CENTRE, Api

pytestmark = pytest.mark.usefixtures("shop_open")


@pytest.fixture
def shop_open(local_clock: Any) -> None:
    local_clock("09:00")


async def link_of(api: Api, phone: str) -> dict[str, Any]:
    links = (await api.op("app/FamilyLinks", {}, await api.sign_in(phone)))["data"]["familyLinks"]["nodes"]
    return next(link for link in links if link["status"] == "ACTIVE")


async def order_eggs(api: Api, father: str, quantity: int) -> dict[str, Any]:
    variables = {
        "items": [{"productCode": "eggs-15", "quantity": quantity}],
        "idempotencyKey": uuid.uuid4().hex,
        "personId": father,
        "payFrom": "BENEFICIARY",
    }
    return dict((await api.op("app/PlaceOrder", variables, await api.sign_in(FAMILY)))["data"]["placeOrder"])


async def test_the_father_lets_his_daughter_spend_from_his_wallet_up_to_a_monthly_limit(api: Api) -> None:
    father = str((await api.op("app/Me", {}, await api.sign_in(ELDER)))["data"]["me"]["id"])
    cash = {"amountFen": 20_000, "method": "CASH", "idempotencyKey": uuid.uuid4().hex, "personId": father}
    await api.op("app/TopUpWallet", cash, await api.sign_in(SERVICE_CENTRE))
    refused = await order_eggs(api, father, 1)
    assert refused["field"] == "payFrom" and "没有允许" in refused["message"]

    link = await link_of(api, ELDER)
    assert (link["elderWalletAllowed"], link["monthlyLimitFen"]) == (False, None)
    theirs = await api.op(
        "app/SetFamilySpending",
        {"linkId": link["id"], "elderWalletAllowed": True, "monthlyLimitFen": None},
        await api.sign_in(FAMILY),
    )
    assert theirs["data"]["setFamilySpending"]["code"] == "NOT_FOUND"  # the daughter cannot allow herself
    bad = await api.op(
        "app/SetFamilySpending",
        {"linkId": link["id"], "elderWalletAllowed": True, "monthlyLimitFen": -1},
        await api.sign_in(ELDER),
    )
    assert bad["data"]["setFamilySpending"]["field"] == "monthlyLimitFen"
    allowed = await api.op(
        "app/SetFamilySpending",
        {"linkId": link["id"], "elderWalletAllowed": True, "monthlyLimitFen": 5000},
        await api.sign_in(ELDER),
    )
    assert allowed["data"]["setFamilySpending"]["monthlyLimitFen"] == 5000

    first = await order_eggs(api, father, 2)  # 30 yuan of his 50 a month
    assert first["__typename"] == "CommerceOrder" and first["placedAs"] == "family"
    over = await order_eggs(api, father, 2)
    assert over["__typename"] == "SpendingLimitReachedError" and over["leftFen"] == 2000
    assert over["message"] == "老人设定每月最多用他的钱包代付50.00元，这个月还剩20.00元。可以改用您自己的钱包付款。"
    seen_by_daughter = await link_of(api, FAMILY)
    assert (seen_by_daughter["monthlyLimitFen"], seen_by_daughter["spentThisMonthFen"]) == (5000, 3000)

    # A cancelled order no longer counts against the month.
    await api.op("app/CancelOrder", {"orderId": first["id"]}, await api.sign_in(FAMILY))
    assert (await link_of(api, ELDER))["spentThisMonthFen"] == 0
    assert (await order_eggs(api, father, 3))["__typename"] == "CommerceOrder"
    wallet = (await api.op("app/Wallet", {}, await api.sign_in(ELDER)))["data"]["wallet"]
    assert wallet["balanceFen"] == 20_000 - 4500
