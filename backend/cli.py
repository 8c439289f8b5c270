"""Command line: serve, worker, migrate, load-demo, export-schema, privacy-doc."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import backend.registry  # noqa: F401  (every domain: tables, event consumers, job handlers)
from backend.api.schema import schema_sdl
from backend.config import REPO_ROOT, get_settings
from backend.content.catalog import catalog_for
from backend.db import create_engine, session_factory, transaction
from backend.demo import load_demo
from backend.migrations.runner import ensure_migrated, upgrade
from backend.observability import configure_logging
from backend.runtime import Runtime
from voice.line import VoiceLine

log = logging.getLogger("linli")
SCHEMA_PATH = REPO_ROOT / "graphql" / "schema.graphql"


async def _migrate() -> None:
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        db_path = settings.database_url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    log.info("database migrated")


async def _load_demo() -> None:
    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            counts = await load_demo(session, catalog_for(settings.content_dir).demo())
    finally:
        await engine.dispose()
    log.info("demo community loaded", extra=counts)


def _start_chores() -> subprocess.Popen[bytes] | None:
    """Embedded mode: the chores (the TV channel, subsidies, pruning, the phone line's prompts
    spoken in advance) run in a process of their own at a lower priority, and this process
    takes only what cannot wait. Alarms come first on one machine as on many."""
    settings = get_settings()
    if settings.distributed or not settings.chores_process or settings.job_kinds != "all":
        return None
    env = {**os.environ, "LINLI_JOB_KINDS": "can_wait", "LINLI_CHORES_PARENT": str(os.getpid())}
    chores = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], env=env)  # noqa: S603
    os.environ["LINLI_JOB_KINDS"] = "urgent"  # (the chores' process also speaks the line's prompts)
    get_settings.cache_clear()
    return chores


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = get_settings()
    port = args.port or settings.port
    chores = _start_chores()
    log.info("serving on http://%s:%s (GraphiQL at /graphql)", settings.host, port)
    try:
        uvicorn.run(
            "backend.app:main_app",
            factory=True,
            host=settings.host,
            port=port,
            workers=args.workers,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    finally:
        if chores is not None:
            chores.terminate()
            chores.wait(timeout=30)


async def _worker() -> None:
    """Distributed mode: consume events, sweep the outbox, run jobs. No HTTP. With
    LINLI_JOB_KINDS=can_wait: the chores only, at a lower priority (embedded `serve` starts
    one such process; in distributed mode run one beside the workers)."""
    settings = get_settings()
    chores = settings.job_kinds == "can_wait"
    if chores:  # before any thread starts: on Linux each thread has its own priority
        os.nice(max(0, settings.chores_nice - os.getpriority(os.PRIO_PROCESS, 0)))
    rt = Runtime.create(settings)
    await ensure_migrated(rt.engine)
    # Embedded chores: the service's process sweeps the outbox; this one dispatches what it commits.
    await rt.start(workers=True, sweep=not (chores and not settings.distributed))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = []
    if VoiceLine.speaks_in_advance(settings):
        line = VoiceLine(rt, rt.synthesizer)
        tasks.append(asyncio.create_task(line.prewarm(pressure=rt.alarm_desk.pressure)))
    if parent := os.environ.get("LINLI_CHORES_PARENT"):
        tasks.append(asyncio.create_task(_until_orphaned(int(parent), stop)))
    log.info(
        "worker running",
        extra={"mode": "distributed" if settings.distributed else "embedded", "jobs": settings.job_kinds},
    )
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await rt.close()


async def _until_orphaned(parent: int, stop: asyncio.Event) -> None:
    """The chores' process ends with the service that started it (even if it was killed)."""
    while os.getppid() == parent:  # noqa: ASYNC110 (no event tells a process its parent died)
        await asyncio.sleep(1.0)
    stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="linli")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("worker")
    sub.add_parser("migrate")
    sub.add_parser("load-demo")
    export = sub.add_parser("export-schema")
    export.add_argument("--write", action="store_true", help=f"write {SCHEMA_PATH.relative_to(REPO_ROOT)}")
    sub.add_parser("privacy-doc", help="write docs/privacy.md's table from the domains' declarations")
    args = parser.parse_args(argv)

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if args.command == "serve":
        _serve(args)
    elif args.command == "worker":
        import uvloop  # the loop uvicorn serves on: sockets to PostgreSQL, Redis and FCM cost less

        uvloop.run(_worker())
    elif args.command == "migrate":
        asyncio.run(_migrate())
    elif args.command == "load-demo":
        asyncio.run(_load_demo())
    elif args.command == "export-schema":
        sdl = schema_sdl()
        if args.write:
            SCHEMA_PATH.write_text(sdl, "utf-8")
            log.info("wrote %s", SCHEMA_PATH)
        else:
            sys.stdout.write(sdl)
    elif args.command == "privacy-doc":
        from backend.privacy import docs
        from backend.registry import personal_plan

        changed = docs.write(personal_plan())
        log.info("%s %s", "wrote" if changed else "unchanged:", docs.DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
