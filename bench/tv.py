"""The TV door under load, against the served app (one process, SQLite, as `./dev run`).

- 5,000 set-top boxes hold their live connection (server-sent events); the local warning
  system posts a CAP warning for the district: the time until the overlay reaches each box.
- The same 5,000 boxes open the portal's home at once: the server's time per answer
  (its Server-Timing header) and the time each box waited.
- The channel loop: the first build of both channels, then the rebuild after one
  announcement changes (seconds from the change to the new loop on air, and the CPU seconds
  the server and its ffmpeg spent).
- The portal's first screen in Chromium with the CPU throttled 4x (the pairing screen of a
  new box, and the home of a paired one), from navigation to the screen drawn.

Prints the figures, then one JSON line.

    ./dev bench tv [--boxes 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from backend.signed_requests import sign  # noqa: E402
from bench.common import PY, document, free_port, report, sign_in, wait_until_up  # noqa: E402

SECRET = "bench-secret-" + "x" * 32
CAP_SENDER, CAP_SECRET = "bench-warnings@cq.gov.cn", "bench-cap-secret"
ADMIN = "+8613500000001"
TICKS = os.sysconf("SC_CLK_TCK")

SETUP = r"""
import asyncio, datetime as dt, json, sys
from sqlalchemy import select
from backend.config import Settings
from backend.tokens import Tokens
from backend.db import create_engine, session_factory, transaction
from backend.community.models import Device, DeviceKind, Household

async def main(n):
    settings = Settings()
    engine = create_engine(settings.database_url)
    tokens = Tokens(settings)
    async with transaction(session_factory(engine)) as s:
        homes = list((await s.execute(select(Household.id).order_by(Household.id))).scalars())
        boxes = [Device(kind=DeviceKind.TV, identifier=f"BENCH-BOX-{i:05d}", household_id=homes[i % len(homes)]) for i in range(n)]
        s.add_all(boxes)
        await s.flush()
        ids = [b.id for b in boxes]
    await engine.dispose()
    print(json.dumps([tokens.access_token(f"tv:{i}", ttl=dt.timedelta(hours=2)) for i in ids]))

asyncio.run(main(int(sys.argv[1])))
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 1) if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time and its reaped children's (ffmpeg, sox, the speech workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / TICKS


async def sse_box(
    host: str,
    port: int,
    token: str,
    connected: asyncio.Event,
    counter: list[int],
    n: int,
    arrived: dict[int, float],
    i: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /tv/portal/events?ticket={token} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"event: hello"):
                counter[0] += 1
                if counter[0] == n:
                    connected.set()
            elif line.startswith(b"event: warning"):
                arrived[i] = time.perf_counter()
                return
    finally:
        writer.close()


async def get(host: str, port: int, path: str, token: str) -> tuple[float, float]:
    """(the server's time in ms, the time waited in ms)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode()
    )
    raw = await reader.read(-1)
    writer.close()
    waited = (time.perf_counter() - started) * 1000
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 200"), head[:200]
    server = next(float(h.split("dur=")[1]) for h in head.split("\r\n") if h.lower().startswith("server-timing"))
    return server, waited


def cap_message() -> bytes:
    now = time.time()
    local = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(t + 8 * 3600))  # noqa: E731
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>BENCH-{uuid.uuid4().hex[:10]}</identifier><sender>{CAP_SENDER}</sender><sent>{local(now)}</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>zh-CN</language><category>Met</category><event>暴雨</event><urgency>Immediate</urgency>
    <severity>Moderate</severity><certainty>Likely</certainty><expires>{local(now + 3600)}</expires>
    <headline>渝中区暴雨黄色预警</headline><description>未来3小时有大雨。</description><instruction>请不要外出。</instruction>
    <area><areaDesc>重庆市渝中区</areaDesc><geocode><valueName>GB/T 2260</valueName><value>500103</value></geocode></area>
  </info>
</alert>""".encode()


