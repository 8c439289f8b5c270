"""Orders from community merchants: one product list, a few taps. Stock, payment and the
order are one transaction: all of them, or none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import idempotency, live
from backend.access.rules import acting_for, may_follow_order
from backend.access.subject import Actor
from backend.commerce.catalog import CommerceCatalog, Merchant, Product, commerce_catalog
from backend.commerce.errors import MerchantClosed, OrderClosed, OrderingClosed, OutOfStock
from backend.commerce.models import Fulfilment, Order, OrderEvent, OrderItem, OrderStatus, PayWith, Stock
from backend.community.models import Community, Person
from backend.config import Settings
from backend.content.catalog import Catalog
from backend.db import take, utcnow
from backend.errors import InvalidInput, NotFound
from backend.events import emit
from backend.family.models import Scope
from backend.live import orders_channel
from backend.orders.opening import Opening, open_for
from backend.parts import Parts
from backend.services import repository as bookings
from backend.services.models import Booking
from backend.wallet import payments, points
from backend.wallet.payments import Payer, PayFrom

MAX_LINES = 10
MAX_QUANTITY = 20
MAX_REASON = 300
GOODS_DAY = ""  # goods have one shelf; meals one per day


# Screens as plain data, in the reader's words: the app, the TV portal and the voice dialog
# show or say the same menu, shelf and order story.


@dataclass(frozen=True)
class Dish:
    product_code: str
    name: str
    price_fen: int
    portions_left: int
    spoken_as: tuple[str, ...] = ()  # what a caller may say to choose it


@dataclass(frozen=True)
class Meal:
    merchant_name: str
    meal: str  # "lunch", "dinner"
    meal_name: str
    order_before: str  # local time: "10:00"
    open: bool
    dishes: list[Dish]
    delivers: bool = True
    pick_up: bool = True


@dataclass(frozen=True)
class Good:
    product_code: str
    name: str
    unit: str  # how one is counted, in the reader's words
    price_fen: int
    points_price: int | None
    left: int


@dataclass(frozen=True)
class Shop:
    code: str
    name: str
    kind: str
    open_now: bool
    opens: str  # local time: "08:00"
    closes: str
    delivers: bool
    pick_up: bool
    goods: list[Good]


@dataclass(frozen=True)
class Line:
    product_code: str
    name: str
    quantity: int
    unit_price_fen: int
    unit_points: int


@dataclass(frozen=True)
class Story:
    """An order as whoever follows it sees it: what, from whom, where it is now."""

    order: Order
    merchant_name: str
    lines: list[Line]


def _today(settings: Settings) -> tuple[dt.datetime, dt.date]:
    now = utcnow().astimezone(settings.zone)
    return now, now.date()


async def today_menu(
    session: AsyncSession, settings: Settings, actor: Actor, person_id: int | None, *, texts: Catalog, locale: str
) -> list[Meal]:
    """Today's lunch and dinner at the canteens serving the person's community."""
    community = (await open_for(session, actor, person_id)).community
    return await community_menu(session, settings, community, texts=texts, locale=locale)


async def community_menu(
    session: AsyncSession, settings: Settings, community: Community, *, texts: Catalog, locale: str
) -> list[Meal]:
    """Today's lunch and dinner at the canteens serving a community (the TV channel shows it)."""
    catalog = commerce_catalog(settings.content_dir)
    now, today = _today(settings)
    meals = []
    for merchant in catalog.merchants_for(community.code):
        for meal, cutoff in merchant.meal_cutoffs.items():
            dishes = [
                p
                for p in catalog.products.values()
                if p.merchant == merchant.code and p.meal == meal and today.isoweekday() in p.days
            ]
            left = await _left(session, dishes, today.isoformat())
            meals.append(
                Meal(
                    merchant_name=merchant.name,
                    meal=meal,
                    meal_name=texts.text(locale, f"commerce.meal_{meal}"),
                    order_before=f"{cutoff:%H:%M}",
                    open=now.time() < cutoff,
                    dishes=[
                        Dish(d.code, d.name(locale), d.price_fen, left[d.code], d.spoken_as(locale)) for d in dishes
                    ],
                    delivers=merchant.delivery,
                    pick_up=merchant.pickup,
                )
            )
    return meals


