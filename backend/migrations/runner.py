"""Run Alembic from code: `python -m backend.cli migrate`, the tests, and the start-up check
(`ensure_migrated`: the migrations know whether a database has them all)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


class DatabaseNotMigrated(RuntimeError):
    pass


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to serve on a database that is missing migrations: say how to fix it."""
    head = head_revision()
    try:
        async with engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:  # no alembic_version table: never migrated
        raise DatabaseNotMigrated(
            f"The database at {engine.url.render_as_string(hide_password=True)} is not migrated. "
            "Run `./dev migrate` (or `python -m backend.cli migrate`) first."
        ) from exc
    if current != head:
        raise DatabaseNotMigrated(
            f"The database is at migration {current!r} but the code needs {head!r}. Run `./dev migrate` first."
        )
