"""Booking services near home: for oneself, for a mother from afar, by staff; places and
money move together or not at all."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from backend.db import utcnow
from backend.jobs import Job
from backend.services.models import Booking
from backend.services.service import REMIND
from tests.conftest import ADMIN, ELDER, FAMILY, GRID_WORKER, SERVICE_CENTRE, Api, Database, run_due_jobs

PROVIDER_STAFF = SERVICE_CENTRE  # the service centre runs the bath service
SHOP_STAFF = "+8613600000002"  # 邻里便民超市 runs the errands


async def me(api: Api, phone: str) -> str:
    return str((await api.op("app/Me", {}, await api.sign_in(phone)))["data"]["me"]["id"])


async def fill_wallet(api: Api, phone: str, amount: int, person: str | None = None, method: str = "ONLINE") -> None:
    result = await api.op(
        "app/TopUpWallet",
        {"amountFen": amount, "method": method, "idempotencyKey": uuid.uuid4().hex, "personId": person},
        await api.sign_in(phone),
    )
    assert result["data"]["topUpWallet"]["__typename"] == "WalletToppedUp", result


async def balance(api: Api, phone: str, person: str | None = None) -> int:
    result = await api.op("app/Wallet", {"personId": person}, await api.sign_in(phone))
    return int(result["data"]["wallet"]["balanceFen"])


async def slots(api: Api, phone: str, offering: str, person: str | None = None) -> list[dict[str, Any]]:
    result = await api.op(
        "app/AvailableSlots", {"offeringCode": offering, "personId": person}, await api.sign_in(phone)
    )
    return result["data"]["availableSlots"]


async def book(api: Api, phone: str, offering: str, start: str, **more: Any) -> dict[str, Any]:
    variables = {"offeringCode": offering, "slotStart": start, "idempotencyKey": uuid.uuid4().hex, **more}
    result = await api.op("app/BookService", variables, await api.sign_in(phone))
    assert "errors" not in result, result
    return result["data"]["bookService"]


async def test_a_son_books_a_bath_for_his_mother_from_afar_and_pays_himself(api: Api) -> None:
    mother = await me(api, ELDER)
    menu = (await api.op("app/ServiceCatalog", {"personId": mother}, await api.sign_in(FAMILY)))["data"]
    bath = next(o for o in menu["serviceCatalog"] if o["code"] == "bath-at-home")
    assert bath["categoryName"] == "助浴" and bath["priceFen"] == 3000
    await fill_wallet(api, FAMILY, 5000)
    first = (await slots(api, FAMILY, "bath-at-home", mother))[0]
    assert first["placesLeft"] == 2
    key = "son-books-bath-01"
    booked = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME", idempotencyKey=key)
    assert booked["__typename"] == "ServiceBooking"
    assert (
        booked["status"] == "REQUESTED" and booked["placedAs"] == "family" and booked["address"].startswith("幸福街道")
    )
    again = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME", idempotencyKey=key)
    assert again["id"] == booked["id"]  # a replay books and charges nothing more
    reused = await book(
        api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME", idempotencyKey=key, note="带毛巾"
    )
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"  # same key, other content: not a replay
    assert await balance(api, FAMILY) == 2000
    assert (await slots(api, FAMILY, "bath-at-home", mother))[0]["placesLeft"] == 1
    await api.settle()
    told = await api.last_sms(ELDER)
    assert "为您预约了上门助浴" in told and "如不需要，可以取消" in told
    assert "新预约：上门助浴" in await api.last_sms(PROVIDER_STAFF)
    # Her wallet is hers: the son cannot pay from it.
    refused = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="BENEFICIARY")
    assert refused["__typename"] == "InvalidInputError" and refused["field"] == "payFrom"


async def test_without_the_money_nothing_is_booked_and_the_place_stays_free(api: Api, db: Database) -> None:
    first = (await slots(api, ELDER, "bath-at-home"))[0]
    refused = await book(api, ELDER, "bath-at-home", first["start"])
    assert refused["__typename"] == "InsufficientFundsError" and "余额不足" in refused["message"]
    assert (await slots(api, ELDER, "bath-at-home"))[0]["placesLeft"] == 2
    past = await book(api, ELDER, "bath-at-home", "2020-01-01T01:00:00+00:00")
    assert past["__typename"] == "InvalidInputError" and past["field"] == "slotStart"
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0


async def test_cancelling_gives_the_place_and_the_money_back(api: Api) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, SERVICE_CENTRE, 5000, person=mother, method="CASH")
    first = (await slots(api, ELDER, "bath-at-home"))[0]
    booked = await book(api, ELDER, "bath-at-home", first["start"])
    assert booked["placedAs"] == "self" and await balance(api, ELDER) == 2000
    cancelled = await api.op(
        "app/CancelBooking", {"bookingId": booked["id"], "reason": "身体不舒服"}, await api.sign_in(ELDER)
    )
    assert cancelled["data"]["cancelBooking"]["status"] == "CANCELLED"
    assert await balance(api, ELDER) == 5000
    assert (await slots(api, ELDER, "bath-at-home"))[0]["placesLeft"] == 2
    labels = [
        e["label"] for e in (await api.op("app/Wallet", {}, await api.sign_in(ELDER)))["data"]["wallet"]["entries"]
    ]
    assert labels[:3] == ["退款", "付款", "充值"]
    await api.settle()
    assert "取消了上门助浴" in await api.last_sms(PROVIDER_STAFF)
    again = await api.op("app/CancelBooking", {"bookingId": booked["id"]}, await api.sign_in(ELDER))
    assert again["data"]["cancelBooking"]["code"] == "BOOKING_CLOSED"


async def test_the_mother_declines_a_visit_her_son_booked_and_he_is_refunded(api: Api) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, FAMILY, 5000)
    first = (await slots(api, FAMILY, "bath-at-home", mother))[0]
    booked = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME")
    assert await balance(api, FAMILY) == 2000
    declined = await api.op(
        "app/CancelBooking", {"bookingId": booked["id"], "reason": "女儿周末回来帮我洗"}, await api.sign_in(ELDER)
    )
    assert declined["data"]["cancelBooking"]["status"] == "CANCELLED"
    assert await balance(api, FAMILY) == 5000 and await balance(api, ELDER) == 0
    await api.settle()
    told = await api.last_sms(FAMILY)
    assert "不需要上门助浴" in told and "费用已退回。原因：女儿周末回来帮我洗" in told


async def test_fifty_bookings_at_once_for_ten_places_give_ten(api: Api, db: Database) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, SERVICE_CENTRE, 100_000, person=mother, method="CASH")
    first = (await slots(api, SERVICE_CENTRE, "meal-delivery-lunch", mother))[0]
    assert first["placesLeft"] == 10
    results = await asyncio.gather(
        *(book(api, SERVICE_CENTRE, "meal-delivery-lunch", first["start"], personId=mother) for _ in range(50))
    )
    kinds = [r["__typename"] for r in results]
    assert kinds.count("ServiceBooking") == 10 and kinds.count("SlotFullError") == 40
    assert all("约满" in r["message"] for r in results if r["__typename"] == "SlotFullError")
    assert all(r["placedAs"] == "staff" for r in results if r["__typename"] == "ServiceBooking")
    assert await balance(api, SERVICE_CENTRE, mother) == 100_000 - 10 * 1500
    assert (await slots(api, SERVICE_CENTRE, "meal-delivery-lunch", mother))[0]["placesLeft"] == 0
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 10


async def test_the_provider_comes_and_the_visit_is_done_only_with_the_elders_code(api: Api) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, FAMILY, 5000)
    first = (await slots(api, FAMILY, "bath-at-home", mother))[0]
    booked = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME")
    provider = await api.sign_in(PROVIDER_STAFF)
    # Only the provider's staff move it on; the son who booked cannot.
    son_tries = await api.op("staff/ConfirmBooking", {"bookingId": booked["id"]}, await api.sign_in(FAMILY))
    assert son_tries["data"]["confirmBooking"]["code"] == "NOT_FOUND"
    confirmed = await api.op("staff/ConfirmBooking", {"bookingId": booked["id"]}, provider)
    assert confirmed["data"]["confirmBooking"]["status"] == "CONFIRMED"
    started = await api.op("staff/StartBooking", {"bookingId": booked["id"]}, provider)
    assert started["data"]["startBooking"]["status"] == "IN_SERVICE"
    await api.settle()
    assert "服务人员已上门" in await api.last_sms(FAMILY)  # the son hears, with the time
    # The code is the elder's: shown to her, not to the son or the provider.
    hers = (await api.op("app/ServiceBookings", {}, await api.sign_in(ELDER)))["data"]["serviceBookings"][0]
    assert len(hers["checkInCode"]) == 4 and hers["checkInCode"].isdigit()
    his = await api.op("app/ServiceBookings", {"personId": mother}, await api.sign_in(FAMILY))
    assert his["data"]["serviceBookings"][0]["checkInCode"] is None
    wrong = "0000" if hers["checkInCode"] != "0000" else "1111"
    refused = await api.op("staff/CompleteBooking", {"bookingId": booked["id"], "checkInCode": wrong}, provider)
    assert refused["data"]["completeBooking"]["remainingAttempts"] == 4
    assert "上门码不对" in refused["data"]["completeBooking"]["message"]
    done = await api.op(
        "staff/CompleteBooking", {"bookingId": booked["id"], "checkInCode": hers["checkInCode"]}, provider
    )
    assert done["data"]["completeBooking"]["status"] == "COMPLETED"
    again = await api.op("staff/ConfirmBooking", {"bookingId": booked["id"]}, provider)
    assert again["data"]["confirmBooking"]["code"] == "BOOKING_CLOSED"
    late = await api.op("app/CancelBooking", {"bookingId": booked["id"]}, await api.sign_in(ELDER))
    assert late["data"]["cancelBooking"]["code"] == "BOOKING_CLOSED"  # done visits are not refunded by cancelling


async def test_the_elder_is_reminded_the_day_before_and_an_hour_before(api: Api, db: Database) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, SERVICE_CENTRE, 10_000, person=mother, method="CASH")
    later = [
        s
        for s in await slots(api, ELDER, "bath-at-home")
        if s["start"] > (utcnow() + dt.timedelta(hours=25)).isoformat()
    ]
    kept = await book(api, ELDER, "bath-at-home", later[0]["start"])
    dropped = await book(api, ELDER, "bath-at-home", later[1]["start"])
    async with db.factory() as session:
        jobs = (await session.execute(select(Job).where(Job.kind == REMIND).order_by(Job.run_at))).scalars().all()
    slot = dt.datetime.fromisoformat(later[0]["start"])
    mine = [j for j in jobs if j.payload["booking_id"] == int(kept["id"])]
    assert [j.run_at for j in mine] == [slot - dt.timedelta(days=1), slot - dt.timedelta(hours=1)]
    await api.op("app/CancelBooking", {"bookingId": dropped["id"]}, await api.sign_in(ELDER))
    await run_due_jobs(api, db, (REMIND,))
    texts = [m["text"] for m in (await api.client.get("/dev/outbox", params={"to": ELDER})).json()["messages"]]
    assert sum("提醒：明天" in t for t in texts) == 1 and sum("提醒：一小时后" in t for t in texts) == 1


async def test_a_visit_nobody_confirmed_reaches_the_provider_and_the_centre_before_it_is_due(
    api: Api, db: Database
) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, SERVICE_CENTRE, 10_000, person=mother, method="CASH")
    later = [
        s
        for s in await slots(api, ELDER, "errand-shopping")
        if s["start"] > (utcnow() + dt.timedelta(hours=25)).isoformat()
    ]
    await book(api, ELDER, "errand-shopping", later[0]["start"])
    confirmed = await book(api, ELDER, "errand-shopping", later[1]["start"])
    done = await api.op("staff/ConfirmBooking", {"bookingId": confirmed["id"]}, await api.sign_in(SHOP_STAFF))
    assert done["data"]["confirmBooking"]["status"] == "CONFIRMED", done
    await run_due_jobs(api, db, (REMIND,))  # the day before and the hour before, both now

    async def unconfirmed(phone: str) -> list[str]:
        feed = await api.op("app/Notifications", {}, await api.sign_in(phone))
        return [n["text"] for n in feed["data"]["notifications"]["nodes"] if n["text"].startswith("待确认：")]

    for phone in (SHOP_STAFF, SERVICE_CENTRE):
        told = await unconfirmed(phone)
        assert len(told) == 2, (phone, told)  # one booking, at each reminder
        assert told[0].startswith("待确认：黎文华预约的代购日用品（") and "邻里便民超市还没有确认" in told[0], told
    assert await unconfirmed(ELDER) == []  # she hears her reminder, not the provider's business


async def done_visit(api: Api, phone: str, person: str | None = None, pay_from: str = "BENEFICIARY") -> str:
    """A bath booked by `phone`, visited and completed with the elder's code."""
    first = (await slots(api, phone, "bath-at-home", person))[0]
    booked = await book(api, phone, "bath-at-home", first["start"], personId=person, payFrom=pay_from)
    provider = await api.sign_in(PROVIDER_STAFF)
    for step in ("Confirm", "Start"):
        await api.op(f"staff/{step}Booking", {"bookingId": booked["id"]}, provider)
    hers = (await api.op("app/ServiceBookings", {}, await api.sign_in(ELDER)))["data"]["serviceBookings"]
    code = next(b["checkInCode"] for b in hers if b["id"] == booked["id"])
    await api.op("staff/CompleteBooking", {"bookingId": booked["id"], "checkInCode": code}, provider)
    return str(booked["id"])