async def shops(
    session: AsyncSession, settings: Settings, actor: Actor, person_id: int | None, *, locale: str
) -> list[Shop]:
    """The merchants serving the person's community, whether they are open now, and their goods."""
    community = (await open_for(session, actor, person_id)).community
    catalog = commerce_catalog(settings.content_dir)
    now, _ = _today(settings)
    found = []
    for merchant in catalog.merchants_for(community.code):
        goods = catalog.goods_of(merchant.code)
        left = await _left(session, goods, GOODS_DAY)
        found.append(
            Shop(
                code=merchant.code,
                name=merchant.name,
                kind=merchant.kind,
                open_now=merchant.open_at(now.time()),
                opens=f"{merchant.opens:%H:%M}",
                closes=f"{merchant.closes:%H:%M}",
                delivers=merchant.delivery,
                pick_up=merchant.pickup,
                goods=[
                    Good(p.code, p.name(locale), p.unit(locale), p.price_fen, p.points_price, left[p.code])
                    for p in goods
                ],
            )
        )
    return found


def story(settings: Settings, order: Order, items: Sequence[OrderItem], locale: str) -> Story:
    catalog = commerce_catalog(settings.content_dir)
    return Story(
        order=order,
        merchant_name=catalog.merchants[order.merchant_code].name,
        lines=[
            Line(
                i.product_code,
                catalog.products[i.product_code].name(locale),
                i.quantity,
                i.unit_price_fen,
                i.unit_points,
            )
            for i in items
        ],
    )


async def _left(session: AsyncSession, products: Sequence[Product], day: str) -> dict[str, int]:
    rows = await session.execute(
        select(Stock.product_code, Stock.left_count).where(
            Stock.product_code.in_([p.code for p in products]), Stock.day == day
        )
    )
    found = {code: n for code, n in rows}
    return {p.code: found.get(p.code, p.portions if p.meal else p.stock) for p in products}


async def place(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    person_id: int | None,
    lines: Sequence[tuple[str, int]],
    fulfilment: Fulfilment,
    idempotency_key: str,
    pay_from: PayFrom,
    pay_with: PayWith = PayWith.MONEY,
) -> tuple[Order, bool]:
    """(the order, whether it is new). A replayed key returns the first order. Paid with
    points, it is the elder's points, and only goods with a points price."""
    key = idempotency.scoped_key(idempotency_key, actor.id)
    asked = _asked(person_id, lines, fulfilment, pay_from, pay_with)
    first = await idempotency.replayed(session, Order, key, asked)
    if first is not None:
        return first, False
    merchant, wanted = _checked_lines(commerce_catalog(settings.content_dir), lines)
    in_points = pay_with == PayWith.POINTS
    if in_points and any(p.points_price is None for p, _ in wanted):
        raise InvalidInput("payWith", field="payWith")
    opening = await open_for(session, actor, person_id)
    now, today = _today(settings)
    _check_merchant(opening, merchant, fulfilment, now)
    who_pays = opening.payer(PayFrom.BENEFICIARY if in_points else pay_from)
    taken = await _take_all(session, merchant, wanted, now, today)
    order = Order(
        merchant_code=merchant.code,
        beneficiary_id=opening.beneficiary.id,
        placed_by_id=actor.id,
        placed_as=opening.placed_as,
        payer_id=who_pays.person.id,
        fulfilment=fulfilment,
        address=opening.household.address,
        total_fen=0 if in_points else sum(p.price_fen * q for p, q, _ in taken),
        total_points=sum((p.points_price or 0) * q for p, q, _ in taken) if in_points else 0,
        idempotency_key=key,
        request_fingerprint=asked,
    )
    session.add(order)
    await session.flush()
    session.add_all(_items(order, taken, in_points=in_points))
    await _pay(session, settings, opening, who_pays, order, merchant, in_points=in_points, by_id=actor.id)
    _record(
        session,
        order,
        "placed",
        actor.id,
        placed_as=opening.placed_as,
        total_fen=order.total_fen,
        points=order.total_points,
    )
    emit(session, "commerce.ordered", {"order_id": order.id})
    return order, True


