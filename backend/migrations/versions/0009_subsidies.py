"""government subsidies: staff grants, and subsidy accounts funded by government accounts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHECK = "balance_fen >= 0 OR kind IN ('cash_desk', 'gateway')"
NEW_CHECK = "balance_fen >= 0 OR kind IN ('cash_desk', 'gateway', 'government')"


def upgrade() -> None:
    op.create_table(
        "subsidy_grants",
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("policy_code", sa.String(length=60), nullable=False),
        sa.Column("granted_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("granted_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("ended_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ended_by_id"], ["people.id"], name=op.f("fk_subsidy_grants_ended_by_id_people")),
        sa.ForeignKeyConstraint(["granted_by_id"], ["people.id"], name=op.f("fk_subsidy_grants_granted_by_id_people")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_subsidy_grants_person_id_people")),
        sa.PrimaryKeyConstraint("person_id", "policy_code", name=op.f("pk_subsidy_grants")),
    )
    # Government accounts mirror money from outside (what a policy paid out): they run negative.
    _replace_check(NEW_CHECK)


def downgrade() -> None:
    _replace_check(OLD_CHECK)
    op.drop_table("subsidy_grants")


def _replace_check(condition: str) -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_no_overdraft"), type_="check")
        batch_op.create_check_constraint(op.f("ck_accounts_no_overdraft"), condition)
