"""Community merchants and what they sell (content/commerce/merchants.json)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
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

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["zh-CN"]


@dataclass(frozen=True)
class CommerceCatalog:
    merchants: dict[str, Merchant]
    products: dict[str, Product]

    def merchants_for(self, community_code: str) -> list[Merchant]:
        return [m for m in self.merchants.values() if community_code in m.communities]


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
        )
        for p in data["products"]
    }
    return CommerceCatalog(merchants, products)
