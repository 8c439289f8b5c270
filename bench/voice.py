"""Simulated calls on the voice line, against the served app, over AudioSocket.

Each call is a Korean-speaking elder: espeak-ng's recorded utterances, sent at real-time
pacing, go round the menu ("주문 내역" → the orders, "네" → back to the menu) while the
line answers; the caller listens a little, then talks over the rest (barge-in). Measured for
every utterance: from the end of the caller's speech (the last spoken frame sent) to the
first frame of the reply. Steps of more and more calls at once, until the reply's p99 passes
800 ms: the most calls this machine holds under it. In the 20-call step, other elders press 9
meanwhile: the time from the key to the alarm stored (the database polled every 2 ms).
Also the recognizer's real-time factor on the same utterances, on one thread, in process.
Prints the figures, then one JSON line.

    ./dev bench voice [--steps 10,20,30,40] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import PY, free_port, linli_server, report  # noqa: E402
from tests.voice.caller import as_the_line_hears, speak  # noqa: E402
from tests.voice.phone import SECRET, AudioSocketCall, register  # noqa: E402

TARGET_P99_MS = 800
ALARM_CALLS = 10
LINE = "+862988880001"

SETUP = r"""
import asyncio, datetime as dt, json, sys
from sqlalchemy import select, update
from backend.config import Settings
from backend.db import create_engine, session_factory, transaction
from backend.community.models import Person, Household, Membership, Role, Community

async def main(n):
    engine = create_engine(Settings().database_url)
    async with transaction(session_factory(engine)) as s:
        xingfu = (await s.execute(select(Community).where(Community.code == "xingfu"))).scalar_one()
        homes = list((await s.execute(select(Household).where(Household.community_id == xingfu.id))).scalars())
        talkers = []
        for i in range(40):
            p = Person(name=f"Bench caller {i:02d}", phone=f"+86177{i:08d}", birth_date=dt.date(1940, 1, 1),
                       household_id=homes[i % len(homes)].id, locale="ko", slow_speech=False)
            s.add(p)
            talkers.append(p)
        raisers = []
        for i in range(n):
            p = Person(name=f"Bench alarm {i:02d}", phone=f"+86178{i:08d}", birth_date=dt.date(1940, 1, 1),
                       household_id=homes[i % len(homes)].id, locale="ko", slow_speech=False)
            s.add(p)
            raisers.append(p)
        await s.flush()
        for p in talkers + raisers:
            s.add(Membership(person_id=p.id, community_id=xingfu.id, role=Role.RESIDENT))
    print(json.dumps({"talkers": [p.phone for p in talkers], "raisers": [(p.phone, p.id) for p in raisers]}))

asyncio.run(main(int(sys.argv[1])))
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 1) if ordered else float("nan")


async def dial(base: str, port: int, client: object, phone: str) -> AudioSocketCall:
    call_id = str(uuid.uuid4())
    answer = await register(client, call_id, phone, LINE)
    assert answer.status_code == 200, answer.text
    return await AudioSocketCall.dial(port, call_id, "ko")


async def talker(call: AudioSocketCall, until: float, latencies: list[float], missed: list[int]) -> None:
    """Round the menu until `until`: each utterance, then the wait for the first reply frame."""
    try:
        await _talk(call, until, latencies, missed)
    except (AssertionError, ConnectionError) as exc:
        print(f"a call broke off: {exc!r}", file=sys.stderr)
        missed.append(1)


async def _talk(call: AudioSocketCall, until: float, latencies: list[float], missed: list[int]) -> None:
    await call.hear_for(1.0)
    phrases = ["주문 내역", "네"]
    i = 0
    while time.monotonic() < until:
        await call.say(phrases[i % 2])
        ended = call.speech_ended_at or time.monotonic()
        seen = len(call._heard)  # frames from before the end of the speech are not the reply
        first = None
        deadline = ended + 5.0
        while time.monotonic() < deadline and not call.hung_up_by_line:
            if len(call._heard) > seen:
                first = next((t for t, _ in call._heard[seen:] if t > ended), None)
                if first is not None:
                    break
                seen = len(call._heard)
            await asyncio.sleep(0.005)
        if first is None:
            missed.append(1)  # not understood or not answered within 5 s
        else:
            latencies.append((first - ended) * 1000)
            i += 1
        await asyncio.sleep(1.0)  # listen a little, then talk over the rest


async def alarm_caller(
    base: str, port: int, client: object, phone: str, person_id: int, db: Path, at: float, stored_ms: list[float]
) -> None:
    call = await dial(base, port, client, phone)
    await call.hear_for(0.5)
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    pressed = time.monotonic()
    await call.press("9")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        while time.monotonic() - pressed < 10:
            if conn.execute("SELECT 1 FROM alerts WHERE person_id = ?", (person_id,)).fetchone():
                stored_ms.append((time.monotonic() - pressed) * 1000)
                break
            await asyncio.sleep(0.002)
    finally:
        conn.close()
    await call.hang_up()


