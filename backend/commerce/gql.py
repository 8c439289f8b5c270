"""Community shops and the canteen over GraphQL: today's menu, ordering, cancelling."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.commerce import service
from backend.commerce.catalog import commerce_catalog
from backend.commerce.models import Fulfilment, Order, OrderItem, OrderStatus
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import (
    InsufficientFundsError,
    InvalidInputError,
    NotFoundError,
    OrderClosedError,
    OrderingClosedError,
    OutOfStockError,
)
from backend.gql.permissions import IsAuthenticated
from backend.wallet.payments import PayFrom

CommerceOrderStatus = strawberry.enum(OrderStatus, name="CommerceOrderStatus")
CommerceFulfilment = strawberry.enum(Fulfilment, name="CommerceFulfilment")
CommercePayFrom = strawberry.enum(PayFrom, name="CommercePayFrom")


@strawberry.type
class MenuDish:
    product_code: str
    name: str
    price_fen: int
    portions_left: int


@strawberry.type
class MenuMeal:
    merchant_name: str
    meal: str
    meal_name: str
    order_before: str = strawberry.field(description='Local time: "10:00".')
    open: bool
    dishes: list[MenuDish]


@strawberry.type
class CommerceOrderLine:
    product_code: str
    name: str
    quantity: int
    unit_price_fen: int


@strawberry.type(name="CommerceOrder")
class OrderView:
    id: strawberry.ID
    merchant_name: str
    status: CommerceOrderStatus  # type: ignore[valid-type]
    fulfilment: CommerceFulfilment  # type: ignore[valid-type]
    total_fen: int
    placed_as: str
    placed_at: dt.datetime
    lines: list[CommerceOrderLine]

    @classmethod
    def of(cls, order: Order, items: list[OrderItem], info: Info) -> OrderView:
        ctx = info.context
        catalog = commerce_catalog(ctx.rt.settings.content_dir)
        return cls(
            id=strawberry.ID(str(order.id)),
            merchant_name=catalog.merchants[order.merchant_code].name,
            status=order.status,
            fulfilment=order.fulfilment,
            total_fen=order.total_fen,
            placed_as=order.placed_as,
            placed_at=order.created_at,
            lines=[
                CommerceOrderLine(
                    product_code=i.product_code,
                    name=catalog.products[i.product_code].name(ctx.locale),
                    quantity=i.quantity,
                    unit_price_fen=i.unit_price_fen,
                )
                for i in items
            ],
        )


@strawberry.input
class OrderLineInput:
    product_code: str
    quantity: int = 1


PlaceOrderPayload = Annotated[
    OrderView | OutOfStockError | OrderingClosedError | InsufficientFundsError | InvalidInputError | NotFoundError,
    strawberry.union("PlaceOrderPayload"),
]
CancelOrderPayload = Annotated[OrderView | OrderClosedError | NotFoundError, strawberry.union("CancelOrderPayload")]


@strawberry.type
class CommerceQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Today's lunch and dinner at the canteen.")
    async def today_menu(self, info: Info, person_id: strawberry.ID | None = None) -> list[MenuMeal]:
        ctx = info.context
        meals = await service.today_menu(
            ctx.session, ctx.rt.settings, ctx.require_actor(), optional_id(person_id, "personId")
        )
        return [
            MenuMeal(
                merchant_name=m.merchant.name,
                meal=m.meal,
                meal_name=ctx.rt.catalog.text(ctx.locale, f"commerce.meal_{m.meal}"),
                order_before=f"{m.cutoff:%H:%M}",
                open=m.open,
                dishes=[
                    MenuDish(product_code=p.code, name=p.name(ctx.locale), price_fen=p.price_fen, portions_left=left)
                    for p, left in m.dishes
                ],
            )
            for m in meals
        ]

    @strawberry.field(permission_classes=[IsAuthenticated], description="My orders, or an elder's I order for.")
    async def my_orders(self, info: Info, person_id: strawberry.ID | None = None) -> list[OrderView]:
        ctx = info.context
        found = await service.orders_of(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        return [OrderView.of(o, items, info) for o, items in found]


@strawberry.type
class CommerceMutation:
    @mutation(description="Order from one merchant: stock, payment and the order, or none of them.")
    async def place_order(
        self,
        info: Info,
        items: list[OrderLineInput],
        idempotency_key: str,
        fulfilment: CommerceFulfilment = Fulfilment.DELIVERY,  # type: ignore[valid-type]
        person_id: strawberry.ID | None = None,
        pay_from: CommercePayFrom = PayFrom.BENEFICIARY,  # type: ignore[valid-type]
    ) -> PlaceOrderPayload:
        ctx = info.context
        order, _new = await service.place(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            person_id=optional_id(person_id, "personId"),
            lines=[(i.product_code, i.quantity) for i in items],
            fulfilment=fulfilment,
            idempotency_key=idempotency_key,
            pay_from=pay_from,
        )
        return OrderView.of(order, await service.items_of(ctx.session, order.id), info)

    @mutation(description="Cancel before it leaves the merchant: stock and money go back.")
    async def cancel_order(self, info: Info, order_id: strawberry.ID) -> CancelOrderPayload:
        ctx = info.context
        order = await service.cancel(ctx.session, ctx.require_actor(), order_id=parse_id(order_id, "orderId"))
        return OrderView.of(order, await service.items_of(ctx.session, order.id), info)