async def test_a_visit_is_rated_once_and_a_bad_one_reaches_the_centre_at_once(api: Api) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, FAMILY, 10_000)
    first = (await slots(api, FAMILY, "bath-at-home", mother))[0]
    early = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME")
    too_soon = await api.op(
        "app/RateService", {"bookingId": early["id"], "rating": "SATISFIED"}, await api.sign_in(FAMILY)
    )
    assert too_soon["data"]["rateService"]["code"] == "NOT_COMPLETED"
    visit = await done_visit(api, FAMILY, mother, pay_from="ME")
    rated = await api.op(
        "app/RateService",
        {"bookingId": visit, "rating": "UNSATISFIED", "comment": "水太凉，来晚了"},
        await api.sign_in(FAMILY),
    )
    assert rated["data"]["rateService"] == {"__typename": "ServiceRated", "bookingId": visit, "rating": "UNSATISFIED"}
    twice = await api.op("app/RateService", {"bookingId": visit, "rating": "SATISFIED"}, await api.sign_in(ELDER))
    assert twice["data"]["rateService"]["code"] == "ALREADY_RATED"
    await api.settle()
    alert = await api.last_sms(ADMIN)
    assert "不满意评价" in alert and "水太凉，来晚了" in alert
    stranger = await api.op("app/RateService", {"bookingId": visit, "rating": "OK"}, await api.sign_in(GRID_WORKER))
    assert stranger["data"]["rateService"]["code"] == "NOT_FOUND"
    ratings = (await api.op("staff/ProviderRatings", {}, await api.sign_in(PROVIDER_STAFF)))["data"]["providerRatings"]
    assert ratings == [
        {"providerName": "幸福社区养老服务中心", "satisfied": 0, "ok": 0, "unsatisfied": 1, "average": 1.0}
    ]
