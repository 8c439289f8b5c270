"""One signed-in elder asks for `home` again and again, in process (httpx's ASGI transport, no
network, no load generator): the cost of Linli's own layers per request, steady enough to
compare two commits on a shared, noisy machine where `bench/home.py`'s req/s swing by 10%.
Prints the figures, then one JSON line.

    ./dev bench home_inprocess [--rounds 5] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, document, report  # noqa: E402

# The repository first: bench/voice.py would otherwise shadow the phone line's package.
sys.path.insert(0, str(ROOT))

from backend.app import create_app  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.content.catalog import catalog_for  # noqa: E402
from backend.db import create_engine, session_factory, transaction  # noqa: E402
from backend.demo import load_demo  # noqa: E402
from backend.migrations.runner import upgrade  # noqa: E402

ELDER = "13800000001"


async def measure(rounds: int, requests: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        var = Path(tmp)
        url = f"sqlite+aiosqlite:///{var / 'linli.db'}"
        engine = create_engine(url)
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            await load_demo(session, catalog_for(ROOT / "content").demo())
        await engine.dispose()
        settings = Settings(
            database_url=url, var_dir=var, content_dir=ROOT / "content", operations_dir=ROOT / "graphql" / "operations"
        )
        app = create_app(settings)
        home = {"query": document("app/Home")}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://linli") as client:
                asked = f'mutation {{ requestLoginCode(phone: "{ELDER}") {{ __typename }} }}'
                await client.post("/graphql", json={"query": asked})
                sent = [json.loads(line) for line in (var / "dev-outbox.jsonl").read_text("utf-8").splitlines()]
                code = re.search(r"\d{6}", sent[-1]["text"])
                assert code is not None
                sign_in = (
                    f'mutation {{ signIn(phone: "{ELDER}", code: "{code.group(0)}") '
                    "{ ... on AuthSession { accessToken } } }"
                )
                token = (await client.post("/graphql", json={"query": sign_in})).json()["data"]["signIn"]["accessToken"]
                headers = {"Authorization": f"Bearer {token}"}
                for _ in range(100):  # warm up: caches, the first read-aloud URLs
                    answer = await client.post("/graphql", json=home, headers=headers)
                assert answer.json()["data"]["home"]["buttons"], answer.text
                per_request = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    for _ in range(requests):
                        await client.post("/graphql", json=home, headers=headers)
                    per_request.append((time.perf_counter() - start) / requests * 1000)
                return per_request


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    rounds = asyncio.run(measure(args.rounds, args.requests))
    print(f"home in process: {args.rounds} rounds of {args.requests} sequential requests")
    print("  ms per request:", ", ".join(f"{r:.2f}" for r in rounds))
    report(
        "home_inprocess",
        {
            "requests": args.requests,
            "best_ms": round(min(rounds), 3),
            "median_ms": round(sorted(rounds)[len(rounds) // 2], 3),
        },
    )


if __name__ == "__main__":
    main()
