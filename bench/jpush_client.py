"""Whether JPush's synchronous SDK holds the alarm path back: 1,000 alarm pushes at once (one
per phone, as a burst of alarms gives one push per responder's phone) against the JPush
stand-in, through `JPushChannel` (the official `jpush` SDK, each push in a thread of the
channel's own pool) and through a pooled async HTTP client posting the same documents to
REST API v3 (the alternative). For each: p50/p99 of each push's arrival after the start and
the last arrival. Prints the figures, then one JSON line.

    ./dev bench jpush_client [--pushes 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import httpx  # noqa: E402

from backend.config import REPO_ROOT  # noqa: E402
from backend.gateways.jpush import JPushChannel, vendor_classes  # noqa: E402
from backend.gateways.push import PushMessage  # noqa: E402
from bench.common import report  # noqa: E402
from tests.notify.jpush_standin import APP_KEY, MASTER_SECRET, JPushStandIn  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 1) if ordered else float("nan")


def messages(n: int, tag: str) -> list[PushMessage]:
    return [
        PushMessage(
            token=f"{tag}-{i:05d}",
            title="紧急呼叫",
            body="黎文华按了紧急按钮",
            data={"kind": "emergency"},
            emergency=True,
        )
        for i in range(n)
    ]


async def through_sdk(standin: JPushStandIn, n: int) -> tuple[float, list[float]]:
    channel = JPushChannel(APP_KEY, MASTER_SECRET, classes=vendor_classes(REPO_ROOT / "content"), endpoint=standin.url)
    started = time.time()
    results = await channel.send(messages(n, "sdk"))
    await channel.aclose()
    assert all(r.delivered for r in results), {r.error for r in results}
    return started, arrivals_of(standin, "sdk")


async def through_rest(standin: JPushStandIn, n: int) -> tuple[float, list[float]]:
    channel = JPushChannel(APP_KEY, MASTER_SECRET, classes=vendor_classes(REPO_ROOT / "content"), endpoint=standin.url)
    slots = asyncio.Semaphore(50)
    async with httpx.AsyncClient(
        base_url=standin.url, auth=(APP_KEY, MASTER_SECRET), timeout=3, limits=httpx.Limits(max_connections=50)
    ) as client:

        async def one(m: PushMessage) -> None:
            async with slots:
                answer = await client.post("/v3/push", json=channel.payload(m))
            assert answer.status_code == 200

        started = time.time()
        await asyncio.gather(*(one(m) for m in messages(n, "rest")))
    await channel.aclose()
    return started, arrivals_of(standin, "rest")


def arrivals_of(standin: JPushStandIn, tag: str) -> list[float]:
    with standin.lock:
        return [
            at
            for at, p in zip(standin.arrivals, standin.sent, strict=True)
            if p["audience"]["registration_id"][0].startswith(tag)
        ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=1000)
    args = parser.parse_args()
    figures: dict[str, float | int] = {"pushes": args.pushes}
    for name, way in (("sdk", through_sdk), ("rest", through_rest)):
        with JPushStandIn() as standin:
            started, arrivals = asyncio.run(way(standin, args.pushes))
        ms = [(at - started) * 1000 for at in arrivals]
        figures |= {
            f"{name}_arrived": len(ms),
            f"{name}_p50_ms": percentile(ms, 0.5),
            f"{name}_p99_ms": percentile(ms, 0.99),
            f"{name}_last_ms": round(max(ms), 1) if ms else float("nan"),
        }
        print(
            f"{name:>4}: {len(ms)} of {args.pushes} pushes arrived; p50 {figures[f'{name}_p50_ms']} ms, p99 {figures[f'{name}_p99_ms']} ms, last {figures[f'{name}_last_ms']} ms"
        )
    report("jpush_client", figures)


if __name__ == "__main__":
    main()
