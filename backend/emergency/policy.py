"""The escalation policy: who is told at each tier, and after how long (content/emergency)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


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

    def tier(self, n: int) -> Tier | None:
        return next((t for t in self.tiers if t.tier == n), None)


@cache
def policy_for(content_dir: Path, community_code: str) -> Policy:
    path = content_dir / "emergency" / f"{community_code}.json"
    data = json.loads((path if path.exists() else content_dir / "emergency" / "policy.json").read_text("utf-8"))
    tiers = tuple(
        Tier(t["tier"], int(t["after_s"]), tuple(t["notify"]), bool(t.get("call_emergency_services", False)))
        for t in data["tiers"]
    )
    return Policy(tiers=tiers, en_route_timeout_s=int(data["en_route_timeout_s"]))