async def overlay_and_home(base: str, tokens: list[str]) -> dict[str, float]:
    host, port = base.removeprefix("http://").split(":")
    n = len(tokens)
    connected, counter, arrived = asyncio.Event(), [0], {}
    boxes = []
    for start in range(0, n, 500):  # boxes come on in waves, as a district's TVs would
        boxes += [
            asyncio.create_task(sse_box(host, int(port), t, connected, counter, n, arrived, start + i))
            for i, t in enumerate(tokens[start : start + 500])
        ]
        await asyncio.sleep(0.2)
    await asyncio.wait_for(connected.wait(), 120)
    await asyncio.sleep(2)
    body = cap_message()
    stamp = str(int(time.time()))
    headers = {
        "x-linli-sender": CAP_SENDER,
        "x-linli-timestamp": stamp,
        "x-linli-signature": sign(CAP_SECRET, stamp, body),
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        t0 = time.perf_counter()
        answer = await client.post("/integrations/cap", content=body, headers=headers)
        accepted = (time.perf_counter() - t0) * 1000
    assert answer.status_code == 200 and answer.json()["shownIn"], answer.text
    await asyncio.wait(boxes, timeout=30)
    for b in boxes:
        b.cancel()
    reached = [(t - t0) * 1000 for t in arrived.values()]
    figures = {
        "boxes": n,
        "overlay_reached": len(reached),
        "overlay_p50_ms": pct(reached, 0.5),
        "overlay_p99_ms": pct(reached, 0.99),
        "overlay_max_ms": round(max(reached), 1) if reached else float("nan"),
        "cap_answered_ms": round(accepted, 1),
    }
    await asyncio.sleep(1)

    started = time.perf_counter()
    semaphore = asyncio.Semaphore(2000)  # the client's own sockets; the server sees them all at once

    async def one(token: str) -> tuple[float, float]:
        async with semaphore:
            return await get(host, int(port), "/tv/portal/api/home", token)

    answers = await asyncio.gather(*(one(t) for t in tokens))
    figures |= {
        "home_server_p50_ms": pct([a[0] for a in answers], 0.5),
        "home_server_p99_ms": pct([a[0] for a in answers], 0.99),
        "home_waited_p99_ms": pct([a[1] for a in answers], 0.99),
        "home_all_s": round(time.perf_counter() - started, 2),
    }
    return figures


async def on_air(client: httpx.AsyncClient, community_id: int, since: str | None) -> str:
    """The version of the loop on air, once it is not `since` (three minutes at most)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        feed = (await client.get(f"/tv/channels/{community_id}/feed.json")).json()
        version = (feed.get("onAir") or {}).get("version")
        if version and version != since:
            return str(version)
        await asyncio.sleep(0.1)
    raise TimeoutError("no new loop on air")


async def rebuild(base: str, var_dir: Path, pid: int, started: float) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        first = await on_air(client, 1, None)
        await on_air(client, 2, None)
        first_s = time.perf_counter() - started
        admin = await sign_in(client, var_dir, ADMIN)
        await asyncio.sleep(3)  # the server idle again
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        published = await client.post(
            "/graphql",
            json={
                "query": document("staff/PublishAnnouncement"),
                "variables": {
                    "input": {
                        "communityId": "1",
                        "kind": "ANNOUNCEMENT",
                        "title": "燃气安全检查",
                        "body": "下周一起燃气公司上门查燃气，请家里留人。",
                        "plainText": "下周一起燃气公司上门查燃气，请家里留人。",
                    }
                },
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert published.json()["data"]["publishAnnouncement"]["__typename"] == "Announcement", published.text
        await on_air(client, 1, first)
        return {
            "first_loops_s": round(first_s, 1),
            "rebuild_s": round(time.perf_counter() - t0, 2),
            "rebuild_cpu_s": round(cpu_seconds(pid) - cpu0, 2),
        }


async def first_screen(base: str, token: str) -> dict[str, float]:
    from playwright.async_api import async_playwright

    async def timed(page: object, url: str, ready: str) -> float:
        started = time.perf_counter()
        await page.goto(url)  # type: ignore[attr-defined]
        await page.wait_for_selector(ready, state="visible")  # type: ignore[attr-defined]
        return (time.perf_counter() - started) * 1000

    pairing, home = [], []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(5):
            context = await browser.new_context(viewport={"width": 1280, "height": 720})
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            pairing.append(await timed(page, f"{base}/tv/portal?serial=BENCH-{uuid.uuid4().hex[:6]}", "#user-code"))
            await context.close()
            context = await browser.new_context(viewport={"width": 1280, "height": 720})
            await context.add_init_script(f"localStorage.setItem('linli.tv.token', {json.dumps(token)})")
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            home.append(await timed(page, f"{base}/tv/portal", "main .grid .item"))
            await context.close()
        await browser.close()
    return {
        "first_screen_pairing_ms_median": round(statistics.median(pairing), 1),
        "first_screen_pairing_ms_max": round(max(pairing), 1),
        "first_screen_home_ms_median": round(statistics.median(home), 1),
        "first_screen_home_ms_max": round(max(home), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boxes", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="linli-bench-tv-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "LINLI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/linli.db",
            "LINLI_VAR_DIR": f"{tmp}/var",
            "LINLI_PORT": str(port),
            "LINLI_LOG_LEVEL": "WARNING",
            "LINLI_JWT_SECRET": SECRET,
            "LINLI_CAP_SENDER_SECRETS": json.dumps({CAP_SENDER: CAP_SECRET}),
            "LINLI_TV_REBUILD_DELAY_S": "0",
        }
        for step in ("migrate", "load-demo"):
            subprocess.run([PY, "-m", "backend.cli", step], env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
        made = subprocess.run([PY, "-c", SETUP, str(args.boxes)], env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
        tokens = json.loads(made.stdout)
        started = time.perf_counter()
        server = subprocess.Popen([PY, "-m", "backend.cli", "serve"], env=env, cwd=ROOT)  # noqa: S603
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/healthz")
            figures = {"boxes": args.boxes}
            figures |= asyncio.run(rebuild(base, Path(tmp) / "var", server.pid, started))
            figures |= asyncio.run(overlay_and_home(base, tokens))
            figures |= asyncio.run(first_screen(base, tokens[0]))
        finally:
            server.terminate()
            server.wait(timeout=30)
    for key, value in figures.items():
        print(f"{key:>34}: {value}")
    report("tv", figures)


if __name__ == "__main__":
    main()
