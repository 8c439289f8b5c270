"""Community merchants and what they sell (content/commerce/merchants.json)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Merchant:
    code: str
    name: str
    kind: str
    communities: frozenset[str]
    staff_phones: frozenset[str]
    delivery: bool
    pickup: bool
    meal_cutoffs: dict[str, dt.time]  # canteens: lunch / dinner ordered before these
    opens: dt.time
    closes: dt.time

    def open_at(self, local: dt.time) -> bool:
        return self.opens <= local < self.closes


@dataclass(frozen=True)
class Product:
    code: str
    merchant: str
    names: dict[str, str]
    price_fen: int
    meal: str | None  # lunch / dinner: sold per day, as many portions as cooked
    days: frozenset[int]  # ISO weekdays a meal is cooked
    portions: int
    stock: int  # goods: what the shelf starts with
    units: dict[str, str]  # goods: how one is counted (a bag, a box), per locale
    points_price: int | None = None  # 积分 for one, where the community lets points buy it
    # What a caller may say to choose it on the phone line, per locale (short, in the words
    # the recognition model knows); none: chosen by its number.
    spoken: dict[str, list[str]] = field(default_factory=dict)

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["zh-CN"]

    def unit(self, locale: str) -> str:
        return self.units.get(locale) or self.units.get("zh-CN", "")

    def spoken_as(self, locale: str) -> tuple[str, ...]:
        return tuple(self.spoken.get(locale, ()))


@dataclass(frozen=True)
class CommerceCatalog:
    merchants: dict[str, Merchant]
    products: dict[str, Product]

    def merchants_for(self, community_code: str) -> list[Merchant]:
        return [m for m in self.merchants.values() if community_code in m.communities]

    def goods_of(self, merchant_code: str) -> list[Product]:
        """What a shop keeps on the shelf (a canteen's meals are on today's menu)."""
        return [p for p in self.products.values() if p.merchant == merchant_code and p.meal is None]

    def staffed_by(self, phone: str) -> list[Merchant]:
        return [m for m in self.merchants.values() if phone in m.staff_phones]


@cache
def commerce_catalog(content_dir: Path) -> CommerceCatalog:
    data = json.loads((content_dir / "commerce" / "merchants.json").read_text("utf-8"))
    merchants = {
        m["code"]: Merchant(
            code=m["code"],
            name=m["name"],
            kind=m["kind"],
            communities=frozenset(m["communities"]),
            staff_phones=frozenset(m["staff"]),
            delivery=bool(m.get("delivery")),
            pickup=bool(m.get("pickup")),
            meal_cutoffs={meal: dt.time.fromisoformat(v["cutoff"]) for meal, v in m.get("meals", {}).items()},
            opens=dt.time.fromisoformat(m["opens"]),
            closes=dt.time.fromisoformat(m["closes"]),
        )
        for m in data["merchants"]
    }
    products = {
        p["code"]: Product(
            code=p["code"],
            merchant=p["merchant"],
            names=p["name"],
            price_fen=int(p["price_fen"]),
            meal=p.get("meal"),
            days=frozenset(p.get("days", [])),
            portions=int(p.get("portions", 0)),
            stock=int(p.get("stock", 0)),
            points_price=int(p["points_price"]) if p.get("points_price") else None,
            units=p.get("unit", {}),
            spoken=p.get("spoken", {}),
        )
        for p in data["products"]
    }
    return CommerceCatalog(merchants, products)
