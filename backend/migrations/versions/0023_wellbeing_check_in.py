"""The daily check-in (平安报): plans, each day's check-in, and missed windows with their ladder

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "check_in_plans",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.Column("by_time", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("set_by_id", ID, nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_check_in_plans_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_check_in_plans_person_id_people")),
        sa.ForeignKeyConstraint(["set_by_id"], ["people.id"], name=op.f("fk_check_in_plans_set_by_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_check_in_plans")),
    )
    op.create_index(op.f("ix_check_in_plans_community_id"), "check_in_plans", ["community_id"], unique=False)
    op.create_table(
        "check_ins",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("local_day", sa.String(length=10), nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("by_id", ID, nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["people.id"], name=op.f("fk_check_ins_by_id_people")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_check_ins_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
        sa.UniqueConstraint("person_id", "local_day", name=op.f("uq_check_ins_person_id_local_day")),
    )
    op.create_table(
        "missed_check_ins",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.Column("local_day", sa.String(length=10), nullable=False),
        sa.Column("started_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("resolved_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", ID, nullable=True),
        sa.Column("resolved_via", sa.String(length=10), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_missed_check_ins_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_missed_check_ins_person_id_people")),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["people.id"], name=op.f("fk_missed_check_ins_resolved_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missed_check_ins")),
        sa.UniqueConstraint("person_id", "local_day", name=op.f("uq_missed_check_ins_person_id_local_day")),
    )
    op.create_index("ix_missed_check_ins_open", "missed_check_ins", ["community_id", "resolved_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_missed_check_ins_open", table_name="missed_check_ins")
    op.drop_table("missed_check_ins")
    op.drop_table("check_ins")
    op.drop_index(op.f("ix_check_in_plans_community_id"), table_name="check_in_plans")
    op.drop_table("check_in_plans")
