"""Async engine, sessions and the declarative Base shared by every domain."""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, event, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_S = 10  # how long a SQLite writer waits for the lock before failing

# 64-bit ids on PostgreSQL; SQLite only autoincrements a plain INTEGER PRIMARY KEY.
IdType = BigInteger().with_variant(Integer(), "sqlite")


M = TypeVar("M")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def str_enum(e: type[StrEnum]) -> Enum:
    """A StrEnum column stored as its values in a VARCHAR (no native enum type to migrate)."""
    return Enum(e, native_enum=False, length=20, values_callable=lambda x: [m.value for m in x])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)


class CreatedAtMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy's
    # documented recipe) and turn on WAL and foreign keys for every connection.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


# SQLite: a transaction that reads, then writes, fails at once ("database is locked") if
# another writer committed in between; one that takes the write lock at BEGIN waits instead.
_WRITE_OPTIONS = {"sqlite_begin": "IMMEDIATE"}


async def begin_write(session: AsyncSession) -> None:
    """Make the session's transaction a writing one (SQLite: BEGIN IMMEDIATE; no-op elsewhere).

    On SQLite whatever was only read so far is committed first (a read snapshot cannot be
    upgraded safely)."""
    if session.bind is None or session.bind.dialect.name != "sqlite":
        return
    if session.in_transaction():
        if await is_writing(session):
            return
        await session.commit()
    await session.connection(execution_options=_WRITE_OPTIONS)


async def is_writing(session: AsyncSession) -> bool:
    """SQLite: whether the session's transaction holds the write lock (BEGIN IMMEDIATE).
    Elsewhere every transaction may write."""
    if session.bind is None or session.bind.dialect.name != "sqlite":
        return True
    if not session.in_transaction():
        return False
    conn = await session.connection()
    return bool(conn.sync_connection is not None and conn.sync_connection.get_execution_options().get("sqlite_begin"))


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    # hide_parameters: an error's message never carries the values (a message text, a phone)
    # into a log or a traceback.
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": False, "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def is_postgres(session: AsyncSession) -> bool:
    """The one dialect test: PostgreSQL takes row locks, SKIP LOCKED and ON CONFLICT its way."""
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def take(
    session: AsyncSession, model: type[Any], key: dict[str, Any], *, column: str, start: int, change: int, bound: int
) -> bool:
    """Move the counter `column` of the row at `key` by `change`, only if it stays within
    `bound` (not below it when taking away, not above it when adding); the row starts at
    `start` the first time. One guarded UPDATE, atomic on both databases: of fifty racing for
    ten portions or places, ten find a row to update. False: nothing moved."""
    insert_ = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert_(model).values(**key, **{column: start}).on_conflict_do_nothing(index_elements=list(key))
    )
    counter = getattr(model, column)
    within = counter + change >= bound if change < 0 else counter + change <= bound
    moved = await session.execute(
        update(model)
        .where(*(getattr(model, name) == value for name, value in key.items()), within)
        .values({column: counter + change})
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def session_factory(engine: AsyncEngine, info: dict[str, Any] | None = None) -> async_sessionmaker[AsyncSession]:
    """`info`: what every session of this factory carries (the process's parts, see
    backend/parts.py); read when each session opens, so it may be filled in later."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True, info=info)


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession], *, urgent: bool = False
) -> AsyncIterator[AsyncSession]:
    """A unit of work outside a request (jobs, event handlers, the CLI): commit or roll back once.

    `urgent` (storing alarms): on SQLite, first in line for the single write lock."""
    async with factory() as session:
        async with _writer_turn(session, urgent):
            try:
                await begin_write(session)
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise


class _WriterTurns:
    """SQLite takes one writer at a time, and a writer that finds the lock taken sleeps in
    growing steps (up to 100 ms) before looking again: under a burst, alarms waited behind
    the notices of earlier alarms and then slept past the moment the lock came free. This
    process's units of work queue here instead, urgent ones first, each handed the turn the
    moment the last one ends."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, urgent: bool) -> bool:
        """True once this writer holds the turn; False if it waited too long and goes on to
        SQLite's own waiting (a unit of work nested in another must not wait forever)."""
        if not self._held:
            self._held = True
            return True
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (0 if urgent else 1, next(self._arrivals), turn))
        try:
            await asyncio.wait_for(asyncio.shield(turn), SQLITE_BUSY_TIMEOUT_S)
            return True
        except TimeoutError:
            if turn.done() and not turn.cancelled():
                return True  # handed over at the last moment
            turn.cancel()
            return False
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.release()  # handed over just as the caller left: pass it on
            turn.cancel()
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._held = False


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _WriterTurns]] = weakref.WeakKeyDictionary()


async def take_writer_turn(session: AsyncSession, urgent: bool = False) -> Callable[[], None] | None:
    """SQLite: wait for this process's turn to write, and return what gives it back (call it
    once the transaction has ended). None when there is no queue to wait in (PostgreSQL) or
    the wait ran out and SQLite's own waiting takes over."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    per_file = _turns.setdefault(asyncio.get_running_loop(), {})
    turns = per_file.setdefault(str(bind.url.database), _WriterTurns())
    return turns.release if await turns.acquire(urgent) else None


@asynccontextmanager
async def _writer_turn(session: AsyncSession, urgent: bool) -> AsyncIterator[None]:
    release = await take_writer_turn(session, urgent)
    try:
        yield
    finally:
        if release is not None:
            release()


async def insert_returning(session: AsyncSession, model: type[M], rows: Sequence[dict[str, Any]]) -> list[M]:
    """New rows in one statement (per page of rows), back as objects in the order given.

    The ORM's own flush sends one INSERT per object on SQLite when it needs the ids back;
    PostgreSQL keeps the order for us, and in SQLite each row of a multi-row INSERT takes the
    next id in turn, so the ids give the order."""
    if not rows:
        return []
    postgres = is_postgres(session)
    statement = insert(model).returning(model, sort_by_parameter_order=postgres)
    found = list((await session.scalars(statement, list(rows))).all())
    return found if postgres else sorted(found, key=lambda row: row.id)  # type: ignore[attr-defined]


# Where a session's factory keeps the process's parts (`backend.parts.Parts`), so that what
# runs when its transaction commits reaches the process that opened it.
PARTS_KEY = "linli.parts"


def carried_by(session: AsyncSession | Session) -> Any:
    """The parts the session's factory was built with (None: a bare session, a script)."""
    return session.info.get(PARTS_KEY)
