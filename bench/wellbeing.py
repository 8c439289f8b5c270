"""Quiet-home signals at the scale of a subdistrict, in process on SQLite: 10,000 homes, each
with an electricity meter, have three days of hours of use behind them (written straight to
the table, as the baseline would have been), then send a reading every 15 minutes for one
simulated day through the signed webhook in batches; a few homes go quiet from the evening
on. Prints readings taken per second, the time to hold every home against its baseline, and
whether the alerts are exactly the quiet homes; then the time to work out the community's
visit plan (every home's elder, a visit behind half of them) and how many are overdue;
then one JSON line.

    ./dev bench wellbeing [--homes 10000] [--quiet 50] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from common import ROOT, report  # noqa: E402
from sqlalchemy import insert

# The repository first: bench/voice.py would otherwise shadow the phone line's package.
sys.path.insert(0, str(ROOT))

from backend.access.subject import Actor  # noqa: E402
from backend.app import create_app  # noqa: E402
from backend.community.models import (  # noqa: E402
    Building,
    Community,
    Grid,
    Household,
    Membership,
    Person,
    Role,
    Subdistrict,
)
from backend.config import Settings  # noqa: E402
from backend.db import create_engine, session_factory, transaction  # noqa: E402
from backend.migrations.runner import upgrade  # noqa: E402
from backend.signed_requests import sign  # noqa: E402
from backend.wellbeing import quiet_home, visits  # noqa: E402
from backend.wellbeing.models import HomeHour, HomeSensor, Visit  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
SOURCE, SECRET = "bench-meters", "bench-secret"
HISTORY_DAYS = 3


def used_at(local_hour: int) -> bool:
    return 7 <= local_hour <= 22


async def seed(url: str, homes: int, now: dt.datetime) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    async with transaction(session_factory(engine)) as session:
        await session.execute(insert(Subdistrict).values(id=1, code="sd", name="街道"))
        await session.execute(insert(Community).values(id=1, code="c1", subdistrict_id=1, name="社区"))
        await session.execute(insert(Grid).values(id=1, code="g1", community_id=1, name="网格"))
        await session.execute(insert(Building).values(id=1, code="b1", grid_id=1, name="楼"))
        await session.execute(
            insert(Household),
            [
                {"id": i, "code": f"h{i}", "building_id": 1, "community_id": 1, "unit": str(i), "address": f"{i}"}
                for i in range(1, homes + 1)
            ],
        )
        await session.execute(
            insert(Person),
            [
                {
                    "id": i,
                    "name": f"老人{i}",
                    "phone": f"+86139{i:08d}",
                    "household_id": i,
                    "birth_date": dt.date(1940, 1, 1),
                }
                for i in range(1, homes + 1)
            ],
        )
        await session.execute(
            insert(Membership),
            [{"person_id": i, "community_id": 1, "role": Role.RESIDENT} for i in range(1, homes + 1)],
        )
        worker = homes + 1
        await session.execute(insert(Person).values(id=worker, name="网格员", phone="+8613700000001"))
        await session.execute(insert(Membership).values(person_id=worker, community_id=1, role=Role.GRID_WORKER))
        # Half the elders were visited: the even ones 3 days ago, every tenth of those 10 days ago.
        await session.execute(
            insert(Visit),
            [
                {
                    "person_id": i,
                    "community_id": 1,
                    "by_id": worker,
                    "kind": "visit",
                    "how": "well",
                    "at": now - dt.timedelta(days=10 if i % 20 == 0 else 3),
                    "note": "",
                    "follow_up": "",
                }
                for i in range(2, homes + 1, 2)
            ],
        )
        await session.execute(
            insert(HomeSensor),
            [
                {"household_id": i, "source": SOURCE, "device": f"M{i}", "kind": "electricity", "bound_by_id": 1}
                for i in range(1, homes + 1)
            ],
        )
        start = now - dt.timedelta(days=HISTORY_DAYS + 1)
        for h in range(HISTORY_DAYS * 24):
            hour = start + dt.timedelta(hours=h)
            local = hour.astimezone(ZONE).hour
            await session.execute(
                insert(HomeHour),
                [
                    {
                        "household_id": i,
                        "kind": "electricity",
                        "hour": hour,
                        "local_hour": local,
                        "readings": 4,
                        "used": used_at(local),
                    }
                    for i in range(1, homes + 1)
                ],
            )
    await engine.dispose()


async def run(homes: int, quiet: int, batch: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        var = Path(tmp)
        url = f"sqlite+aiosqlite:///{var / 'linli.db'}"
        # The simulated day ends now, on the hour; the quiet homes use nothing after 20:00 local.
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        day_start = now - dt.timedelta(days=1)
        quiet_from = now - dt.timedelta(hours=13)
        await seed(url, homes, now)
        settings = Settings(
            database_url=url,
            var_dir=var,
            content_dir=ROOT / "content",
            operations_dir=ROOT / "graphql" / "operations",
            home_signal_secrets={SOURCE: SECRET},
            standing_jobs=False,
        )
        app = create_app(settings)
        quiet_ids = set(range(1, quiet + 1))
        sent = 0
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://linli") as client:
                pending: list[dict[str, object]] = []
                began = time.perf_counter()
                for slot in range(96):
                    at = day_start + dt.timedelta(minutes=15 * slot)
                    local = at.astimezone(ZONE).hour
                    for i in range(1, homes + 1):
                        using = used_at(local) and not (i in quiet_ids and at >= quiet_from)
                        pending.append({"device": f"M{i}", "at": at.isoformat(), "value": 0.3 if using else 0.0})
                        if len(pending) == batch:
                            await post(client, pending)
                            sent += len(pending)
                            pending = []
                if pending:
                    await post(client, pending)
                    sent += len(pending)
                took = time.perf_counter() - began
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            began = time.perf_counter()
            found = await quiet_home.quiet_homes(session, ROOT / "content", ZONE, now)
            evaluate_s = time.perf_counter() - began
            worker = await session.get(Person, homes + 1)
            assert worker is not None
            staff = Actor(worker, ((1, Role.GRID_WORKER),))
            began = time.perf_counter()
            plan = await visits.plan(session, staff, community_id=1, content_dir=ROOT / "content")
            plan_s = time.perf_counter() - began
        await engine.dispose()
        alerted = {q.household_id for q in found}
        return {
            "homes": homes,
            "readings": sent,
            "readings_per_s": round(sent / took),
            "evaluate_s": round(evaluate_s, 3),
            "quiet_homes": quiet,
            "alerts": len(alerted),
            "alerts_exactly_the_quiet_homes": alerted == quiet_ids,
            "visit_plan_elders": len(plan),
            "visit_plan_s": round(plan_s, 3),
            "visits_overdue": sum(1 for d in plan if d.overdue_days),
        }


async def post(client: httpx.AsyncClient, readings: list[dict[str, object]]) -> None:
    raw = json.dumps({"readings": readings}).encode()
    timestamp = str(int(time.time()))
    answer = await client.post(
        "/integrations/home-signals",
        content=raw,
        headers={
            "content-type": "application/json",
            "x-linli-source": SOURCE,
            "x-linli-timestamp": timestamp,
            "x-linli-signature": sign(SECRET, timestamp, raw),
        },
    )
    assert answer.status_code == 200 and answer.json()["unknown"] == 0, answer.text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=10_000)
    parser.add_argument("--quiet", type=int, default=50)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    figures = asyncio.run(run(args.homes, args.quiet, args.batch))
    print(
        f"{figures['homes']} homes, {figures['readings']} readings for a day: {figures['readings_per_s']} readings/s; "
        f"every home against its baseline in {figures['evaluate_s']} s; "
        f"{figures['alerts']} alerts for {figures['quiet_homes']} quiet homes "
        f"({'exactly those' if figures['alerts_exactly_the_quiet_homes'] else 'NOT exactly those'}); "
        f"the visit plan of {figures['visit_plan_elders']} elders in {figures['visit_plan_s']} s, "
        f"{figures['visits_overdue']} overdue"
    )
    report("wellbeing", figures)


if __name__ == "__main__":
    main()
