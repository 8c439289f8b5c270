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
from backend.notify import service as notify
from backend.parts import Parts


async def _tell(session: AsyncSession, parts: Parts, people: set[int], order: Order, key: str, **params: str) -> None:
    catalog = commerce_catalog(parts.settings.content_dir)
    items = await service.items_of(session, order.id)
    for person in await community_repository.people_by_ids(session, sorted(people)):
        what = parts.catalog.text(person.locale, "commerce.separator").join(
            parts.catalog.text(
                person.locale,
                "commerce.line",
                name=catalog.products[i.product_code].name(person.locale),
                quantity=str(i.quantity),
            )
            for i in items
        )
        text = parts.catalog.text(
            person.locale,
            f"commerce.{key}",
            what=what,
            merchant=catalog.merchants[order.merchant_code].name,
            total=_total(order, person.locale, parts.catalog),
            address=order.address,
            **params,
        )
        await notify.tell(
            session,
            parts,
            person,
            title=parts.catalog.text(person.locale, "commerce.title"),
            text=text,
            data={"kind": "order", "orderId": str(order.id)},
        )


def _total(order: Order, locale: str, catalog: Catalog) -> str:
    if order.total_points:
        return catalog.text(locale, "commerce.total_points", points=str(order.total_points))
    return catalog.text(locale, "commerce.total_money", yuan=f"{order.total_fen / 100:.2f}")


async def _merchant_staff(session: AsyncSession, parts: Parts, order: Order) -> set[int]:
    merchant = commerce_catalog(parts.settings.content_dir).merchants[order.merchant_code]
    return await community_repository.ids_by_phones(session, merchant.staff_phones)


@consumer("commerce.ordered", name="commerce.tell_ordered")
async def tell_ordered(session: AsyncSession, event: Event, parts: Parts) -> None:
    order = await session.get(Order, int(event.payload["order_id"]))
    if order is None:
        return
    if order.placed_by_id != order.beneficiary_id:
        by = await session.get(Person, order.placed_by_id)
        await _tell(session, parts, {order.beneficiary_id}, order, "ordered_for_you", by=by.name if by else "")
    await _tell(session, parts, await _merchant_staff(session, parts, order), order, "new_order")


@consumer("commerce.cancelled", name="commerce.tell_cancelled")
async def tell_cancelled(session: AsyncSession, event: Event, parts: Parts) -> None:
    order = await session.get(Order, int(event.payload["order_id"]))
    if order is None:
        return
    by = await session.get(Person, int(event.payload["by"]))
    involved = {order.beneficiary_id, order.placed_by_id} | await _merchant_staff(session, parts, order)
    key = "declined" if event.payload.get("declined") else "cancelled"
    reason = order.cancel_reason or "-"
    await _tell(session, parts, involved - {by.id if by else 0}, order, key, by=by.name if by else "", reason=reason)


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
    await _tell(
        session,
        parts,
        {order.beneficiary_id, order.placed_by_id},
        order,
        key,
        at=clock.clock_time(at, parts.settings.zone),
    )
