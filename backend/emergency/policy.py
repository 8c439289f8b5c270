"""The escalation policy: who is told at each tier, and after how long.

The default is content/emergency/policy.json (a community may have its own file there);
staff of a community may set their own, stored in `escalation_policies`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from backend.errors import InvalidInput


class ResponderGroup(StrEnum):
    """Who a tier can tell."""

    GRID_WORKER = "grid_worker"  # the household's own grid worker
    FAMILY = "family"  # family members receiving alerts
    COMMUNITY_STAFF = "community_staff"  # every grid worker of the community
    SERVICE_CENTRE = "service_centre"
    ADMIN = "admin"


GROUPS = tuple(g.value for g in ResponderGroup)
MAX_TIERS = 5
MAX_AFTER_S = 3600
EN_ROUTE_TIMEOUT_S = (300, 7200)
REPEAT_EVERY_S = (60, 3600)
DEFAULT_REPEAT_EVERY_S = 300


@dataclass(frozen=True)
class Tier:
    tier: int
    after_s: int
    notify: tuple[str, ...]
    call_emergency_services: bool = False


@dataclass(frozen=True)
class Policy:
    tiers: tuple[Tier, ...]
    en_route_timeout_s: int
    # After the last tier, every tier is told again this often until someone answers.
    repeat_every_s: int = DEFAULT_REPEAT_EVERY_S
    # Neighbours who volunteer and agreed to be called are told this long after the alarm
    # (a tier of their own beside the ladder, which it never holds up); None: never.
    volunteers_after_s: int | None = None

    @property
    def last(self) -> Tier:
        return self.tiers[-1]

    def tier(self, n: int) -> Tier | None:
        return next((t for t in self.tiers if t.tier == n), None)

    def calls_emergency_services(self, n: int) -> bool:
        tier = self.tier(n)
        return tier is not None and tier.call_emergency_services

    def groups_of(self, n: int) -> tuple[str, ...]:
        tier = self.tier(n)
        return tier.notify if tier is not None else ()

    def tiers_as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "tier": t.tier,
                "after_s": t.after_s,
                "notify": list(t.notify),
                "call_emergency_services": t.call_emergency_services,
            }
            for t in self.tiers
        ]


def from_json(
    tiers: Sequence[Mapping[str, Any]],
    en_route_timeout_s: int,
    repeat_every_s: int | None = None,
    volunteers_after_s: int | None = None,
) -> Policy:
    return Policy(
        tuple(
            Tier(int(t["tier"]), int(t["after_s"]), tuple(t["notify"]), bool(t.get("call_emergency_services", False)))
            for t in tiers
        ),
        int(en_route_timeout_s),
        int(repeat_every_s or DEFAULT_REPEAT_EVERY_S),
        int(volunteers_after_s) if volunteers_after_s is not None else None,
    )


def checked(
    steps: Sequence[tuple[int, Sequence[str], bool]],
    en_route_timeout_s: int,
    repeat_every_s: int = DEFAULT_REPEAT_EVERY_S,
) -> Policy:
    """A policy staff asked for, as (after_s, groups, call 120/110) per tier in order, or
    InvalidInput naming what is wrong. An alarm must reach someone at once, every tier must
    tell someone, later tiers come later, and the last says to call 120/110."""
    if not 1 <= len(steps) <= MAX_TIERS:
        raise InvalidInput("tiers", field="tiers")
    previous = -1
    tiers = []
    for n, (after_s, groups, call) in enumerate(steps, start=1):
        at_once_first = after_s == 0 if n == 1 else after_s > previous
        if not at_once_first or after_s > MAX_AFTER_S:
            raise InvalidInput("afterSeconds", field="afterSeconds")
        if not groups or len(set(groups)) != len(groups) or not set(groups) <= set(GROUPS):
            raise InvalidInput("notify", field="notify")
        tiers.append(Tier(n, after_s, tuple(groups), call))
        previous = after_s
    if not tiers[-1].call_emergency_services:
        raise InvalidInput("callEmergencyServices", field="callEmergencyServices")
    low, high = EN_ROUTE_TIMEOUT_S
    if not low <= en_route_timeout_s <= high:
        raise InvalidInput("enRouteTimeoutSeconds", field="enRouteTimeoutSeconds")
    if not REPEAT_EVERY_S[0] <= repeat_every_s <= REPEAT_EVERY_S[1]:
        raise InvalidInput("repeatEverySeconds", field="repeatEverySeconds")
    return Policy(tuple(tiers), en_route_timeout_s, repeat_every_s)


@cache
def default_policy(content_dir: Path, community_code: str) -> Policy:
    path = content_dir / "emergency" / f"{community_code}.json"
    data = json.loads((path if path.exists() else content_dir / "emergency" / "policy.json").read_text("utf-8"))
    return from_json(
        data["tiers"], data["en_route_timeout_s"], data.get("repeat_every_s"), data.get("volunteers_after_s")
    )
