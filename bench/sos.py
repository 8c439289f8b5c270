"""1,000 elders press the emergency button at once, against the served app.

For each press: the time to the stored answer, and the time until the first push for that
alarm reaches the FCM stand-in; and how many alarms were lost (not stored, or nobody told).
Embedded mode (one process, SQLite) and distributed mode (PostgreSQL + Redis, an api process
and two workers). Prints the figures, then one JSON line.

    ./dev bench sos [--elders 1000] [--mode embedded|distributed|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import PY, document, free_port, raw_post, report, wait_until_up  # noqa: E402
from tests.notify.fcm_standin import FcmStandIn  # noqa: E402

SECRET = "bench-secret-" + "x" * 32


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 1) if ordered else float("nan")


SETUP = r"""
import asyncio, datetime as dt, json, sys
from sqlalchemy import select
from backend.config import Settings
from backend.tokens import Tokens
from backend.db import create_engine, session_factory, transaction
from backend.community.models import Person, Household, Membership, Role, Device, DeviceKind

async def main(n):
    settings = Settings()
    engine = create_engine(settings.database_url)
    tokens = Tokens(settings)
    out = []
    async with transaction(session_factory(engine)) as s:
        households = list((await s.execute(select(Household))).scalars())
        workers = (await s.execute(select(Membership.person_id).where(Membership.role == Role.GRID_WORKER))).scalars()
        for pid in set(workers):
            s.add(Device(kind=DeviceKind.APP, identifier=f"ok-worker-{pid}", person_id=pid, platform="android"))
        people = []
        for i in range(n):
            h = households[i % len(households)]
            p = Person(name=f"Bench elder {i:04d}", phone=f"+86131{i:08d}", birth_date=dt.date(1940, 1, 1), household_id=h.id)
            s.add(p)
            people.append((p, h))
        await s.flush()
        for p, h in people:
            s.add(Membership(person_id=p.id, community_id=h.community_id, role=Role.RESIDENT))
            out.append(tokens.access_token(f"person:{p.id}", ttl=dt.timedelta(hours=1)))
    await engine.dispose()
    json.dump(out, sys.stdout)

asyncio.run(main(int(sys.argv[1])))
"""


def alerts_in(data: dict[str, str]) -> list[str]:
    """The alarms one push tells about: one, or a phone's bundle of several."""
    if "items" in data:
        return [item["alertId"] for item in json.loads(data["items"]) if "alertId" in item]
    return [data["alertId"]] if "alertId" in data else []


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PY, *args], env=env, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


