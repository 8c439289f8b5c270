"""Many signed-in elders ask for the elder-mode home screen at once, against the served app.

Beside it, the same load on a bare strawberry query served the same way on the same
machine, so the cost of Linli's own layers (auth, database, read-aloud URLs) shows as a
ratio. Load comes from wrk (one thread), the server runs as `./dev run` would serve it.
Prints the figures, then one JSON line.

    ./dev bench home [--clients 50] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import document, linli_server, report, sign_in, uvicorn_app, wrk  # noqa: E402

ELDERS = [f"+86138000000{n:02d}" for n in range(1, 26)]


async def tokens_for(base: str, var_dir: Path) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens = [await sign_in(client, var_dir, phone) for phone in ELDERS]
        # Every elder really gets their home screen before we measure.
        for token in tokens:
            answer = await client.post(
                "/graphql", json={"query": document("app/Home")}, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.json()["data"]["home"]["buttons"], answer.text
        return tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()

    with linli_server() as (base, var_dir):
        tokens = asyncio.run(tokens_for(base, var_dir))
        wrk(base, {"query": document("app/Home")}, tokens=tokens, clients=args.clients, seconds=3)  # warm up
        linli = wrk(base, {"query": document("app/Home")}, tokens=tokens, clients=args.clients, seconds=args.seconds)
    with uvicorn_app("bench.bare_strawberry:app") as base:
        query = {"query": "{ home { key label } }"}
        wrk(base, query, tokens=[], clients=args.clients, seconds=3)
        bare = wrk(base, query, tokens=[], clients=args.clients, seconds=args.seconds)

    ratio = round(bare["rps"] / linli["rps"], 2) if linli["rps"] else None
    print(f"home query: {len(ELDERS)} signed-in elders, {args.clients} concurrent connections, {args.seconds} s")
    print(
        f"  linli home : p50 {linli['p50_ms']} ms  p99 {linli['p99_ms']} ms  {linli['rps']} req/s  failed {linli['failed']}"
    )
    print(
        f"  bare query : p50 {bare['p50_ms']} ms  p99 {bare['p99_ms']} ms  {bare['rps']} req/s  failed {bare['failed']}"
    )
    print(f"  Linli's layers cost {ratio}x a bare strawberry query (throughput ratio)")
    report(
        "home",
        {
            "clients": args.clients,
            "p50_ms": linli["p50_ms"],
            "p99_ms": linli["p99_ms"],
            "rps": linli["rps"],
            "failed": linli["failed"],
            "bare_p50_ms": bare["p50_ms"],
            "bare_p99_ms": bare["p99_ms"],
            "bare_rps": bare["rps"],
            "cost_ratio": ratio,
        },
    )


if __name__ == "__main__":
    main()
