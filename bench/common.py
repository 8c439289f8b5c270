"""Helpers for the benchmarks: serve the app on a fresh demo database, load, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


RESULTS = Path(__file__).resolve().parent / "results"


def report(name: str, figures: dict[str, Any]) -> None:
    """The run's one JSON line: printed, and appended to bench/results/<name>.jsonl with when
    and on which commit it ran (compare runs taken back to back on the same machine)."""
    line = json.dumps(figures)
    print(line)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    RESULTS.mkdir(exist_ok=True)
    stamp = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit or None}
    with (RESULTS / f"{name}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**stamp, **figures}) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def linli_server(extra_env: dict[str, str] | None = None, workers: int = 1) -> Iterator[tuple[str, Path]]:
    """Migrate a fresh SQLite database, load the demo community, serve it. Yields (base url, var dir)."""
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "LINLI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/linli.db",
            "LINLI_VAR_DIR": f"{tmp}/var",
            "LINLI_PORT": str(port),
            "LINLI_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        for step in ("migrate", "load-demo"):
            subprocess.run(
                [PY, "-m", "backend.cli", step],
                env=env,
                cwd=ROOT,
                check=True,  # noqa: S603
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        server_log = open(os.environ.get("LINLI_BENCH_SERVER_LOG", os.devnull), "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [PY, "-m", "backend.cli", "serve", "--workers", str(workers)],
            env=env,
            cwd=ROOT,  # noqa: S603
            stdout=server_log,
            stderr=server_log,
            start_new_session=True,  # its chores and speech workers go with it (below)
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/healthz")
            yield base, Path(tmp) / "var"
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            # A speech worker still writing a read-aloud file would keep the directory from
            # being removed: nothing of the server's outlives it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            server_log.close()


@contextmanager
def uvicorn_app(target: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [PY, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/graphql", timeout=30)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def raw_post(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> tuple[int, bytes]:
    """One HTTP/1.1 request (a POST unless `method` says) on its own connection, with almost no
    client-side work: a thousand of these at once leave the machine's two cores to the server
    (httpx costs about 1 ms of CPU per request, as much as the server's own share)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        )
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n" + body)
        raw = await reader.read(-1)
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    _, _, content = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), content


def code_from_outbox(var_dir: Path, phone: str) -> str:
    for line in reversed((var_dir / "dev-outbox.jsonl").read_text("utf-8").splitlines()):
        message = json.loads(line)
        if message["to"] == phone:
            found = re.search(r"\d{6}", message["text"])
            if found:
                return found.group(0)
    raise LookupError(phone)


def document(name: str) -> str:
    return (ROOT / "graphql" / "operations" / f"{name}.graphql").read_text("utf-8")


async def sign_in(client: httpx.AsyncClient, var_dir: Path, phone: str) -> str:
    await client.post("/graphql", json={"query": document("app/RequestLoginCode"), "variables": {"phone": phone}})
    code = code_from_outbox(var_dir, phone)
    result = await client.post(
        "/graphql", json={"query": document("app/SignIn"), "variables": {"phone": phone, "code": code}}
    )
    return str(result.json()["data"]["signIn"]["accessToken"])


async def load(call: Callable[[int], Awaitable[bool]], *, clients: int, requests: int) -> dict[str, float]:
    """`clients` loops share `requests` calls; latency per call, failures counted."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(requests))

    async def worker() -> None:
        nonlocal failures
        for n in counter:
            started = time.perf_counter()
            ok = await call(n)
            latencies.append((time.perf_counter() - started) * 1000)
            failures += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "rps": round(requests / elapsed, 1),
        "failed": failures,
    }


WRK_SCRIPT = """
local tokens = {%(tokens)s}
local bodies = {%(bodies)s}
local n = 0
request = function()
  n = n + 1
  local headers = {["Content-Type"] = "application/json"}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1] end
  return wrk.format("POST", "/graphql", headers, bodies[(n %% #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"p50_ms": %%.2f, "p99_ms": %%.2f, "requests": %%d, "seconds": %%.3f, "failed": %%d}\\n',
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk(
    base: str, body: dict[str, object] | list[dict[str, object]], *, tokens: list[str], clients: int, seconds: int
) -> dict[str, float]:
    """Load from wrk (C, one thread): the client costs little of the machine's two cores.
    Several bodies are sent in turn."""
    bodies = body if isinstance(body, list) else [body]
    lua = WRK_SCRIPT % {
        "tokens": ", ".join(json.dumps(t) for t in tokens),
        "bodies": ", ".join(f"[==[{json.dumps(b, ensure_ascii=False)}]==]" for b in bodies),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
        script = fh.name
    try:
        out = subprocess.run(  # noqa: S603
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", script, base + "/graphql"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(line for line in out.splitlines() if line.startswith("WRK "))
    figures = json.loads(line[4:])
    figures["rps"] = round(figures["requests"] / figures["seconds"], 1)
    return figures
