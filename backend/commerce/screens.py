"""Today's menu as the elder's doors show it (the home's 助餐: the TV's list, the phone line's
menu, a speaker's reply): each meal with its cut-off, each dish with its price and what is
left. When a meal is closed or a dish sold out is decided here, in the room's words."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.commerce import service
from backend.content.catalog import Catalog
from backend.parts import Parts, Screen


def yuan(fen: int) -> str:
    """12 (yuan), 12.5, 12.05: as a price is written on a menu."""
    whole, cents = divmod(fen, 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")


def price(texts: Catalog, locale: str, fen: int) -> str:
    return texts.text(locale, "commerce.menu.price", price=yuan(fen))


def dish_state(texts: Catalog, locale: str, meal: service.Meal, dish: service.Dish) -> str:
    """How many are left, or why it cannot be ordered."""
    if not meal.open:
        return texts.text(locale, "commerce.menu.closed")
    if dish.portions_left <= 0:
        return texts.text(locale, "commerce.menu.sold_out")
    return texts.text(locale, "commerce.menu.left", left=dish.portions_left)


def dish_said(texts: Catalog, locale: str, meal: service.Meal, dish: service.Dish) -> str:
    return texts.text(
        locale,
        "commerce.menu.dish",
        name=dish.name,
        price=price(texts, locale, dish.price_fen),
        state=dish_state(texts, locale, meal, dish),
    )


def order_before(texts: Catalog, locale: str, meal: service.Meal) -> str:
    return texts.text(locale, "commerce.menu.order_before", before=meal.order_before)


def heading(texts: Catalog, locale: str, meal: service.Meal) -> str:
    return texts.text(
        locale,
        "commerce.menu.heading",
        merchant=meal.merchant_name,
        meal=meal.meal_name,
        before=order_before(texts, locale, meal),
    )


async def menu(session: AsyncSession, parts: Parts, actor: Actor, locale: str, /) -> Screen:
    """The home's 助餐 entry: every meal of today with its dishes, a heading each."""
    texts = parts.catalog
    meals = await service.today_menu(session, parts.settings, actor, None, texts=texts, locale=locale)
    lines: list[str] = []
    for meal in meals:
        if meal.dishes:
            lines += [heading(texts, locale, meal), *(dish_said(texts, locale, meal, d) for d in meal.dishes)]
    return Screen(tuple(lines), texts.text(locale, "commerce.menu.none"))
