"""Alembic environment: migrations run on the connection the runner hands over."""

from __future__ import annotations

from alembic import context

import backend.models  # noqa: F401  (every table on Base.metadata)
from backend.db import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through backend.migrations.runner (./dev migrate)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
