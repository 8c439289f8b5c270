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


DOORS = ("app", "tv", "phone")  # the doors a home entry can be offered on (access.subject.Door)


@dataclass(frozen=True)
class HomeEntry:
    """One entry of the home screen every door shows (content/home/default.json)."""

    key: str
    digit: str | None  # the key on the TV remote and the phone keypad; None: reached by moving
    icon: str
    action: str
    label: dict[str, str]
    plain: dict[str, str]
    doors: tuple[str, ...]


class Catalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._messages = {
            loc: json.loads((root / "locales" / f"{loc}.json").read_text("utf-8")) for loc in SUPPORTED_LOCALES
        }
        self._home_cache: dict[str, tuple[HomeEntry, ...]] = {}
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

    def home(self, community_code: str | None) -> tuple[HomeEntry, ...]:
        """The community's home entries: the default's, those its own file names first. A
        broken file fails here, at the first home shown, not as a wrong key on one door."""
        cached = self._home_cache.get(community_code or "")
        if cached is not None:
            return cached
        entries = [
            _home_entry(e) for e in json.loads((self.root / "home" / "default.json").read_text("utf-8"))["entries"]
        ]
        override_path = self.root / "home" / f"{community_code}.json"
        if community_code and override_path.exists():
            first = json.loads(override_path.read_text("utf-8")).get("first", [])
            unknown = set(first) - {e.key for e in entries}
            if unknown:
                raise ValueError(f"home/{community_code}.json: no such entries {sorted(unknown)}")
            entries.sort(key=lambda e: first.index(e.key) if e.key in first else len(first))
        digits = [e.digit for e in entries if e.digit is not None]
        if len(digits) != len(set(digits)):
            raise ValueError(f"the home of {community_code} gives one key to two entries")
        self._home_cache[community_code or ""] = found = tuple(entries)
        return found

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


def _home_entry(raw: dict[str, Any]) -> HomeEntry:
    doors = tuple(raw.get("doors", DOORS))
    if set(doors) - set(DOORS):
        raise ValueError(f"home entry {raw['key']}: unknown doors {sorted(set(doors) - set(DOORS))}")
    return HomeEntry(raw["key"], raw.get("digit"), raw["icon"], raw["action"], raw["label"], raw["plain"], doors)