async def press_all(port: int, tokens: list[str]) -> tuple[dict[str, float], list[float], int]:
    """Every elder presses at once. Returns alert id -> press time, answer latencies (ms), failures."""
    query = document("app/TriggerEmergency")
    bodies = [json.dumps({"query": query, "variables": {"idempotencyKey": uuid.uuid4().hex}}).encode() for _ in tokens]
    pressed: dict[str, float] = {}
    latencies: list[float] = []
    failures = 0
    gate = asyncio.Event()

    async def one(token: str, body: bytes) -> None:
        nonlocal failures
        await gate.wait()
        started = time.time()
        try:
            status, content = await raw_post(
                "127.0.0.1",
                port,
                "/graphql",
                body,
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            alert = json.loads(content)["data"]["triggerEmergency"]["emergency"]["id"]
        except Exception:
            failures += 1
            return
        latencies.append((time.time() - started) * 1000)
        pressed[alert] = started

    pressing = [asyncio.create_task(one(t, b)) for t, b in zip(tokens, bodies, strict=True)]
    await asyncio.sleep(0.1)  # every press ready, then all at once
    gate.set()
    await asyncio.gather(*pressing)
    return pressed, latencies, failures


def run_mode(mode: str, elders: int, pg_admin: str, redis_url: str) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory(prefix="linli-sos-") as tmp, FcmStandIn() as fcm:
        port = free_port()
        env = {
            **os.environ,
            "LINLI_VAR_DIR": f"{tmp}/var",
            "LINLI_PORT": str(port),
            "LINLI_LOG_LEVEL": "WARNING",
            "LINLI_JWT_SECRET": SECRET,
            "LINLI_FCM_CREDENTIALS_FILE": str(fcm.service_account(Path(tmp) / "sa.json")),
            "LINLI_FCM_ENDPOINT": fcm.url,
        }
        database = None
        if mode == "embedded":
            env["LINLI_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp}/linli.db"
        else:
            database = f"linli_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(["psql", pg_admin, "-qc", f'CREATE DATABASE "{database}"'], check=True)  # noqa: S603, S607
            env["LINLI_DATABASE_URL"] = (
                pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + database
            )
            env.update(
                LINLI_REDIS_URL=redis_url,
                LINLI_REDIS_PREFIX=f"bench-{uuid.uuid4().hex[:6]}",
                LINLI_RUN_WORKERS_IN_API="false",
            )
        procs: list[subprocess.Popen[bytes]] = []
        try:
            run_cli(env, "-m", "backend.cli", "migrate")
            run_cli(env, "-m", "backend.cli", "load-demo")
            tokens = json.loads(run_cli(env, "-c", SETUP, str(elders)))
            procs.append(subprocess.Popen([PY, "-m", "backend.cli", "serve"], env=env, cwd=ROOT))  # noqa: S603
            if mode == "distributed":
                procs += [subprocess.Popen([PY, "-m", "backend.cli", "worker"], env=env, cwd=ROOT) for _ in range(2)]  # noqa: S603
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/healthz")
            time.sleep(1.0)  # workers subscribed
            pressed, answer_ms, failures = asyncio.run(press_all(port, tokens))
            deadline = time.time() + 120
            first_push: dict[str, float] = {}
            while time.time() < deadline and len(first_push) < len(pressed):
                with fcm.lock:
                    arrivals = list(fcm.arrivals)
                for at, message in arrivals:
                    for alert in alerts_in(message.get("data", {})):
                        if alert in pressed and alert not in first_push:
                            first_push[alert] = at
                time.sleep(0.2)
            push_ms = [(first_push[a] - pressed[a]) * 1000 for a in first_push]
            lost = failures + (len(pressed) - len(first_push))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            if database:
                subprocess.run(
                    ["psql", pg_admin, "-qc", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'], check=False
                )  # noqa: S603, S607
    return {
        "mode": mode,
        "answer_p50_ms": percentile(answer_ms, 0.5),
        "answer_p99_ms": percentile(answer_ms, 0.99),
        "push_p50_ms": percentile(push_ms, 0.5),
        "push_p99_ms": percentile(push_ms, 0.99),
        "stored": len(pressed),
        "lost": lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--elders", type=int, default=1000)
    parser.add_argument("--mode", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument(
        "--pg", default=os.environ.get("LINLI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--redis", default=os.environ.get("LINLI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    modes = ["embedded", "distributed"] if args.mode == "both" else [args.mode]
    results = [run_mode(m, args.elders, args.pg, args.redis) for m in modes]
    for r in results:
        print(
            f"{r['mode']:>11}: {args.elders} presses at once; answer p50 {r['answer_p50_ms']} ms p99 {r['answer_p99_ms']} ms;"
            f" first push p50 {r['push_p50_ms']} ms p99 {r['push_p99_ms']} ms; stored {r['stored']}, lost {r['lost']}"
        )
    figures: dict[str, float | int] = {"elders": args.elders}
    for r in results:
        for key, value in r.items():
            if key != "mode":
                figures[f"{r['mode']}_{key}"] = value  # type: ignore[assignment]
    figures["lost"] = sum(int(r["lost"]) for r in results)
    report("sos", figures)


if __name__ == "__main__":
    main()
