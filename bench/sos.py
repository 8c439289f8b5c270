"""1,000 elders press the emergency button at once, against the served app.

For each press: the time to the stored answer, and the time from the press to the first
request for that alarm at each path's stand-in: FCM and JPush (the push names the alarm), the
SMS gateway and the voice-call service (one SMS, or one call, per responder per round names
only how many alarms: for those the time is when the gateway took it, from the delivery
record). Each of the four grid workers has a different first path: an FCM phone, a JPush
phone, SMS only, a call first. Also how many SMS the busiest responder got, and how many
alarms were lost (not stored, or nobody told). Two bursts: one a second after the server is
up, while its start-up chores run (the TV channel, subsidies, the phone line's prompts), and
one on the settled server; and the machine's floor in the same sitting: 1,000 connections at
once to /healthz. Embedded mode (SQLite; the service's process and its chores' process) and
distributed mode (PostgreSQL + Redis, an api process, two workers and a chores worker).
Prints the figures, then one JSON line.

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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import PY, document, free_port, raw_post, report, wait_until_up  # noqa: E402
from tests.notify.call_standin import SHOW_NUMBER, AliyunVoiceStandIn  # noqa: E402
from tests.notify.fcm_standin import FcmStandIn  # noqa: E402
from tests.notify.jpush_standin import APP_KEY, MASTER_SECRET, JPushStandIn  # noqa: E402
from tests.notify.sms_standins import ACCESS_KEY_ID, AliyunSmsStandIn  # noqa: E402

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
from sqlalchemy import delete
from backend.community.models import Person, Household, Membership, Role, Device, DeviceKind, Grid, GridAssignment, Community
from backend.notify.models import NotificationSettings

async def main(n):
    settings = Settings()
    engine = create_engine(settings.database_url)
    tokens = Tokens(settings)
    out = []
    async with transaction(session_factory(engine)) as s:
        households = list((await s.execute(select(Household))).scalars())
        by_phone = {p.phone: p for p in (await s.execute(select(Person))).scalars()}
        # Each grid's worker is reached first on another path.
        fcm, jpush, caller = by_phone["+8613700000001"], by_phone["+8613700000002"], by_phone["+8613700000003"]
        s.add(Device(kind=DeviceKind.APP, identifier=f"ok-worker-{fcm.id}", person_id=fcm.id, platform="android", vendor="fcm"))
        s.add(Device(kind=DeviceKind.APP, identifier=f"jp-worker-{jpush.id}", person_id=jpush.id, platform="android", vendor="jpush"))
        s.add(NotificationSettings(person_id=caller.id, paths=["voice", "sms"]))
        heping = (await s.execute(select(Community).where(Community.code == "heping"))).scalar_one()
        grid2 = (await s.execute(select(Grid).where(Grid.code == "heping-g2"))).scalar_one()
        texter = Person(name="短信网格员", phone="+8613799990001", birth_date=dt.date(1985, 1, 1))
        s.add(texter)
        await s.flush()
        s.add(Membership(person_id=texter.id, community_id=heping.id, role=Role.GRID_WORKER))
        await s.execute(delete(GridAssignment).where(GridAssignment.person_id == caller.id, GridAssignment.grid_id == grid2.id))
        s.add(GridAssignment(person_id=texter.id, grid_id=grid2.id))
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


DELIVERIES = r"""
import asyncio, json, sys
from sqlalchemy import select
from backend.config import Settings
from backend.db import create_engine, session_factory
from backend.notify.models import Delivery, Notification

async def main():
    engine = create_engine(Settings().database_url)
    first = {}
    async with session_factory(engine)() as s:
        rows = await s.execute(
            select(Notification.ref, Delivery.path, Delivery.at)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Delivery.result.in_(("sent", "delivered")), Notification.ref.like("alert:%"))
        )
        for ref, path, at in rows.all():
            key = (ref.partition(":")[2], path)
            first[key] = min(first.get(key, at.timestamp()), at.timestamp())
    await engine.dispose()
    json.dump([[a, p, t] for (a, p), t in first.items()], sys.stdout)

asyncio.run(main())
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


async def floor(port: int, connections: int) -> list[float]:
    """The machine's floor: this many connections at once to /healthz (no database, no work)."""
    gate = asyncio.Event()
    latencies: list[float] = []

    async def one() -> None:
        await gate.wait()
        started = time.time()
        status, _ = await raw_post("127.0.0.1", port, "/healthz", b"", {}, method="GET")
        if status == 200:
            latencies.append((time.time() - started) * 1000)

    asking = [asyncio.create_task(one()) for _ in range(connections)]
    await asyncio.sleep(0.1)
    gate.set()
    await asyncio.gather(*asking, return_exceptions=True)
    return latencies