def _asked(
    person_id: int | None,
    lines: Sequence[tuple[str, int]],
    fulfilment: Fulfilment,
    pay_from: PayFrom,
    pay_with: PayWith,
) -> str:
    """What the order asks for, as a replay compares it."""
    return idempotency.fingerprint(
        person=person_id,
        lines=[[code, quantity] for code, quantity in lines],
        fulfilment=fulfilment.value,
        pay_from=pay_from.value,
        pay_with=pay_with.value,
    )


def _items(order: Order, taken: list[tuple[Product, int, str]], *, in_points: bool) -> list[OrderItem]:
    return [
        OrderItem(
            order_id=order.id,
            product_code=p.code,
            day=day,
            quantity=q,
            unit_price_fen=0 if in_points else p.price_fen,
            unit_points=(p.points_price or 0) if in_points else 0,
        )
        for p, q, day in taken
    ]


def _check_merchant(opening: Opening, merchant: Merchant, fulfilment: Fulfilment, now: dt.datetime) -> None:
    """The merchant serves her community, this way, at this hour."""
    if opening.community.code not in merchant.communities:
        raise NotFound()
    if not (merchant.delivery if fulfilment == Fulfilment.DELIVERY else merchant.pickup):
        raise InvalidInput("fulfilment", field="fulfilment")
    if not merchant.open_at(now.time()):
        raise MerchantClosed(merchant.name, f"{merchant.opens:%H:%M}", f"{merchant.closes:%H:%M}")


async def _take_all(
    session: AsyncSession, merchant: Merchant, wanted: list[tuple[Product, int]], now: dt.datetime, today: dt.date
) -> list[tuple[Product, int, str]]:
    """Each product's portions (a meal's of today, before its cut-off) or stock, taken in one
    lock order so two orders never deadlock; returned in the order asked, with their day."""
    days: dict[str, str] = {}
    for product, quantity in sorted(wanted, key=lambda pq: pq[0].code):
        day = GOODS_DAY
        if product.meal is not None:
            cutoff = merchant.meal_cutoffs.get(product.meal)
            if today.isoweekday() not in product.days or cutoff is None or now.time() >= cutoff:
                raise OrderingClosed()
            day = today.isoformat()
        await _take(session, product, day, quantity)
        days[product.code] = day
    return [(product, quantity, days[product.code]) for product, quantity in wanted]


async def _pay(
    session: AsyncSession,
    settings: Settings,
    opening: Opening,
    who_pays: Payer,
    order: Order,
    merchant: Merchant,
    *,
    in_points: bool,
    by_id: int,
) -> None:
    """In the elder's points, or in money from whoever pays (subsidy first)."""
    if in_points:
        await points.pay(
            session,
            ref=f"order:{order.id}",
            person_id=opening.beneficiary.id,
            merchant_code=merchant.code,
            points=order.total_points,
            by_id=by_id,
        )
        return
    await opening.pay(
        session,
        settings,
        ref=f"order:{order.id}",
        payer=who_pays,
        provider_code=merchant.code,
        amount_fen=order.total_fen,
        category="meal" if merchant.kind == "canteen" else merchant.kind,
    )


