"""Ledger amounts named for what they count: `amount` and `balance` in the account's `unit`
(fen or points), where they were called `*_fen` while points lived in them too.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _unit() -> sa.Column:
    return sa.Column(
        "unit",
        sa.Enum("fen", "points", name="unit", native_enum=False, length=20),
        nullable=False,
        server_default="fen",
    )


def upgrade() -> None:
    # RENAME COLUMN carries the no_overdraft CHECK along (PostgreSQL; SQLite 3.25 and newer).
    op.execute("ALTER TABLE accounts RENAME COLUMN balance_fen TO balance")
    op.execute("ALTER TABLE ledger_transactions RENAME COLUMN amount_fen TO amount")
    op.execute("ALTER TABLE ledger_entries RENAME COLUMN amount_fen TO amount")
    op.add_column("accounts", _unit())
    op.add_column("ledger_transactions", _unit())
    op.execute("UPDATE accounts SET unit = 'points' WHERE kind IN ('points', 'points_issued', 'points_spent')")
    op.execute(
        "UPDATE ledger_transactions SET unit = 'points' WHERE id IN ("
        " SELECT e.transaction_id FROM ledger_entries e JOIN accounts a ON a.id = e.account_id"
        " WHERE a.unit = 'points')"
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_transactions") as batch:
        batch.drop_column("unit")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("unit")
    op.execute("ALTER TABLE ledger_entries RENAME COLUMN amount TO amount_fen")
    op.execute("ALTER TABLE ledger_transactions RENAME COLUMN amount TO amount_fen")
    op.execute("ALTER TABLE accounts RENAME COLUMN balance TO balance_fen")
