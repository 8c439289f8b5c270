"""Lunch time at the canteen: many elders order a meal at once, against the served app; then
the reads every elder's screen makes (`home` and `todayMenu`): first by elders who look at
the screen for a few seconds between taps, then by connections that never pause (the
server's ceiling; latency there is queueing, clients / throughput).

The served app runs on a copy of the content whose canteen keeps all-day hours and a deep pot
(so the bench means the same at any hour of the day), on a fresh SQLite database, or a fresh
PostgreSQL one with --postgres. After the orders, the database is checked: every order the
server said it took is there, with its stock taken and its money paid ("lost" counts any
that are not). Prints the figures, then one JSON line.

    ./dev bench orders [--clients 100] [--orders 1000] [--seconds 15] [--think-s 5] [--workers 1] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, document, linli_server, load, raw_post, report, sign_in, wrk  # noqa: E402

ELDERS = [f"+86138000000{n:02d}" for n in range(1, 26)]
DISH, PRICE_FEN = "lunch-set-a", 1200
TOP_UP_FEN = 200_000  # each elder's wallet, enough for every order the bench makes
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def all_day_content(into: Path) -> Path:
    """The real content, but the canteen is open around the clock with plenty of portions."""
    content = into / "content"
    shutil.copytree(ROOT / "content", content)
    path = content / "commerce" / "merchants.json"
    data = json.loads(path.read_text("utf-8"))
    for merchant in data["merchants"]:
        merchant.update(opens="00:00", closes="23:59")
        for meal in merchant.get("meals", {}).values():
            meal["cutoff"] = "23:59"
    for product in data["products"]:
        if product.get("meal"):
            product["portions"] = 1_000_000
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return content


async def fresh_postgres() -> str:
    name = f"linli_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def drop_postgres(url: str) -> None:
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    await admin.dispose()


async def prepare(base: str, var_dir: Path) -> list[str]:
    """Every elder signed in, with money in the wallet and today's menu on screen."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens = [await sign_in(client, var_dir, phone) for phone in ELDERS]
        for token in tokens:
            auth = {"Authorization": f"Bearer {token}"}
            topped = await client.post(
                "/graphql",
                json={
                    "query": document("app/TopUpWallet"),
                    "variables": {"amountFen": TOP_UP_FEN, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex},
                },
                headers=auth,
            )
            assert topped.json()["data"]["topUpWallet"]["__typename"] == "WalletToppedUp", topped.text
            menu = await client.post("/graphql", json={"query": document("app/TodayMenu")}, headers=auth)
            dishes = [d["productCode"] for m in menu.json()["data"]["todayMenu"] for d in m["dishes"]]
            assert DISH in dishes, menu.text
        return tokens


async def place_orders(base: str, tokens: list[str], *, clients: int, orders: int) -> tuple[dict[str, float], int]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    query = document("app/PlaceOrder")
    taken = 0
    failures: list[str] = []  # the first, to say why

    async def order(n: int) -> bool:
        nonlocal taken
        body = json.dumps(
            {
                "query": query,
                "variables": {
                    "items": [{"productCode": DISH, "quantity": 1}],
                    "idempotencyKey": f"bench-{n}-{uuid.uuid4().hex[:8]}",
                    "fulfilment": "DELIVERY",
                },
            }
        ).encode()
        status, content = await raw_post(
            host,
            port,
            "/graphql",
            body,
            {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[n % len(tokens)]}"},
        )
        ok = status == 200 and b'"__typename":"CommerceOrder"' in content.replace(b" ", b"")
        if not ok and not failures:
            failures.append(f"{status} {content[:300]!r}")
        taken += ok
        return ok

    figures = await load(order, clients=clients, requests=orders)
    if failures:
        print("  first failed order:", failures[0])
    return figures, taken


