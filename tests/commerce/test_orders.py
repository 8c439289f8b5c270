"""Ordering from the community shop and canteen: stock, money and the order move together."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from backend.commerce.models import Order
from tests.conftest import ELDER, FAMILY, SERVICE_CENTRE, Api, Database


async def me(api: Api, phone: str) -> str:
    return str((await api.op("app/Me", {}, await api.sign_in(phone)))["data"]["me"]["id"])


async def fill(api: Api, phone: str, amount: int, person: str | None = None, method: str = "ONLINE") -> None:
    result = await api.op(
        "app/TopUpWallet",
        {"amountFen": amount, "method": method, "idempotencyKey": uuid.uuid4().hex, "personId": person},
        await api.sign_in(phone),
    )
    assert result["data"]["topUpWallet"]["__typename"] == "WalletToppedUp", result


async def order(api: Api, phone: str, items: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    variables = {"items": items, "idempotencyKey": uuid.uuid4().hex, **more}
    result = await api.op("app/PlaceOrder", variables, await api.sign_in(phone))
    assert "errors" not in result, result
    return result["data"]["placeOrder"]


async def balance(api: Api, phone: str, person: str | None = None) -> int:
    result = await api.op("app/Wallet", {"personId": person}, await api.sign_in(phone))
    return int(result["data"]["wallet"]["balanceFen"])


async def test_a_daughter_orders_groceries_for_her_father_and_he_is_told(api: Api) -> None:
    father = await me(api, ELDER)
    await fill(api, FAMILY, 10_000)
    lines = [{"productCode": "rice-5kg", "quantity": 1}, {"productCode": "eggs-15", "quantity": 2}]
    key = "groceries-for-dad-1"
    placed = await order(api, FAMILY, lines, personId=father, payFrom="ME", idempotencyKey=key)
    assert placed["__typename"] == "CommerceOrder" and placed["totalFen"] == 3500 + 2 * 1500
    assert placed["placedAs"] == "family" and [line["name"] for line in placed["lines"]] == ["大米5公斤", "鸡蛋15个"]
    again = await order(api, FAMILY, lines, personId=father, payFrom="ME", idempotencyKey=key)
    assert again["id"] == placed["id"] and await balance(api, FAMILY) == 10_000 - 6500
    await api.settle()
    told = await api.last_sms(ELDER)
    assert "为您在邻里便民超市订了：大米5公斤×1、鸡蛋15个×2，共65.00元" in told
    assert "新订单" in await api.last_sms("+8613600000002")  # the shop
    mine = (await api.op("app/MyOrders", {}, await api.sign_in(ELDER)))["data"]["myOrders"]
    assert [o["id"] for o in mine] == [placed["id"]]


async def test_cancelling_before_dispatch_puts_stock_and_money_back(api: Api) -> None:
    await fill(api, SERVICE_CENTRE, 10_000, person=await me(api, ELDER), method="CASH")
    placed = await order(api, ELDER, [{"productCode": "milk-1l", "quantity": 3}])
    assert placed["totalFen"] == 3900 and await balance(api, ELDER) == 6100
    sold_out = await order(api, ELDER, [{"productCode": "milk-1l", "quantity": 1}])
    assert sold_out["__typename"] == "OutOfStockError" and sold_out["left"] == 0 and "不够了" in sold_out["message"]
    cancelled = await api.op("app/CancelOrder", {"orderId": placed["id"]}, await api.sign_in(ELDER))
    assert cancelled["data"]["cancelOrder"]["status"] == "CANCELLED"
    assert await balance(api, ELDER) == 10_000
    back = await order(api, ELDER, [{"productCode": "milk-1l", "quantity": 3}])
    assert back["__typename"] == "CommerceOrder"  # the three are on the shelf again
    twice = await api.op("app/CancelOrder", {"orderId": placed["id"]}, await api.sign_in(ELDER))
    assert twice["data"]["cancelOrder"]["code"] == "ORDER_CLOSED"


async def test_bad_orders_say_why_and_change_nothing(api: Api, db: Database) -> None:
    father = await me(api, ELDER)
    poor = await order(api, ELDER, [{"productCode": "rice-5kg", "quantity": 1}])
    assert poor["__typename"] == "InsufficientFundsError"
    await fill(api, FAMILY, 10_000)
    mixed = [{"productCode": "rice-5kg", "quantity": 1}, {"productCode": "lunch-set-a", "quantity": 1}]
    assert (await order(api, FAMILY, mixed, personId=father, payFrom="ME"))["field"] == "items"
    assert (await order(api, FAMILY, [{"productCode": "rice-5kg", "quantity": 0}], personId=father, payFrom="ME"))[
        "field"
    ] == "quantity"
    theirs = await order(api, FAMILY, [{"productCode": "rice-5kg", "quantity": 1}], personId=father)
    assert theirs["field"] == "payFrom"  # his wallet is his to spend
    assert (await order(api, ELDER, [{"productCode": "no-such-thing", "quantity": 1}]))["code"] == "NOT_FOUND"
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
    assert await balance(api, FAMILY) == 10_000


async def test_twenty_orders_at_once_for_the_last_three_cartons_sell_three(api: Api, db: Database) -> None:
    father = await me(api, ELDER)
    await fill(api, SERVICE_CENTRE, 100_000, person=father, method="CASH")
    await api.sign_in(ELDER)
    results = await asyncio.gather(*(order(api, ELDER, [{"productCode": "milk-1l", "quantity": 1}]) for _ in range(20)))
    kinds = [r["__typename"] for r in results]
    assert kinds.count("CommerceOrder") == 3 and kinds.count("OutOfStockError") == 17
    assert await balance(api, ELDER) == 100_000 - 3 * 1300
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 3


async def test_todays_menu_shows_each_meal_its_cut_off_and_portions(api: Api) -> None:
    menu = (await api.op("app/TodayMenu", {}, await api.sign_in(ELDER)))["data"]["todayMenu"]
    lunch = next(m for m in menu if m["meal"] == "lunch")
    assert lunch["merchantName"] == "幸福长者食堂" and lunch["mealName"] == "午餐" and lunch["orderBefore"] == "10:00"
    assert {d["productCode"]: d["portionsLeft"] for d in lunch["dishes"]} == {"lunch-set-a": 40, "lunch-set-soft": 20}
    dinner = next(m for m in menu if m["meal"] == "dinner")
    await api.op(
        "app/TopUpWallet",
        {"amountFen": 5000, "method": "CASH", "idempotencyKey": uuid.uuid4().hex, "personId": await me(api, ELDER)},
        await api.sign_in(SERVICE_CENTRE),
    )
    meal = await order(api, ELDER, [{"productCode": "dinner-noodles", "quantity": 1}])
    if dinner["open"]:
        assert meal["__typename"] == "CommerceOrder"
        after = (await api.op("app/TodayMenu", {}, await api.sign_in(ELDER)))["data"]["todayMenu"]
        noodles = next(m for m in after if m["meal"] == "dinner")["dishes"][0]
        assert noodles["portionsLeft"] == 29
    else:  # past 15:30 in Shanghai: the canteen is not cooking more for tonight
        assert meal["__typename"] == "OrderingClosedError" and "预订时间" in meal["message"]