def _checked_lines(
    catalog: CommerceCatalog, lines: Sequence[tuple[str, int]]
) -> tuple[Merchant, list[tuple[Product, int]]]:
    """One merchant's products, each once, in sensible quantities."""
    codes = [code for code, _ in lines]
    if not 1 <= len(lines) <= MAX_LINES or len(set(codes)) != len(codes):
        raise InvalidInput("items", field="items")
    wanted = []
    for code, quantity in lines:
        product = catalog.products.get(code)
        if product is None:
            raise NotFound()
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput("quantity", field="quantity")
        wanted.append((product, quantity))
    merchants = {p.merchant for p, _ in wanted}
    if len(merchants) != 1:
        raise InvalidInput("items", field="items")
    return catalog.merchants[merchants.pop()], wanted


async def _take(session: AsyncSession, product: Product, day: str, quantity: int) -> None:
    """Take `quantity` or raise OutOfStock (no overselling)."""
    start = product.portions if product.meal else product.stock
    key = {"product_code": product.code, "day": day}
    if not await take(session, Stock, key, column="left_count", start=start, change=-quantity, bound=0):
        left = await session.scalar(
            select(Stock.left_count).where(Stock.product_code == product.code, Stock.day == day)
        )
        raise OutOfStock(product=product.name("zh-CN"), left=int(left or 0))


async def cancel(session: AsyncSession, actor: Actor, *, order_id: int, reason: str | None = None) -> Order:
    """Before it leaves the merchant: the stock goes back on the shelf and the money back to
    whoever paid, in the same transaction. The elder cancelling what family ordered for them
    is declining it, and the family is told so."""
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput("reason", field="reason")
    order = await _locked(session, order_id)
    if order is None or not await _may_see(session, actor, order):
        raise NotFound()
    if order.status != OrderStatus.PLACED:
        raise OrderClosed(order.status.value)
    order.status, order.cancelled_by_id, order.cancelled_at = OrderStatus.CANCELLED, actor.id, utcnow()
    order.cancel_reason = (reason or "").strip()
    items = (await session.execute(select(OrderItem).where(OrderItem.order_id == order.id))).scalars().all()
    for item in sorted(items, key=lambda i: i.product_code):
        await session.execute(
            update(Stock)
            .where(Stock.product_code == item.product_code, Stock.day == item.day)
            .values(left_count=Stock.left_count + item.quantity)
        )
    await payments.refund(session, ref=f"order:{order.id}", by_id=actor.id)
    declined = actor.id == order.beneficiary_id != order.placed_by_id
    _record(session, order, "declined" if declined else "cancelled", actor.id, reason=order.cancel_reason)
    emit(session, "commerce.cancelled", {"order_id": order.id, "by": actor.id, "declined": declined})
    return order


async def _locked(session: AsyncSession, order_id: int) -> Order | None:
    query = select(Order).where(Order.id == order_id).with_for_update()
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def _for_merchant(session: AsyncSession, settings: Settings, actor: Actor, order_id: int) -> Order:
    """An order to a merchant the actor works for; anyone else finds nothing."""
    order = await _locked(session, order_id)
    merchant = commerce_catalog(settings.content_dir).merchants.get(order.merchant_code) if order else None
    if order is None or merchant is None or actor.person.phone not in merchant.staff_phones:
        raise NotFound()
    return order


async def dispatch(session: AsyncSession, settings: Settings, actor: Actor, *, order_id: int) -> Order:
    """The merchant sends it out (or puts it on the counter for pick-up): no cancelling after."""
    order = await _for_merchant(session, settings, actor, order_id)
    if order.status != OrderStatus.PLACED:
        raise OrderClosed(order.status.value)
    order.status, order.dispatched_at = OrderStatus.DISPATCHED, utcnow()
    _record(session, order, "dispatched", actor.id)
    emit(session, "commerce.dispatched", {"order_id": order.id})
    return order