CHORES_LEFT = r"""
import asyncio, json, sys
from sqlalchemy import func, or_, select
import backend.registry
from backend import jobs
from backend.config import Settings
from backend.db import create_engine, session_factory, utcnow
from backend.jobs import Job, JobStatus

async def main():
    engine = create_engine(Settings().database_url)
    async with session_factory(engine)() as s:
        left = await s.scalar(
            select(func.count()).select_from(Job).where(
                or_(Job.status == JobStatus.RUNNING, (Job.status == JobStatus.PENDING) & (Job.run_at <= utcnow())),
            )
        )
        standing = await s.scalar(
            select(func.count(func.distinct(Job.kind))).where(Job.status == JobStatus.DONE, Job.kind.in_(jobs._standing))
        )
    await engine.dispose()
    json.dump([left, standing, len(jobs._standing)], sys.stdout)

asyncio.run(main())
"""


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (espeak-ng, ffmpeg)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def wait_settled(env: dict[str, str], pids: list[int], timeout_s: float = 300.0) -> float:
    """Until every standing chore has run once, nothing is due, and the server's processes use
    under a tenth of a core for three seconds running: the seconds it took."""
    started = time.time()
    quiet = 0
    last = cpu_seconds(pids)
    while time.time() - started < timeout_s:
        time.sleep(1.0)
        now = cpu_seconds(pids)
        left, standing, kinds = json.loads(run_cli(env, "-c", CHORES_LEFT))
        quiet = quiet + 1 if now - last < 0.1 and left == 0 and standing >= kinds else 0
        last = now
        if quiet >= 3:
            break
    return round(time.time() - started, 1)


