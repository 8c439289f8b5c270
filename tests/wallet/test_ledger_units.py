"""Migration 0015: a ledger kept before amounts were named for their unit keeps every amount,
and each account and movement says whether it counts fen or points."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from backend.db import create_engine
from backend.migrations.runner import alembic_config
from tests.conftest import admin_sql


def _to(revision: str):  # type: ignore[no-untyped-def]
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    return run


OLD_LEDGER = [
    "INSERT INTO accounts (id, key, kind, balance_fen) VALUES (1, 'gateway:online', 'gateway', -5000)",
    "INSERT INTO accounts (id, key, kind, balance_fen) VALUES (2, 'wallet:person:9', 'wallet', 5000)",
    "INSERT INTO accounts (id, key, kind, balance_fen) VALUES (3, 'points_issued:community:1', 'points_issued', -30)",
    "INSERT INTO accounts (id, key, kind, balance_fen) VALUES (4, 'points:person:9', 'points', 30)",
    "INSERT INTO ledger_transactions (id, kind, amount_fen, memo, created_at) VALUES (1, 'top_up', 5000, '', '2026-11-01 08:00:00')",
    "INSERT INTO ledger_transactions (id, kind, amount_fen, memo, created_at) VALUES (2, 'points_earned', 30, '', '2026-11-02 08:00:00')",
    "INSERT INTO ledger_entries (id, transaction_id, account_id, amount_fen) VALUES (1, 1, 1, -5000)",
    "INSERT INTO ledger_entries (id, transaction_id, account_id, amount_fen) VALUES (2, 1, 2, 5000)",
    "INSERT INTO ledger_entries (id, transaction_id, account_id, amount_fen) VALUES (3, 2, 3, -30)",
    "INSERT INTO ledger_entries (id, transaction_id, account_id, amount_fen) VALUES (4, 2, 4, 30)",
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:  # type: ignore[misc]
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    name = f"linli_units_{uuid.uuid4().hex[:8]}"
    await admin_sql(admin, f'CREATE DATABASE "{name}"')
    yield admin.rsplit("/", 1)[0] + f"/{name}"
    await admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_an_old_ledger_keeps_its_amounts_and_learns_its_units(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0014"))
            for statement in OLD_LEDGER:
                await conn.execute(text(statement))
        async with engine.begin() as conn:
            await conn.run_sync(_to("head"))
        async with engine.connect() as conn:
            accounts = (await conn.execute(text("SELECT key, unit, balance FROM accounts ORDER BY id"))).all()
            movements = (
                await conn.execute(text("SELECT kind, unit, amount FROM ledger_transactions ORDER BY id"))
            ).all()
            entries = (await conn.execute(text("SELECT amount FROM ledger_entries ORDER BY id"))).scalars().all()
    finally:
        await engine.dispose()

    assert [tuple(a) for a in accounts] == [
        ("gateway:online", "fen", -5000),
        ("wallet:person:9", "fen", 5000),
        ("points_issued:community:1", "points", -30),
        ("points:person:9", "points", 30),
    ]
    assert [tuple(m) for m in movements] == [("top_up", "fen", 5000), ("points_earned", "points", 30)]
    assert entries == [-5000, 5000, -30, 30]