async def deliver(session: AsyncSession, settings: Settings, actor: Actor, *, order_id: int) -> Order:
    """Handed to the elder (at the door or the counter): whoever ordered is told it is done."""
    order = await _for_merchant(session, settings, actor, order_id)
    if order.status != OrderStatus.DISPATCHED:
        raise OrderClosed(order.status.value)
    order.status, order.delivered_at = OrderStatus.DELIVERED, utcnow()
    _record(session, order, "delivered", actor.id)
    emit(session, "commerce.delivered", {"order_id": order.id})
    return order


def _record(session: AsyncSession, order: Order, kind: str, actor_id: int | None, **detail: object) -> None:
    session.add(OrderEvent(order_id=order.id, kind=kind, actor_id=actor_id, detail=detail))
    live.after_commit(session, [(orders_channel(order.beneficiary_id), {"kind": "order", "order_id": order.id})])


async def _may_see(session: AsyncSession, actor: Actor, order: Order) -> bool:
    """The elder, whoever ordered, or staff of the elder's community."""
    beneficiary = await session.get(Person, order.beneficiary_id)
    return await may_follow_order(
        session,
        actor,
        beneficiary_id=order.beneficiary_id,
        placed_by_id=order.placed_by_id,
        household_id=beneficiary.household_id if beneficiary else None,
    )


async def items_of(session: AsyncSession, order_id: int) -> list[OrderItem]:
    rows = await session.execute(select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id))
    return list(rows.scalars())


async def orders_of(
    session: AsyncSession, actor: Actor, *, person_id: int | None
) -> list[tuple[Order, list[OrderItem]]]:
    person = (await acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    query = select(Order).where(Order.beneficiary_id == person.id).order_by(Order.id.desc()).limit(20)
    return await _with_items(session, (await session.execute(query)).scalars().all())


async def merchant_orders(
    session: AsyncSession, settings: Settings, actor: Actor, *, open_only: bool
) -> list[tuple[Order, list[OrderItem]]]:
    """For a merchant's staff: the orders to their merchants, oldest first (to send out in turn)."""
    mine = [m.code for m in commerce_catalog(settings.content_dir).staffed_by(actor.person.phone)]
    query = select(Order).where(Order.merchant_code.in_(mine))
    if open_only:
        query = query.where(Order.status.in_([OrderStatus.PLACED, OrderStatus.DISPATCHED])).order_by(Order.id)
    else:
        query = query.order_by(Order.id.desc())
    return await _with_items(session, (await session.execute(query.limit(100))).scalars().all())


async def _with_items(session: AsyncSession, orders: Sequence[Order]) -> list[tuple[Order, list[OrderItem]]]:
    query = select(OrderItem).where(OrderItem.order_id.in_([o.id for o in orders])).order_by(OrderItem.id)
    items = (await session.execute(query)).scalars().all()
    return [(o, [i for i in items if i.order_id == o.id]) for o in orders]


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: her orders not yet sent out are cancelled (stock back on
    the shelf, money back to whoever paid; the merchant is told)."""
    open_orders = await session.execute(
        select(Order.id).where(Order.beneficiary_id == actor.id, Order.status == OrderStatus.PLACED)
    )
    for order_id in open_orders.scalars().all():
        await cancel(session, actor, order_id=order_id)


async def changed_for(
    session: AsyncSession, actor: Actor, wanted: int | None, beneficiary_id: int, message: dict[str, object]
) -> tuple[Order, list[OrderItem]] | Booking | None:
    """The order (with its items) or booking a change message names, as the one following
    `beneficiary_id`'s orders may see it now: None when it is not hers, or when they may no
    longer follow them (asked again each time: a revoked link ends what family see at once)."""
    try:
        await acting_for(session, actor, wanted, Scope.ORDER_FOR)
    except NotFound:
        return None
    if "order_id" in message:
        order = await session.get(Order, int(str(message["order_id"])), populate_existing=True)
        if order is None or order.beneficiary_id != beneficiary_id:
            return None
        return order, await items_of(session, order.id)
    return await bookings.fresh_booking(session, int(str(message["booking_id"])), beneficiary_id=beneficiary_id)
