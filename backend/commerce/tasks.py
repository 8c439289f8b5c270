"""After an order changes: the elder, whoever ordered and the merchant hear about it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.commerce import service
from backend.commerce.catalog import commerce_catalog
from backend.commerce.models import Order
from backend.community import repository as community_repository
from backend.community.models import Person
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.events import Event, consumer
from backend.orders.notices import Notifier
from backend.parts import Parts


async def _words(session: AsyncSession, parts: Parts, order: Order, person: Person) -> dict[str, str]:
    catalog = commerce_catalog(parts.settings.content_dir)
    items = await service.items_of(session, order.id)
    what = parts.catalog.text(person.locale, "commerce.separator").join(
        parts.catalog.text(
            person.locale,
            "commerce.line",
            name=catalog.products[i.product_code].name(person.locale),
            quantity=str(i.quantity),
        )
        for i in items
    )
    return {
        "what": what,
        "merchant": catalog.merchants[order.merchant_code].name,
        "total": _total(order, person.locale, parts.catalog),
        "address": order.address,
    }


def _total(order: Order, locale: str, catalog: Catalog) -> str:
    if order.total_points:
        return catalog.text(locale, "commerce.total_points", points=str(order.total_points))
    return catalog.text(locale, "commerce.total_money", yuan=f"{order.total_fen / 100:.2f}")


async def _merchant_staff(session: AsyncSession, parts: Parts, order: Order) -> set[int]:
    merchant = commerce_catalog(parts.settings.content_dir).merchants[order.merchant_code]
    return await community_repository.ids_by_phones(session, merchant.staff_phones)


NOTICES = Notifier("commerce", "order", "orderId", words=_words, staff=_merchant_staff)


@consumer("commerce.ordered", name="commerce.tell_ordered")
async def tell_ordered(session: AsyncSession, event: Event, parts: Parts) -> None:
    order = await session.get(Order, int(event.payload["order_id"]))
    if order is None:
        return
    await NOTICES.placed(session, parts, order, for_you="ordered_for_you", to_staff="new_order")


@consumer("commerce.cancelled", name="commerce.tell_cancelled")
async def tell_cancelled(session: AsyncSession, event: Event, parts: Parts) -> None:
    order = await session.get(Order, int(event.payload["order_id"]))
    if order is None:
        return
    await NOTICES.cancelled(
        session, parts, order, by_id=int(event.payload["by"]), declined=bool(event.payload.get("declined"))
    )


@consumer("commerce.dispatched", name="commerce.tell_dispatched")
@consumer("commerce.delivered", name="commerce.tell_delivered")
async def tell_progress(session: AsyncSession, event: Event, parts: Parts) -> None:
    """The elder and whoever ordered for them follow it to the door (or the counter)."""
    order = await session.get(Order, int(event.payload["order_id"]))
    if order is None:
        return
    step = event.topic.rsplit(".", 1)[1]
    at = (order.delivered_at if step == "delivered" else order.dispatched_at) or utcnow()
    key = f"{step}_{order.fulfilment.value}"
    await NOTICES.progress(session, parts, order, key, at=clock.clock_time(at, parts.settings.zone))
