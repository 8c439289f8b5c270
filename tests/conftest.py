"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, the real ASGI app.

PostgreSQL and Redis come from LINLI_TEST_DATABASE_URL / LINLI_TEST_REDIS_URL (defaults:
the local servers). When one cannot be reached its tests skip with the reason printed,
or fail when LINLI_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime as dt
import os
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import backend.registry  # noqa: F401  (every domain: tables, event consumers, job handlers)
from backend.config import REPO_ROOT, Env, Settings
from backend.db import Base, create_engine, session_factory, transaction

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"
REQUIRE = os.environ.get("LINLI_REQUIRE_SERVICES") == "1"

# Named people of the demo community (content/demo/community.json).
ELDER = "+8613800000001"  # 82, 幸福社区, grid 1; linked to FAMILY
ELDER_2 = "+8613800000002"  # 86, 幸福社区, grid 1; linked to FAMILY_2
HEPING_ELDER = "+8613800000021"  # 和平社区
FAMILY = "+8613900000001"  # ELDER's child, lives in another city
FAMILY_2 = "+8613900000002"
GRID_WORKER = "+8613700000001"  # 幸福社区 grid 1
HEPING_WORKER = "+8613700000003"  # 和平社区 only
SERVICE_CENTRE = "+8613700000004"
ADMIN = "+8613500000001"
STRANGER = "+8613312345678"  # not registered anywhere


