"""Settings, migrations and the refusal to serve an unmigrated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from backend.config import Env, Settings
from backend.db import create_engine
from backend.migrations.runner import DatabaseNotMigrated, ensure_migrated
from tests.conftest import Database, make_settings


def test_production_turns_every_protection_on() -> None:
    s = Settings(env=Env.PRODUCTION, jwt_secret="a-private-secret-of-enough-length")
    assert s.introspection is False
    assert s.graphiql is False
    assert s.trusted_documents_only is True
    assert s.mask_errors is True


def test_development_keeps_graphiql_and_introspection() -> None:
    s = Settings(env=Env.DEVELOPMENT)
    assert s.introspection and s.graphiql
    assert not s.trusted_documents_only and not s.mask_errors


def test_production_refuses_the_development_jwt_secret() -> None:
    with pytest.raises(ValueError, match="LINLI_JWT_SECRET"):
        Settings(env=Env.PRODUCTION)


def test_settings_come_from_linli_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_PORT", "8123")
    monkeypatch.setenv("LINLI_MAX_QUERY_DEPTH", "7")
    s = Settings()
    assert s.port == 8123 and s.max_query_depth == 7
    assert s.public_base_url == "http://127.0.0.1:8123"


async def test_migrated_database_is_accepted(db: Database) -> None:
    await ensure_migrated(db.engine)  # does not raise
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
    assert {"people", "family_links", "outbox_events", "jobs", "login_codes"} <= set(tables)


async def test_unmigrated_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(DatabaseNotMigrated, match=r"not migrated.*\./dev migrate"):
            await ensure_migrated(engine)
    finally:
        await engine.dispose()


async def test_app_does_not_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    from backend.app import create_app

    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(DatabaseNotMigrated):
        async with app.router.lifespan_context(app):
            pass


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


def test_the_migrations_build_exactly_the_tables_the_models_declare(sqlite_template: Path) -> None:
    """A model changed without a migration, or a domain's models missing from
    backend.models (which migrations and workers import), would reach production as a
    missing table or column."""
    import subprocess
    import sys

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine as create_sync_engine
    from sqlalchemy import inspect

    import backend.models  # noqa: F401
    from backend.db import Base

    engine = create_sync_engine(f"sqlite:///{sqlite_template}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            migrated = set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert diff == []
    # In a fresh interpreter, backend.models alone must declare every migrated table.
    declared = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import backend.models; from backend.db import Base; print(*Base.metadata.tables)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(declared) == migrated
