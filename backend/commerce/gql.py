"""Community shops and the canteen over GraphQL: today's menu, ordering, cancelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from backend.access.rules import acting_for
from backend.commerce import service
from backend.commerce.errors import MerchantClosedError, OrderClosedError, OrderingClosedError, OutOfStockError
from backend.commerce.models import Fulfilment, Order, OrderItem, OrderStatus, PayWith
from backend.errors import DomainError
from backend.family.models import Scope
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.live import refused, rows_as_they_change
from backend.gql.permissions import IsAuthenticated
from backend.live import orders_channel
from backend.services.gql import BookingView
from backend.wallet.errors import InsufficientFundsError, NotEnoughPointsError, SpendingLimitReachedError
from backend.wallet.payments import PayFrom

CommerceOrderStatus = strawberry.enum(OrderStatus, name="CommerceOrderStatus")
CommerceFulfilment = strawberry.enum(Fulfilment, name="CommerceFulfilment")
CommercePayFrom = strawberry.enum(PayFrom, name="CommercePayFrom")
CommercePayWith = strawberry.enum(PayWith, name="CommercePayWith")


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

    @classmethod
    def of(cls, meal: service.Meal) -> MenuMeal:
        return cls(
            merchant_name=meal.merchant_name,
            meal=meal.meal,
            meal_name=meal.meal_name,
            order_before=meal.order_before,
            open=meal.open,
            dishes=[
                MenuDish(product_code=d.product_code, name=d.name, price_fen=d.price_fen, portions_left=d.portions_left)
                for d in meal.dishes
            ],
        )


@strawberry.type
class ShopGood:
    product_code: str
    name: str
    unit: str = strawberry.field(description="How one is counted (a bag, a box), in the reader's words.")
    price_fen: int
    points_price: int | None = strawberry.field(description="Points (not money) it may be had for, if any.")
    left: int = strawberry.field(description="How many are left on the shelf.")


@strawberry.type(description="A community merchant: its hours and what it keeps on the shelf.")
class Shop:
    code: str
    name: str
    kind: str
    open_now: bool
    opens: str = strawberry.field(description='Local time: "08:00".')
    closes: str
    delivers: bool
    pick_up: bool
    goods: list[ShopGood]

    @classmethod
    def of(cls, shop: service.Shop) -> Shop:
        return cls(**{**vars(shop), "goods": [ShopGood(**vars(g)) for g in shop.goods]})


@strawberry.type
class CommerceOrderLine:
    product_code: str
    name: str
    quantity: int
    unit_price_fen: int
    unit_points: int


@strawberry.type(name="CommerceOrder")
class OrderView:
    id: strawberry.ID
    merchant_name: str
    status: CommerceOrderStatus  # type: ignore[valid-type]
    fulfilment: CommerceFulfilment  # type: ignore[valid-type]
    total_fen: int
    total_points: int = strawberry.field(description="Paid in points instead of money (0 when paid in money).")
    address: str
    placed_as: str
    placed_at: dt.datetime
    dispatched_at: dt.datetime | None = strawberry.field(description="Sent out, or ready at the counter.")
    delivered_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    lines: list[CommerceOrderLine]

    @classmethod
    def of(cls, story: service.Story) -> OrderView:
        order = story.order
        return cls(
            id=strawberry.ID(str(order.id)),
            merchant_name=story.merchant_name,
            status=order.status,
            fulfilment=order.fulfilment,
            total_fen=order.total_fen,
            total_points=order.total_points,
            address=order.address,
            placed_as=order.placed_as,
            placed_at=order.created_at,
            dispatched_at=order.dispatched_at,
            delivered_at=order.delivered_at,
            cancelled_at=order.cancelled_at,
            cancel_reason=order.cancel_reason,
            lines=[CommerceOrderLine(**vars(line)) for line in story.lines],
        )


def order_view(info: Info, order: Order, items: list[OrderItem]) -> OrderView:
    ctx = info.context
    return OrderView.of(service.story(ctx.rt.settings, order, items, ctx.locale))


@strawberry.input
class OrderLineInput:
    product_code: str
    quantity: int = 1


PlaceOrderPayload = Annotated[
    OrderView
    | OutOfStockError
    | OrderingClosedError
    | MerchantClosedError
    | InsufficientFundsError
    | SpendingLimitReachedError
    | NotEnoughPointsError
    | InvalidInputError
    | NotFoundError,
    strawberry.union("PlaceOrderPayload"),
]
CancelOrderPayload = Annotated[
    OrderView | OrderClosedError | InvalidInputError | NotFoundError, strawberry.union("CancelOrderPayload")
]
MerchantOrderPayload = Annotated[OrderView | OrderClosedError | NotFoundError, strawberry.union("MerchantOrderPayload")]
OrderUpdate = Annotated[OrderView | BookingView, strawberry.union("OrderUpdate")]


@strawberry.type
class CommerceQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Today's lunch and dinner at the canteen.")
    async def today_menu(self, info: Info, person_id: strawberry.ID | None = None) -> list[MenuMeal]:
        ctx = info.context
        meals = await service.today_menu(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            optional_id(person_id, "personId"),
            texts=ctx.rt.catalog,
            locale=ctx.locale,
        )
        return [MenuMeal.of(m) for m in meals]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The shops serving my community (or an elder's): hours, goods.",
    )
    async def shops(self, info: Info, person_id: strawberry.ID | None = None) -> list[Shop]:
        ctx = info.context
        found = await service.shops(
            ctx.session, ctx.rt.settings, ctx.require_actor(), optional_id(person_id, "personId"), locale=ctx.locale
        )
        return [Shop.of(s) for s in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A merchant's staff: orders to my shops; by default only those still to send out or hand over.",
    )
    async def merchant_orders(self, info: Info, open_only: bool = True) -> list[OrderView]:
        ctx = info.context
        found = await service.merchant_orders(ctx.session, ctx.rt.settings, ctx.require_actor(), open_only=open_only)
        return [order_view(info, o, items) for o, items in found]

    @strawberry.field(permission_classes=[IsAuthenticated], description="My orders, or an elder's I order for.")
    async def my_orders(self, info: Info, person_id: strawberry.ID | None = None) -> list[OrderView]:
        ctx = info.context
        found = await service.orders_of(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        return [order_view(info, o, items) for o, items in found]


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
        pay_with: CommercePayWith = PayWith.MONEY,  # type: ignore[valid-type]
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
            pay_with=pay_with,
        )
        return order_view(info, order, await service.items_of(ctx.session, order.id))

    @mutation(
        description="Cancel before it leaves the merchant: stock and money go back. "
        "The elder cancelling what family ordered for them declines it."
    )
    async def cancel_order(self, info: Info, order_id: strawberry.ID, reason: str | None = None) -> CancelOrderPayload:
        ctx = info.context
        order = await service.cancel(
            ctx.session, ctx.require_actor(), order_id=parse_id(order_id, "orderId"), reason=reason
        )
        return order_view(info, order, await service.items_of(ctx.session, order.id))

    @mutation(description="A merchant's staff: sent out (or ready at the counter); it can no longer be cancelled.")
    async def dispatch_order(self, info: Info, order_id: strawberry.ID) -> MerchantOrderPayload:
        ctx = info.context
        order = await service.dispatch(
            ctx.session, ctx.rt.settings, ctx.require_actor(), order_id=parse_id(order_id, "orderId")
        )
        return order_view(info, order, await service.items_of(ctx.session, order.id))

    @mutation(description="A merchant's staff: handed to the elder; whoever ordered is told.")
    async def deliver_order(self, info: Info, order_id: strawberry.ID) -> MerchantOrderPayload:
        ctx = info.context
        order = await service.deliver(
            ctx.session, ctx.rt.settings, ctx.require_actor(), order_id=parse_id(order_id, "orderId")
        )
        return order_view(info, order, await service.items_of(ctx.session, order.id))


@strawberry.type
class CommerceSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="My orders and bookings (or an elder's I order for) as they change, whoever placed them.",
    )
    async def order_updates(
        self, info: Info, person_id: strawberry.ID | None = None
    ) -> AsyncGenerator[OrderUpdate, None]:
        ctx = info.context
        actor = ctx.require_actor()
        wanted = optional_id(person_id, "personId")
        try:
            person = (await acting_for(ctx.session, actor, wanted, Scope.ORDER_FOR)).person
        except DomainError as error:
            raise refused(ctx, error) from error
        await ctx.commit_and_close()

        async def load(message: dict[str, object]) -> OrderView | BookingView | None:
            found = await service.changed_for(ctx.session, actor, wanted, person.id, message)
            if isinstance(found, tuple):
                return order_view(info, *found)
            return BookingView(booking=found) if found is not None else None

        async for update in rows_as_they_change(ctx, [orders_channel(person.id)], "order", load):
            yield cast(OrderView | BookingView, update)  # mypy cannot solve T | None against a union
