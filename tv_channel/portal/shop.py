"""Today's meals and the home services: what she may order or book, confirmed in plain words
before anything is paid, and today's orders with what family ordered for her to decline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.commerce import screens as menu_screen
from backend.commerce import service as commerce
from backend.commerce import today as day
from backend.commerce.models import Fulfilment
from backend.errors import InvalidInput, NotFound
from backend.services import service as services
from backend.services.catalog import service_catalog
from backend.wallet.payments import PayFrom
from tv_channel.portal.frame import Frame, Route
from tv_channel.portal.household import TvHome

MOST_PORTIONS = 5


def key_of(body: dict[str, Any]) -> str:
    key = str(body.get("key", ""))
    if not 8 <= len(key) <= 100:
        raise InvalidInput("idempotencyKey", field="idempotencyKey")
    return key


def id_of(value: object) -> int:
    try:
        found = int(str(value))
    except ValueError:
        raise InvalidInput("id", field="id") from None
    if found <= 0:
        raise InvalidInput("id", field="id")
    return found


def quantity_of(body: dict[str, Any]) -> int:
    quantity = body.get("quantity", 1)
    if not isinstance(quantity, int) or not 1 <= quantity <= MOST_PORTIONS:
        raise InvalidInput("quantity", field="quantity")
    return quantity


def fulfilment_of(body: dict[str, Any]) -> Fulfilment:
    try:
        return Fulfilment(str(body.get("fulfilment", "delivery")))
    except ValueError:
        raise InvalidInput("fulfilment", field="fulfilment") from None


async def menu(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    """The home's 助餐 in the room's words (commerce.screens), with what choosing a dish needs."""
    texts, locale = frame.texts, home.locale
    meals = await commerce.today_menu(session, frame.settings, home.actor, None, texts=texts, locale=locale)
    return {
        "meals": [
            {
                "meal": m.meal,
                "title": f"{m.merchant_name} · {m.meal_name}",
                "orderBefore": menu_screen.order_before(texts, locale, m),
                "open": m.open,
                "delivers": m.delivers,
                "pickUp": m.pick_up,
                "dishes": [
                    {
                        "code": d.product_code,
                        "name": d.name,
                        "priceFen": d.price_fen,
                        "price": menu_screen.price(texts, locale, d.price_fen),
                        "left": d.portions_left,
                        "state": menu_screen.dish_state(texts, locale, m, d),
                        "mostPortions": min(MOST_PORTIONS, d.portions_left),
                        **frame.said(home, menu_screen.dish_said(texts, locale, m, d), shared=True),
                    }
                    for d in m.dishes
                ],
            }
            for m in meals
        ],
        "none": texts.text(locale, "commerce.menu.none"),
    }


def _dish(frame: Frame, meals: list[commerce.Meal], code: str) -> tuple[commerce.Meal, commerce.Dish]:
    for meal in meals:
        for dish in meal.dishes:
            if dish.product_code == code:
                return meal, dish
    raise NotFound()


async def confirm_order(frame: Frame, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
    """The order in plain words, before anything is ordered."""
    meals = await commerce.today_menu(session, frame.settings, home.actor, None, texts=frame.texts, locale=home.locale)
    _meal, dish = _dish(frame, meals, str(body.get("product", "")))
    quantity, fulfilment = quantity_of(body), fulfilment_of(body)
    return frame.said(
        home,
        frame.t(
            home,
            "menu.confirm",
            quantity=quantity,
            name=dish.name,
            how=frame.t(home, "menu.deliver" if fulfilment == Fulfilment.DELIVERY else "menu.pick_up"),
            total=menu_screen.yuan(dish.price_fen * quantity),
        ),
    )


async def order(frame: Frame, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
    quantity, fulfilment = quantity_of(body), fulfilment_of(body)
    order, _new = await commerce.place(
        session,
        frame.settings,
        home.actor,
        person_id=None,
        lines=[(str(body.get("product", "")), quantity)],
        fulfilment=fulfilment,
        idempotency_key=key_of(body),
        pay_from=PayFrom.BENEFICIARY,
    )
    items = await commerce.items_of(session, order.id)
    story = commerce.story(frame.settings, order, items, home.locale)
    return {
        "orderId": order.id,
        **frame.said(
            home,
            frame.t(
                home,
                "menu.ordered",
                quantity=quantity,
                name=story.lines[0].name,
                how=frame.t(home, "menu.deliver" if fulfilment == Fulfilment.DELIVERY else "menu.pick_up"),
                total=menu_screen.yuan(order.total_fen),
            ),
        ),
    }


async def offerings(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    _person, offerings = await services.offerings_for(session, frame.settings, home.actor, None)
    return {
        "services": [
            {
                "code": o.code,
                "name": o.name(home.locale),
                "price": frame.t(home, "services.price", price=menu_screen.yuan(o.price_fen)),
                **frame.said(
                    home,
                    f"{o.name(home.locale)}，{frame.t(home, 'services.price', price=menu_screen.yuan(o.price_fen))}",
                    shared=True,
                ),
            }
            for o in offerings
        ]
    }


async def slots(frame: Frame, session: AsyncSession, home: TvHome, code: str) -> dict[str, Any]:
    open_slots = await services.available_slots(session, frame.settings, home.actor, offering_code=code, person_id=None)
    return {
        "slots": [
            {"start": start.isoformat(), **frame.said(home, frame.when(home, start), shared=True)}
            for start, left in open_slots
            if left > 0
        ][:12]
    }


def _offering_and_slot(frame: Frame, body: dict[str, Any]) -> tuple[str, dt.datetime]:
    code = str(body.get("service", ""))
    try:
        start = dt.datetime.fromisoformat(str(body.get("start", "")))
    except ValueError:
        raise InvalidInput("slotStart", field="slotStart") from None
    if start.tzinfo is None:
        raise InvalidInput("slotStart", field="slotStart")
    return code, start


async def confirm_booking(frame: Frame, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
    code, start = _offering_and_slot(frame, body)
    offering = service_catalog(frame.settings.content_dir).offerings.get(code)
    if offering is None:
        raise NotFound()
    return frame.said(
        home,
        frame.t(
            home,
            "services.confirm",
            service=offering.name(home.locale),
            when=frame.when(home, start),
            total=menu_screen.yuan(offering.price_fen),
        ),
    )


async def book(frame: Frame, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
    code, start = _offering_and_slot(frame, body)
    booking, _new = await services.book(
        session,
        frame.settings,
        home.actor,
        offering_code=code,
        slot_start=start,
        person_id=None,
        note=None,
        idempotency_key=key_of(body),
        pay_from=PayFrom.BENEFICIARY,
    )
    offering = service_catalog(frame.settings.content_dir).offerings[booking.offering_code]
    return {
        "bookingId": booking.id,
        **frame.said(
            home,
            frame.t(
                home,
                "services.booked",
                service=offering.name(home.locale),
                when=frame.when(home, booking.slot_start),
                code=booking.check_in_code,
            ),
        ),
    }


async def orders(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    items = await day.todays(session, frame.settings, frame.texts, home.actor, home.locale)
    shown = []
    for item in reversed(items):  # newest first
        status = frame.t(home, f"orders.status.{item.status}")
        line = f"{item.what}：{status}" if item.when is None else f"{frame.when(home, item.when)} {item.what}：{status}"
        by = frame.t(home, "orders.by", by=item.by) if item.by else None
        shown.append(
            {
                "kind": item.kind,
                "id": item.id,
                "what": item.what,
                "line": line,
                "by": by,
                "declinable": item.declinable,
                "confirmDecline": frame.said(
                    home, frame.t(home, "orders.confirm_decline", what=item.what, by=item.by or "")
                )
                if item.declinable
                else None,
                **frame.said(home, f"{line}。{by}" if by else line),
            }
        )
    return {"items": shown}


async def decline(frame: Frame, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
    kind = str(body.get("kind", ""))
    if kind not in ("order", "booking"):
        raise InvalidInput("kind", field="kind")
    item_id = id_of(body.get("id"))
    items = await day.todays(session, frame.settings, frame.texts, home.actor, home.locale)
    item = next((i for i in items if i.kind == kind and i.id == item_id and i.declinable), None)
    if item is None:
        raise NotFound()
    await day.decline(session, home.actor, kind=kind, item_id=item_id)
    return frame.said(home, frame.t(home, "orders.declined", by=item.by or ""))


ROUTES = (
    Route("GET", "/menu", menu, roles=True),
    Route("POST", "/menu/confirm", confirm_order),
    Route("POST", "/menu/order", order),
    Route("GET", "/services", offerings, roles=True),
    Route("GET", "/services/{code}/slots", slots, roles=True),
    Route("POST", "/services/confirm", confirm_booking),
    Route("POST", "/services/book", book),
    Route("GET", "/orders", orders, roles=True),
    Route("POST", "/orders/decline", decline),
)
