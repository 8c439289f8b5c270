"""The service catalogue (content/services/catalog.json): categories, providers and what
they offer, to whom, at what price, in which slots."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Offering:
    code: str
    category: str
    provider: str
    names: dict[str, str]
    price_fen: int
    duration_min: int
    communities: frozenset[str]
    capacity: int
    slot_times: tuple[dt.time, ...]
    days_ahead: int

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["zh-CN"]

    def slots(self, now: dt.datetime, tz: ZoneInfo, cutoff: dt.timedelta) -> list[dt.datetime]:
        """Slot starts (UTC) still open to booking: from `cutoff` after now, `days_ahead` days on."""
        today = now.astimezone(tz).date()
        starts = [
            dt.datetime.combine(today + dt.timedelta(days=d), t, tzinfo=tz).astimezone(dt.UTC)
            for d in range(self.days_ahead + 1)
            for t in self.slot_times
        ]
        return [s for s in starts if s >= now + cutoff]


@dataclass(frozen=True)
class Provider:
    code: str
    name: str
    staff_phones: frozenset[str]


@dataclass(frozen=True)
class ServiceCatalog:
    categories: tuple[tuple[str, dict[str, str]], ...]
    providers: dict[str, Provider]
    offerings: dict[str, Offering]

    def category_name(self, code: str, locale: str) -> str:
        names = dict(self.categories).get(code, {})
        return names.get(locale) or names.get("zh-CN") or code

    def for_community(self, community_code: str) -> list[Offering]:
        return [o for o in self.offerings.values() if community_code in o.communities]

    def providers_staffed_by(self, phone: str) -> set[str]:
        return {p.code for p in self.providers.values() if phone in p.staff_phones}


@cache
def service_catalog(content_dir: Path) -> ServiceCatalog:
    data = json.loads((content_dir / "services" / "catalog.json").read_text("utf-8"))
    return ServiceCatalog(
        categories=tuple((c["code"], c["name"]) for c in data["categories"]),
        providers={p["code"]: Provider(p["code"], p["name"], frozenset(p["staff"])) for p in data["providers"]},
        offerings={
            o["code"]: Offering(
                code=o["code"],
                category=o["category"],
                provider=o["provider"],
                names=o["name"],
                price_fen=int(o["price_fen"]),
                duration_min=int(o["duration_min"]),
                communities=frozenset(o["communities"]),
                capacity=int(o["capacity"]),
                slot_times=tuple(dt.time.fromisoformat(t) for t in o["slots"]),
                days_ahead=int(o["days_ahead"]),
            )
            for o in data["offerings"]
        },
    )