async def step(
    base: str, port: int, talkers: list[str], n: int, seconds: float, raisers: list[tuple[str, int]], db: Path
) -> dict[str, object]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        calls = [await dial(base, port, client, talkers[i % len(talkers)]) for i in range(n)]
        latencies: list[float] = []
        missed: list[int] = []
        until = time.monotonic() + seconds
        stored: list[float] = []
        alarms = [
            alarm_caller(
                base, port, client, phone, pid, db, time.monotonic() + 5 + i * (seconds - 10) / len(raisers), stored
            )
            for i, (phone, pid) in enumerate(raisers)
        ]
        await asyncio.gather(*(talker(c, until, latencies, missed) for c in calls), *alarms)
        for c in calls:
            await c.hang_up()
    figures: dict[str, object] = {
        "calls": n,
        "replies": len(latencies),
        "not_answered": len(missed),
        "reply_p50_ms": percentile(latencies, 0.5),
        "reply_p99_ms": percentile(latencies, 0.99),
    }
    if raisers:
        figures |= {"alarm_stored_p50_ms": percentile(stored, 0.5), "alarm_stored_p99_ms": percentile(stored, 0.99)}
        figures["alarms_stored"] = len(stored)
    return figures


def stage_figures(db: Path) -> dict[str, Any]:
    """The line's own record of each spoken turn: p50/p99 of each stage, in ms."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = [json.loads(d) for (d,) in conn.execute("SELECT detail FROM phone_call_events")]
    finally:
        conn.close()
    spoken = [r["stages"] for r in rows if r.get("by") == "speech" and r.get("stages")]
    misheard = [r.get("heard") for r in rows if r.get("by") == "speech" and r.get("answer") is None]
    found: dict[str, Any] = {"misheard": len(misheard), "misheard_as": sorted(set(map(str, misheard)))[:8]}
    for stage in ("end_of_speech_ms", "recognition_ms", "action_ms", "speech_ms", "first_audio_ms"):
        values = [float(s[stage]) for s in spoken if stage in s]
        found[f"{stage[:-3]}_p50_ms"] = percentile(values, 0.5)
        found[f"{stage[:-3]}_p99_ms"] = percentile(values, 0.99)
    return found


def recognition_rtf() -> float:
    """CPU seconds of recognition per second of speech, one thread, the menu's grammar."""
    from speech.stt import SpeechModels
    from voice.packs import load_packs, model_paths

    packs = load_packs(ROOT / "content")
    pack = packs["ko"]
    models = SpeechModels(model_paths(packs, {}))
    grammar = pack.grammar(pack.answers("menu"))
    models.model("ko")
    audio_s = cpu_s = 0.0
    for _ in range(5):
        for phrase in pack.answers("menu"):
            chunks = as_the_line_hears(speak(phrase))
            audio_s += sum(len(c) for c in chunks) / 16000
            recognizer = models.recognizer("ko", 8000, grammar)
            began = time.process_time()
            for chunk in chunks:
                recognizer.accept(chunk)
            recognizer.finish()
            cpu_s += time.process_time() - began
    return round(cpu_s / audio_s, 3)


async def run(steps: list[int], seconds: float) -> dict[str, object]:
    port = free_port()
    env = {
        "LINLI_VOICE_SECRET": SECRET,
        "LINLI_VOICE_AUDIOSOCKET_PORT": str(port),
        "LINLI_VOICE_MAX_CALLS": "200",
        "LINLI_VOICE_PREWARM": "true",
    }
    with linli_server(env) as (base, var_dir):
        db = var_dir.parent / "linli.db"
        setup_env = {"LINLI_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin"}
        out = await asyncio.to_thread(
            subprocess.run,
            [PY, "-c", SETUP, str(ALARM_CALLS)],
            env=setup_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        people = json.loads(out.stdout.strip().splitlines()[-1])
        await asyncio.sleep(20)  # the fixed prompts are spoken in advance at start
        results = []
        held = 0
        for n in steps:
            raisers = [tuple(r) for r in people["raisers"]] if n == 20 else []
            figures = await step(base, port, people["talkers"], n, seconds, raisers, db)  # type: ignore[arg-type]
            print(json.dumps(figures))
            results.append(figures)
            if float(figures["reply_p99_ms"]) < TARGET_P99_MS:  # type: ignore[arg-type]
                held = n
            else:
                break
        stages = stage_figures(db)
    at20 = next((r for r in results if r["calls"] == 20), {})
    return {
        "reply_p50_ms_at_20": at20.get("reply_p50_ms"),
        "reply_p99_ms_at_20": at20.get("reply_p99_ms"),
        "alarm_stored_p50_ms_at_20": at20.get("alarm_stored_p50_ms"),
        "alarm_stored_p99_ms_at_20": at20.get("alarm_stored_p99_ms"),
        "most_calls_p99_under_800ms": held,
        "stages": stages,
        "recognition_rtf": recognition_rtf(),
        "steps": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="10,20,30,40")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    figures = asyncio.run(run([int(s) for s in args.steps.split(",")], args.seconds))
    report("voice", figures)


if __name__ == "__main__":
    main()
