"""积分: points events from partners, point accounts in the ledger, orders paid in points

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHECK = "balance_fen >= 0 OR kind IN ('cash_desk', 'gateway', 'government')"
NEW_CHECK = "balance_fen >= 0 OR kind IN ('cash_desk', 'gateway', 'government', 'points_issued')"


def upgrade() -> None:
    op.create_table(
        "points_events",
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.String(length=10), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_points_events_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_events")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_points_events_source_event_id")),
    )
    op.create_index("ix_points_events_person_kind", "points_events", ["person_id", "kind"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("total_points", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_points", sa.Integer(), nullable=False, server_default="0"))
    # The community's issued-points account mirrors points handed out: it runs negative.
    _replace_check(NEW_CHECK)


def downgrade() -> None:
    _replace_check(OLD_CHECK)
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_column("unit_points")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("total_points")
    op.drop_index("ix_points_events_person_kind", table_name="points_events")
    op.drop_table("points_events")


def _replace_check(condition: str) -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_no_overdraft"), type_="check")
        batch_op.create_check_constraint(op.f("ck_accounts_no_overdraft"), condition)