def run_blocking(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (session fixtures are first requested from async tests)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def unavailable(what: str, reason: str) -> None:
    message = f"{what} unavailable: {reason}"
    if REQUIRE:
        pytest.fail(message + " (LINLI_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def asyncpg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+asyncpg://", url)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    return asyncpg_url(os.environ.get("LINLI_TEST_DATABASE_URL", PG_DEFAULT))


async def admin_sql(url: str, sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE)."""
    admin = create_engine(url)
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await admin.dispose()


async def migrate(url: str) -> None:
    from backend.migrations.runner import upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database(pg_admin_url: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    name = f"linli_test_{uuid.uuid4().hex[:10]}"

    async def setup() -> str:
        await admin_sql(pg_admin_url, f'CREATE DATABASE "{name}"')
        url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
        await migrate(url)
        return url

    try:
        url = run_blocking(setup())
    except Exception as exc:  # connection refused, auth, ...
        unavailable("PostgreSQL", f"{type(exc).__name__}: {exc}")
    yield url
    run_blocking(admin_sql(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "linli.db"
    run_blocking(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@dataclass
class Database:
    kind: str
    url: str
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]


_COUNTING: contextvars.ContextVar[QueryCounter | None] = contextvars.ContextVar("linli_test_counting", default=None)


class QueryCounter:
    """Counts the SQL statements this test's own requests run while active (`with
    QueryCounter(engine) as q: await api.op(...)`). Only statements run in the context the
    counter was entered in (and the tasks started from it) count: background work on the same
    engine (a job, a dispatcher, a box marked seen) started earlier does not."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self._token: contextvars.Token[QueryCounter | None] | None = None

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _COUNTING.get() is not self:
            return
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO", "BEGIN", "COMMIT")):
            self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        self._token = _COUNTING.set(self)
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._on_execute)
        if self._token is not None:
            _COUNTING.reset(self._token)

    @property
    def count(self) -> int:
        return len(self.statements)


async def _truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same tests on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "linli.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
    engine = create_engine(url, pool_size=5)
    database = Database(request.param, url, engine, session_factory(engine))
    try:
        yield database
    finally:
        if request.param == "postgresql":
            await _truncate_all(engine)
        await engine.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    path = tmp_path / "linli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    yield Database("sqlite", url, engine, session_factory(engine))
    await engine.dispose()


@pytest.fixture
async def pg_db(pg_database: str) -> AsyncIterator[Database]:
    engine = create_engine(pg_database, pool_size=10)
    try:
        yield Database("postgresql", pg_database, engine, session_factory(engine))
    finally:
        await _truncate_all(engine)
        await engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("LINLI_TEST_REDIS_URL", REDIS_DEFAULT)

    async def ping() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        run_blocking(ping())
    except Exception as exc:
        unavailable("Redis", f"{type(exc).__name__}: {exc}")
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"linli-test-{uuid.uuid4().hex[:8]}"
    yield prefix

    async def cleanup() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        try:
            keys = [k async for k in client.scan_iter(f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    run_blocking(cleanup())


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": Env.TEST,
        "database_url": database_url,
        "var_dir": tmp_path / "var",
        "log_json": False,
        "public_base_url": "http://testserver",
        "standing_jobs": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    return make_settings(tmp_path, db.url)


async def load_demo(db: Database) -> dict[str, int]:
    """The demo community; returns person ids by phone."""
    from sqlalchemy import select

    from backend.community.models import Person
    from backend.content.catalog import catalog_for
    from backend.demo import load_demo as load

    async with transaction(db.factory) as session:
        await load(session, catalog_for(REPO_ROOT / "content").demo())
    async with db.factory() as session:
        rows = await session.execute(select(Person.phone, Person.id))
        return {phone: pid for phone, pid in rows.all()}


@pytest.fixture
async def people(db: Database) -> dict[str, int]:
    return await load_demo(db)


OPERATIONS = REPO_ROOT / "graphql" / "operations"


def document(name: str) -> str:
    """A first-party client's document, e.g. "app/SignIn"."""
    return (OPERATIONS / f"{name}.graphql").read_text("utf-8")


class Api:
    """Talks to the real ASGI app the way the clients do."""

    def __init__(self, client: httpx.AsyncClient, runtime: Any) -> None:
        self.client = client
        self.runtime = runtime
        self.tokens: dict[str, str] = {}

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None, **headers: str
    ) -> httpx.Response:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        h.update(headers)
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token, **headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def op(
        self, name: str, variables: dict[str, Any] | None = None, token: str | None = None, **headers: str
    ) -> dict[str, Any]:
        return await self.gql(document(name), variables, token, **headers)

    async def last_sms(self, phone: str) -> str:
        response = await self.client.get("/dev/outbox", params={"to": phone})
        messages = response.json()["messages"]
        assert messages, f"no SMS to {phone}"
        return messages[0]["text"]

    async def login_code(self, phone: str) -> str:
        """The newest sign-in code texted to `phone` (other messages may have come after it)."""
        response = await self.client.get("/dev/outbox", params={"to": phone})
        codes = [m for m in (re.search(r"\d{6}", msg["text"]) for msg in response.json()["messages"]) if m]
        assert codes, f"no sign-in code sent to {phone}"
        return codes[0].group(0)

    async def sign_in(self, phone: str) -> str:
        """An access token for `phone`, signing in by SMS code once per test."""
        if phone in self.tokens:
            return self.tokens[phone]
        sent = await self.op("app/RequestLoginCode", {"phone": phone})
        assert sent["data"]["requestLoginCode"]["__typename"] == "LoginCodeSent", sent
        result = await self.op("app/SignIn", {"phone": phone, "code": await self.login_code(phone)})
        assert result["data"]["signIn"]["__typename"] == "AuthSession", result
        self.tokens[phone] = result["data"]["signIn"]["accessToken"]
        return self.tokens[phone]

    async def settle(self) -> None:
        """Let the in-process event dispatchers finish what was committed."""
        await asyncio.sleep(0)  # after_commit hands ids over with call_soon
        await asyncio.wait_for(self.runtime.transport.idle(), timeout=10)


async def run_due_jobs(
    api: Api, db: Database, kinds: tuple[str, ...] | None = None, *, hang_after_s: float = 15
) -> None:
    """Time passes: make the pending jobs (of `kinds`) due now and let the runtime's runner
    take them, and whatever they schedule for now (a job working through pages).
    `hang_after_s` only stops a test that would wait forever; a heavy job (the TV channel's
    build: pages drawn, read and encoded) gets more on a busy machine."""
    from sqlalchemy import select

    from backend.db import transaction, utcnow
    from backend.jobs import Job, JobStatus

    async with transaction(db.factory) as session:
        query = select(Job).where(Job.status == JobStatus.PENDING)
        if kinds is not None:
            query = query.where(Job.kind.in_(kinds))
        due = list((await session.execute(query)).scalars())
        for job in due:
            job.run_at = utcnow() - dt.timedelta(seconds=1)
    api.runtime.job_runner.wake()

    async def done() -> None:
        waiting = {job.id for job in due}
        while True:
            async with db.factory() as session:
                query = select(Job.id).where(
                    Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]), Job.run_at <= utcnow()
                )
                if kinds is not None:
                    query = query.where(Job.kind.in_(kinds))
                busy = set((await session.execute(query)).scalars())
                statuses = [(await session.get(Job, job_id)).status for job_id in waiting]
            if not busy and all(s not in (JobStatus.PENDING, JobStatus.RUNNING) for s in statuses):
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(done(), timeout=hang_after_s)
    await api.settle()


async def start_app(settings: Settings) -> tuple[Any, Any]:
    from backend.app import create_app
    from backend.runtime import Runtime

    rt = Runtime.create(settings)
    app = create_app(settings, runtime=rt)
    await rt.start(workers=True)
    return app, rt


@asynccontextmanager
async def in_process(
    settings: Settings, client_ip: str = "203.0.113.7", make: Callable[[httpx.AsyncClient, Any], Api] = Api
) -> AsyncIterator[Api]:
    """The app with these settings, started in this process and talked to over ASGI."""
    app, rt = await start_app(settings)
    transport = httpx.ASGITransport(app=app, client=(client_ip, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield make(client, rt)
    await rt.close()


@pytest.fixture
async def api(settings: Settings, people: dict[str, int]) -> AsyncIterator[Api]:
    async with in_process(settings) as api:
        yield api


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served(Api):
    """The API client, talking to the app over a real socket, and the address a browser uses."""

    def __init__(self, base: str, client: httpx.AsyncClient, runtime: Any, app: Any = None) -> None:
        super().__init__(client, runtime)
        self.base = base
        self.app = app


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Served]:
    """The app served by uvicorn on a free local port (HTTP and WebSocket)."""
    app, rt = await start_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            yield Served(base, client, rt, app)
    finally:
        server.should_exit = True
        await task
        await rt.close()


@pytest.fixture
async def served(tmp_path: Path, db: Database, people: dict[str, int]) -> AsyncIterator[Served]:
    async with serve(make_settings(tmp_path, db.url)) as served:
        yield served


# A synchronous client for what httpx cannot do: subscriptions over graphql-transport-ws.


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[Any]:
    """The real app on a demo SQLite database, driven by starlette's TestClient."""
    from starlette.testclient import TestClient

    from backend.app import create_app

    path = tmp_path / "linli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"

    async def demo() -> None:
        engine = create_engine(url)
        try:
            await load_demo(Database("sqlite", url, engine, session_factory(engine)))
        finally:
            await engine.dispose()

    run_blocking(demo())
    with TestClient(create_app(make_settings(tmp_path, url))) as test_client:
        yield test_client


def sync_sign_in(client: Any, phone: str) -> str:
    client.post("/graphql", json={"query": document("app/RequestLoginCode"), "variables": {"phone": phone}})
    messages = client.get("/dev/outbox", params={"to": phone}).json()["messages"]
    # Other SMS (an invitation, an order) may land after the code.
    code = next(m for m in (re.search(r"(?<!\d)\d{6}(?!\d)", msg["text"]) for msg in messages) if m)
    result = client.post(
        "/graphql", json={"query": document("app/SignIn"), "variables": {"phone": phone, "code": code.group(0)}}
    ).json()
    return str(result["data"]["signIn"]["accessToken"])


def sync_op(client: Any, name: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": document(name), "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    return dict(response.json())


@pytest.fixture
def local_clock() -> Iterator[Any]:
    """Moves the wall clock (never the event loop's) to a local time in the community's zone:
    `at("09:00")` is tomorrow at nine, `at("00:10", on=date)` a given day; later calls may
    only go forward, so tokens issued earlier in the test stay valid. The clock keeps ticking."""
    from zoneinfo import ZoneInfo

    import time_machine

    tz = ZoneInfo(Settings.model_fields["default_timezone"].default)
    day = dt.datetime.now(tz).date() + dt.timedelta(days=1)
    travels: list[Any] = []

    def at(hh_mm: str, days_later: int = 0, on: dt.date | None = None) -> dt.datetime:
        when = dt.datetime.combine(on or day + dt.timedelta(days=days_later), dt.time.fromisoformat(hh_mm), tz)
        assert not travels or when >= dt.datetime.now(tz), "the clock only goes forward in a test"
        travel = time_machine.travel(when, tick=True)
        travel.start()
        travels.append(travel)
        return when

    yield at
    for travel in reversed(travels):
        travel.stop()