def children_of(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def first_arrivals(arrivals: list[tuple[float, dict[str, str]]], pressed: dict[str, float]) -> dict[str, float]:
    """Each alarm's first push at a stand-in: alert id -> when it arrived."""
    found: dict[str, float] = {}
    for at, data in sorted(arrivals, key=lambda a: a[0]):
        for alert in alerts_in(data):
            if alert in pressed and alert not in found:
                found[alert] = at
    return found


def told_of(
    env: dict[str, str], fcm: Any, jpush: Any, pressed: dict[str, float], timeout_s: float = 120.0
) -> dict[str, dict[str, float]]:
    """Each alarm's first request at each path's stand-in (or delivery record), until every
    alarm has reached someone or the time is up."""
    deadline = time.time() + timeout_s
    told: dict[str, dict[str, float]] = {}
    while time.time() < deadline:
        with fcm.lock:
            fcm_arrivals = [(at, m.get("data", {})) for at, m in fcm.arrivals]
        with jpush.lock:
            jpush_arrivals = [
                (at, p["notification"]["android"]["extras"]) for at, p in zip(jpush.arrivals, jpush.sent, strict=True)
            ]
        firsts = [(a, p, t) for a, p, t in json.loads(run_cli(env, "-c", DELIVERIES))]
        told = {
            "fcm": first_arrivals(fcm_arrivals, pressed),
            "jpush": first_arrivals(jpush_arrivals, pressed),
            "sms": {a: t for a, p, t in firsts if p == "sms" and a in pressed},
            "voice": {a: t for a, p, t in firsts if p == "voice" and a in pressed},
        }
        if len(set().union(*told.values())) >= len(pressed):
            break
        time.sleep(1.0)
    return told


def burst_figures(
    prefix: str, answer_ms: list[float], pressed: dict[str, float], told: dict[str, Any], failures: int
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        f"{prefix}answer_p50_ms": percentile(answer_ms, 0.5),
        f"{prefix}answer_p99_ms": percentile(answer_ms, 0.99),
    }
    firsts: list[float] = []
    for path, firsts_of in told.items():
        ms = [(at - pressed[a]) * 1000 for a, at in firsts_of.items()]
        figures |= {
            f"{prefix}{path}_alarms": len(ms),
            f"{prefix}{path}_p50_ms": percentile(ms, 0.5),
            f"{prefix}{path}_p99_ms": percentile(ms, 0.99),
        }
    # The first push: whichever path reached someone first, per alarm.
    for alert, at in pressed.items():
        reached = [t[alert] for t in told.values() if alert in t]
        if reached:
            firsts.append((min(reached) - at) * 1000)
    figures[f"{prefix}first_push_p99_ms"] = percentile(firsts, 0.99)
    figures[f"{prefix}lost"] = failures + (len(pressed) - len(set().union(*told.values())))
    return figures


def run_mode(mode: str, elders: int, pg_admin: str, redis_url: str) -> dict[str, float | int | str]:
    with (
        tempfile.TemporaryDirectory(prefix="linli-sos-") as tmp,
        FcmStandIn() as fcm,
        JPushStandIn() as jpush,
        AliyunSmsStandIn() as sms,
        AliyunVoiceStandIn() as calls,
    ):
        port = free_port()
        env = {
            **os.environ,
            "LINLI_VAR_DIR": f"{tmp}/var",
            "LINLI_PORT": str(port),
            "LINLI_LOG_LEVEL": "WARNING",
            "LINLI_JWT_SECRET": SECRET,
            "LINLI_FCM_CREDENTIALS_FILE": str(fcm.service_account(Path(tmp) / "sa.json")),
            "LINLI_FCM_ENDPOINT": fcm.url,
            "LINLI_JPUSH_APP_KEY": APP_KEY,
            "LINLI_JPUSH_MASTER_SECRET": MASTER_SECRET,
            "LINLI_JPUSH_ENDPOINT": jpush.url,
            "LINLI_SMS_PROVIDERS": "aliyun",
            "LINLI_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "LINLI_ALIYUN_ACCESS_KEY_SECRET": "bench-secret",
            "LINLI_ALIYUN_SMS_SIGN_NAME": "邻里社区",
            "LINLI_ALIYUN_SMS_ENDPOINT": sms.url,
            "LINLI_ALIYUN_VOICE_SHOW_NUMBER": SHOW_NUMBER,
            "LINLI_ALIYUN_VOICE_ENDPOINT": calls.url,
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
        figures: dict[str, Any] = {"mode": mode}
        try:
            run_cli(env, "-m", "backend.cli", "migrate")
            run_cli(env, "-m", "backend.cli", "load-demo")
            tokens = json.loads(run_cli(env, "-c", SETUP, str(2 * elders)))
            procs.append(subprocess.Popen([PY, "-m", "backend.cli", "serve"], env=env, cwd=ROOT))  # noqa: S603
            if mode == "distributed":
                urgent = {**env, "LINLI_JOB_KINDS": "urgent"}
                procs += [subprocess.Popen([PY, "-m", "backend.cli", "worker"], env=urgent, cwd=ROOT) for _ in range(2)]  # noqa: S603
                chores = {**env, "LINLI_JOB_KINDS": "can_wait"}
                procs.append(subprocess.Popen([PY, "-m", "backend.cli", "worker"], env=chores, cwd=ROOT))  # noqa: S603
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/healthz")
            time.sleep(1.0)  # workers subscribed; the start-up chores under way
            for prefix, group in (("startup_", tokens[:elders]), ("settled_", tokens[elders:])):
                if prefix == "settled_":
                    pids = [p.pid for p in procs] + [c for p in procs for c in children_of(p.pid)]
                    figures["settled_after_s"] = wait_settled(env, pids)
                    floor_ms = asyncio.run(floor(port, elders))
                    figures |= {"floor_p50_ms": percentile(floor_ms, 0.5), "floor_p99_ms": percentile(floor_ms, 0.99)}
                pressed, answer_ms, failures = asyncio.run(press_all(port, group))
                told = told_of(env, fcm, jpush, pressed)
                figures |= burst_figures(prefix, answer_ms, pressed, told, failures)
                figures[f"{prefix}stored"] = len(pressed)
            with sms.lock:
                per_phone: dict[str, int] = {}
                for m in sms.sent:
                    per_phone[m["phone"]] = per_phone.get(m["phone"], 0) + 1
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            if database:
                subprocess.run(
                    ["psql", pg_admin, "-qc", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'], check=False
                )  # noqa: S603, S607
    floor_p99 = float(figures["floor_p99_ms"]) or 1.0
    figures |= {
        "sms_messages": sum(per_phone.values()),
        "sms_to_busiest_responder": max(per_phone.values(), default=0),
        "lost": int(figures["startup_lost"]) + int(figures["settled_lost"]),
    }
    for prefix in ("startup_", "settled_"):
        figures[f"{prefix}answer_x_floor"] = round(float(figures[f"{prefix}answer_p99_ms"]) / floor_p99, 2)
        figures[f"{prefix}first_push_x_floor"] = round(float(figures[f"{prefix}first_push_p99_ms"]) / floor_p99, 2)
    return figures


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
        print(f"{r['mode']:>11}: floor (/healthz, {args.elders} at once) p99 {r['floor_p99_ms']} ms")
        for prefix, what in (("startup_", "during start-up work"), ("settled_", "on the settled server")):
            paths = "; ".join(
                f"{p} ({r[f'{prefix}{p}_alarms']}) p99 {r[f'{prefix}{p}_p99_ms']} ms"
                for p in ("fcm", "jpush", "sms", "voice")
            )
            print(
                f"{'':>13}{args.elders} presses at once {what}: answer p50 {r[f'{prefix}answer_p50_ms']} ms"
                f" p99 {r[f'{prefix}answer_p99_ms']} ms ({r[f'{prefix}answer_x_floor']}x the floor);"
                f" first push p99 {r[f'{prefix}first_push_p99_ms']} ms ({r[f'{prefix}first_push_x_floor']}x);"
                f" per path: {paths}; lost {r[f'{prefix}lost']}"
            )
        print(
            f"{'':>13}settled {r['settled_after_s']} s after the first burst; {r['sms_messages']} SMS, at most {r['sms_to_busiest_responder']} to one responder"
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