async def elders_reading(
    base: str, tokens: list[str], *, clients: int, seconds: int, think_s: float
) -> dict[str, float]:
    """`clients` elders, each opening the home screen and today's menu, then looking at them
    for about `think_s` seconds before the next tap: latency of every read."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    bodies = [json.dumps({"query": document(name)}).encode() for name in ("app/Home", "app/TodayMenu")]
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def elder(n: int) -> None:
        nonlocal failures
        rng = random.Random(n)
        await asyncio.sleep(rng.uniform(0, think_s))  # elders do not all tap at the same instant
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        while time.perf_counter() < deadline:
            for body in bodies:
                started = time.perf_counter()
                status, content = await raw_post(host, port, "/graphql", body, headers)
                latencies.append((time.perf_counter() - started) * 1000)
                failures += status != 200 or b'"errors"' in content
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))

    await asyncio.gather(*(elder(n) for n in range(clients)))
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "rps": round(len(latencies) / seconds, 1),
        "failed": failures,
    }


async def drained(database_url: str, timeout_s: float = 300) -> float:
    """Seconds until every order's notices (the outbox) have been handled: the reads are
    measured on a server that is not still catching up on the lunch rush."""
    engine = create_async_engine(database_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout_s:
            async with engine.connect() as conn:
                pending = await conn.scalar(sa.text("SELECT count(*) FROM outbox_events WHERE completed_at IS NULL"))
            if not pending:
                return round(time.perf_counter() - started, 1)
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{pending} events still pending after {timeout_s} s")
    finally:
        await engine.dispose()


async def audit(database_url: str, said_taken: int) -> dict[str, int]:
    """What the database holds against what the server answered."""
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        rows = int(await conn.scalar(sa.text("SELECT count(*) FROM orders WHERE status = 'placed'")) or 0)
        sold = int(
            await conn.scalar(
                sa.text("SELECT coalesce(sum(1000000 - left_count), 0) FROM stock WHERE product_code = :p"), {"p": DISH}
            )
            or 0
        )
        paid = int(
            await conn.scalar(
                sa.text("SELECT coalesce(balance, 0) FROM accounts WHERE key = 'provider:xingfu-canteen'")
            )
            or 0
        )
    await engine.dispose()
    return {
        "orders_in_db": rows,
        "lost": max(0, said_taken - rows) + abs(sold - rows) + abs(paid - rows * PRICE_FEN) // PRICE_FEN,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--think-s", type=float, default=5.0, help="an elder's pause between taps")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server processes (uvicorn workers)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="linli-bench-orders-") as tmp:
        env = {"LINLI_CONTENT_DIR": str(all_day_content(Path(tmp)))}
        pg_url = asyncio.run(fresh_postgres()) if args.postgres else None
        if pg_url:
            env["LINLI_DATABASE_URL"] = pg_url
        try:
            with linli_server(env, workers=args.workers) as (base, var_dir):
                database_url = pg_url or f"sqlite+aiosqlite:///{var_dir.parent / 'linli.db'}"
                tokens = asyncio.run(prepare(base, var_dir))
                writes, taken = asyncio.run(place_orders(base, tokens, clients=args.clients, orders=args.orders))
                checked = asyncio.run(audit(database_url, taken))
                drain_s = asyncio.run(drained(database_url))
                reads = asyncio.run(
                    elders_reading(base, tokens, clients=args.clients, seconds=args.seconds, think_s=args.think_s)
                )
                reads_body = [{"query": document("app/Home")}, {"query": document("app/TodayMenu")}]
                wrk(base, reads_body, tokens=tokens, clients=args.clients, seconds=3)  # warm up
                flat_out = wrk(base, reads_body, tokens=tokens, clients=args.clients, seconds=args.seconds)
        finally:
            if pg_url:
                asyncio.run(drop_postgres(pg_url))

    engine = "postgresql" if args.postgres else "sqlite"
    print(
        f"meal orders: {args.orders} by {len(ELDERS)} elders over {args.clients} concurrent clients"
        f" ({engine}, {args.workers} server process{'es' if args.workers > 1 else ''})"
    )
    print(
        f"  orders : {writes['rps']} orders/s  p50 {writes['p50_ms']} ms  p99 {writes['p99_ms']} ms"
        f"  failed {writes['failed']}  in db {checked['orders_in_db']}  lost {checked['lost']}"
    )
    print(f"  every order's notices sent {drain_s} s after the last order was answered")
    print(f"home + todayMenu: {args.clients} elders tapping every ~{args.think_s} s, {args.seconds} s")
    print(
        f"  reads  : {reads['rps']} req/s  p50 {reads['p50_ms']} ms  p99 {reads['p99_ms']} ms  failed {reads['failed']}"
    )
    print(f"home + todayMenu flat out: {args.clients} connections never pausing (wrk), {args.seconds} s")
    print(
        f"  reads  : {flat_out['rps']} req/s  p50 {flat_out['p50_ms']} ms  p99 {flat_out['p99_ms']} ms"
        f"  failed {flat_out['failed']}"
    )
    report(
        "orders",
        {
            "database": engine,
            "workers": args.workers,
            "clients": args.clients,
            "orders": args.orders,
            "orders_per_s": writes["rps"],
            "order_p50_ms": writes["p50_ms"],
            "order_p99_ms": writes["p99_ms"],
            "order_failed": writes["failed"],
            "lost": checked["lost"],
            "notices_drained_s": drain_s,
            "read_rps": reads["rps"],
            "read_p50_ms": reads["p50_ms"],
            "read_p99_ms": reads["p99_ms"],
            "read_failed": reads["failed"],
            "think_s": args.think_s,
            "flat_out_rps": flat_out["rps"],
            "flat_out_p50_ms": flat_out["p50_ms"],
            "flat_out_p99_ms": flat_out["p99_ms"],
            "flat_out_failed": flat_out["failed"],
        },
    )


if __name__ == "__main__":
    main()
