"""User-facing text and screen layouts, read from content/ (never written in Python)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_LOCALE = "zh-CN"
SUPPORTED_LOCALES = ("zh-CN", "yue", "ko")


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class HomeButtonSpec:
    key: str
    icon: str
    action: str
    label: dict[str, str]
    plain: dict[str, str]


class Catalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._messages = {
            loc: json.loads((root / "locales" / f"{loc}.json").read_text("utf-8")) for loc in SUPPORTED_LOCALES
        }
        self._home_cache: dict[str, tuple[HomeButtonSpec, ...]] = {}
        self._relations: tuple[dict[str, str], ...] | None = None

    def text(self, locale: str | None, key: str, **params: Any) -> str:
        """`key` like "errors.NOT_FOUND"; falls back to zh-CN, then to the key itself."""
        for loc in (locale or DEFAULT_LOCALE, DEFAULT_LOCALE):
            node: Any = self._messages.get(loc)
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, str):
                return node.format_map(_SafeDict(params))
        return key

    def section(self, locale: str | None, key: str) -> dict[str, Any]:
        """A whole section (a page's words), zh-CN filling what the locale lacks."""
        merged: dict[str, Any] = {}
        for loc in (DEFAULT_LOCALE, locale or DEFAULT_LOCALE):
            node: Any = self._messages.get(loc)
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                merged.update(node)
        return merged

    def has(self, locale: str, key: str) -> bool:
        node: Any = self._messages.get(locale)
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return isinstance(node, str)

    def home_buttons(self, community_code: str) -> tuple[HomeButtonSpec, ...]:
        cached = self._home_cache.get(community_code)
        if cached is not None:
            return cached
        default = json.loads((self.root / "home" / "default.json").read_text("utf-8"))
        buttons = {b["key"]: b for b in default["buttons"]}
        order = [b["key"] for b in default["buttons"]]
        override_path = self.root / "home" / f"{community_code}.json"
        if override_path.exists():
            override = json.loads(override_path.read_text("utf-8"))
            for b in override.get("buttons", []):
                buttons[b["key"]] = {**buttons.get(b["key"], {}), **b}
                if b["key"] not in order:
                    order.append(b["key"])
            order = override.get("order", order)
        specs = tuple(
            HomeButtonSpec(
                key=k,
                icon=buttons[k]["icon"],
                action=buttons[k]["action"],
                label=buttons[k]["label"],
                plain=buttons[k]["plain"],
            )
            for k in order
        )
        self._home_cache[community_code] = specs
        return specs

    def family_relations(self) -> tuple[dict[str, str], ...]:
        """The fixed list an invitation's relation comes from (content/family/relations.json)."""
        if self._relations is None:
            data = json.loads((self.root / "family" / "relations.json").read_text("utf-8"))
            self._relations = tuple(data["relations"])
        return self._relations

    def demo(self) -> dict[str, Any]:
        return json.loads((self.root / "demo" / "community.json").read_text("utf-8"))


def localized(values: dict[str, str], locale: str) -> str:
    return values.get(locale) or values[DEFAULT_LOCALE]


@cache
def catalog_for(root: Path) -> Catalog:
    return Catalog(root)
