"""Ordering from the community shop and canteen: stock, money and the order move together."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.commerce.models import Order, OrderEvent
from tests.conftest import ELDER, FAMILY, GRID_WORKER, SERVICE_CENTRE, Api, Database

SHOP_STAFF = "+8613600000002"  # 邻里便民超市


@pytest.fixture(autouse=True)
def nine_in_the_morning(local_clock: Any) -> Any:
    """Shops open (08:00–21:00), lunch (until 10:00) and dinner (until 15:30) still taking orders."""
    local_clock("09:00")
    return local_clock


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
    # The same key for different content is not a replay: refused, nothing bought.
    other = [{"productCode": "rice-5kg", "quantity": 2}]
    reused = await order(api, FAMILY, other, personId=father, payFrom="ME", idempotencyKey=key)
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED" and reused["field"] == "idempotencyKey"
    assert "另一份不同的订单" in reused["message"] and await balance(api, FAMILY) == 10_000 - 6500
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


async def test_todays_menu_shows_each_meal_its_cut_off_and_portions(api: Api, nine_in_the_morning: Any) -> None:
    menu = (await api.op("app/TodayMenu", {}, await api.sign_in(ELDER)))["data"]["todayMenu"]
    lunch = next(m for m in menu if m["meal"] == "lunch")
    assert lunch["merchantName"] == "幸福长者食堂" and lunch["mealName"] == "午餐" and lunch["orderBefore"] == "10:00"
    assert lunch["open"] and {d["productCode"]: d["portionsLeft"] for d in lunch["dishes"]} == {
        "lunch-set-a": 40,
        "lunch-set-soft": 20,
    }
    await fill(api, SERVICE_CENTRE, 5000, person=await me(api, ELDER), method="CASH")
    assert (await order(api, ELDER, [{"productCode": "lunch-set-a", "quantity": 2}]))["__typename"] == "CommerceOrder"
    after = (await api.op("app/TodayMenu", {}, await api.sign_in(ELDER)))["data"]["todayMenu"]
    assert next(m for m in after if m["meal"] == "lunch")["dishes"][0]["portionsLeft"] == 38

    nine_in_the_morning("10:30")  # past lunch's cut-off: the kitchen is cooking what was ordered
    api.tokens.clear()  # the morning's sign-ins have expired
    late = (await api.op("app/TodayMenu", {}, await api.sign_in(ELDER)))["data"]["todayMenu"]
    assert [m["open"] for m in late] == [False, True]  # lunch closed, dinner still open
    refused = await order(api, ELDER, [{"productCode": "lunch-set-a", "quantity": 1}])
    assert refused["__typename"] == "OrderingClosedError" and "预订时间" in refused["message"]
    dinner = await order(api, ELDER, [{"productCode": "dinner-noodles", "quantity": 1}])
    assert dinner["__typename"] == "CommerceOrder" and await balance(api, ELDER) == 5000 - 2400 - 800


async def test_a_shop_shows_its_hours_and_takes_no_orders_when_closed(api: Api, nine_in_the_morning: Any) -> None:
    await fill(api, SERVICE_CENTRE, 5000, person=await me(api, ELDER), method="CASH")
    shops = (await api.op("app/Shops", {}, await api.sign_in(ELDER)))["data"]["shops"]
    shop = next(s for s in shops if s["code"] == "linli-shop")
    assert shop["openNow"] and (shop["opens"], shop["closes"]) == ("08:00", "21:00")
    assert {g["productCode"]: (g["unit"], g["left"]) for g in shop["goods"]} == {
        "rice-5kg": ("袋", 20),
        "eggs-15": ("盒", 30),
        "milk-1l": ("盒", 3),
    }
    nine_in_the_morning("21:30")
    api.tokens.clear()  # the morning's sign-ins have expired
    shop = next(
        s
        for s in (await api.op("app/Shops", {}, await api.sign_in(ELDER)))["data"]["shops"]
        if s["code"] == "linli-shop"
    )
    assert not shop["openNow"]
    closed = await order(api, ELDER, [{"productCode": "rice-5kg", "quantity": 1}])
    assert closed["__typename"] == "MerchantClosedError" and (closed["opens"], closed["closes"]) == ("08:00", "21:00")
    assert closed["message"] == "邻里便民超市现在没有营业，营业时间是08:00到21:00。"
    assert await balance(api, ELDER) == 5000


async def test_the_shop_sends_out_and_hands_over_and_the_daughter_is_told(api: Api, db: Database) -> None:
    father = await me(api, ELDER)
    await fill(api, FAMILY, 10_000)
    placed = await order(api, FAMILY, [{"productCode": "rice-5kg", "quantity": 1}], personId=father, payFrom="ME")
    shop = await api.sign_in(SHOP_STAFF)
    waiting = (await api.op("staff/MerchantOrders", {}, shop))["data"]["merchantOrders"]
    assert [(o["id"], o["address"]) for o in waiting] == [(placed["id"], waiting[0]["address"])]
    assert "幸福社区" in waiting[0]["address"]
    stranger = await api.op("staff/DispatchOrder", {"orderId": placed["id"]}, await api.sign_in(GRID_WORKER))
    assert stranger["data"]["dispatchOrder"]["code"] == "NOT_FOUND"  # not their shop
    early = await api.op("staff/DeliverOrder", {"orderId": placed["id"]}, shop)
    assert early["data"]["deliverOrder"]["code"] == "ORDER_CLOSED"  # not sent out yet

    sent = (await api.op("staff/DispatchOrder", {"orderId": placed["id"]}, shop))["data"]["dispatchOrder"]
    assert sent["status"] == "DISPATCHED" and sent["dispatchedAt"]
    too_late = await api.op("app/CancelOrder", {"orderId": placed["id"]}, await api.sign_in(FAMILY))
    refused = too_late["data"]["cancelOrder"]
    assert refused["code"] == "ORDER_CLOSED" and refused["message"] == "这张订单已经送出，不能再这样改了。"
    await api.settle()
    assert "已经送出" in await api.last_sms(FAMILY)

    done = (await api.op("staff/DeliverOrder", {"orderId": placed["id"]}, shop))["data"]["deliverOrder"]
    assert done["status"] == "DELIVERED" and done["deliveredAt"]
    await api.settle()
    assert "邻里便民超市的订单（大米5公斤×1）已经送到" in await api.last_sms(FAMILY)
    assert (await api.op("staff/MerchantOrders", {}, shop))["data"]["merchantOrders"] == []
    mine = (await api.op("app/MyOrders", {"personId": father}, await api.sign_in(FAMILY)))["data"]["myOrders"]
    assert mine[0]["status"] == "DELIVERED" and await balance(api, FAMILY) == 10_000 - 3500
    async with db.factory() as session:
        kinds = (await session.execute(select(OrderEvent.kind).order_by(OrderEvent.id))).scalars().all()
    assert kinds == ["placed", "dispatched", "delivered"]


async def test_the_father_declines_what_his_daughter_ordered_and_her_money_comes_back(api: Api) -> None:
    father = await me(api, ELDER)
    await fill(api, FAMILY, 10_000)
    placed = await order(api, FAMILY, [{"productCode": "eggs-15", "quantity": 2}], personId=father, payFrom="ME")
    assert await balance(api, FAMILY) == 7000
    declined = await api.op(
        "app/CancelOrder", {"orderId": placed["id"], "reason": "家里还有鸡蛋"}, await api.sign_in(ELDER)
    )
    assert declined["data"]["cancelOrder"]["status"] == "CANCELLED"
    assert declined["data"]["cancelOrder"]["cancelReason"] == "家里还有鸡蛋"
    assert await balance(api, FAMILY) == 10_000  # back to whoever paid
    await api.settle()
    told = await api.last_sms(FAMILY)
    assert "不需要邻里便民超市的这份订单（鸡蛋15个×2），已取消，钱已退回。原因：家里还有鸡蛋" in told
