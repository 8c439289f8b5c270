"""Official warnings (CAP 1.2) and where they apply, each community's policy for them, the
roll-call (报平安) and its homes; where a community is (area code, centre)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "official_warnings",
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("sent", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("msg_type", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column(
            "severity",
            sa.Enum("Unknown", "Minor", "Moderate", "Severe", "Extreme", name="severity", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("certainty", sa.String(length=20), nullable=False),
        sa.Column("headline", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("effective", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("ended_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", ID, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["official_warnings.id"], name=op.f("fk_official_warnings_ended_by_id_official_warnings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_warnings")),
        sa.UniqueConstraint("sender", "identifier", name=op.f("uq_official_warnings_sender_identifier")),
    )
    op.create_table(
        "warning_areas",
        sa.Column("warning_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_warning_areas_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["official_warnings.id"], name=op.f("fk_warning_areas_warning_id_official_warnings")
        ),
        sa.PrimaryKeyConstraint("warning_id", "community_id", name=op.f("pk_warning_areas")),
    )
    op.create_index("ix_warning_areas_community", "warning_areas", ["community_id"], unique=False)
    op.create_table(
        "roll_calls",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("grid_id", ID, nullable=True),
        sa.Column("started_by_id", ID, nullable=True),
        sa.Column("warning_id", ID, nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("started_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_by", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_roll_calls_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_roll_calls_grid_id_grids")),
        sa.ForeignKeyConstraint(["started_by_id"], ["people.id"], name=op.f("fk_roll_calls_started_by_id_people")),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["official_warnings.id"], name=op.f("fk_roll_calls_warning_id_official_warnings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_calls")),
    )
    op.create_index("ix_roll_calls_community_open", "roll_calls", ["community_id", "closed_at"], unique=False)
    op.create_table(
        "warning_policies",
        sa.Column("community_id", ID, nullable=False),
        sa.Column(
            "show_from",
            sa.Enum("Unknown", "Minor", "Moderate", "Severe", "Extreme", name="severity", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "roll_call_from",
            sa.Enum("Unknown", "Minor", "Moderate", "Severe", "Extreme", name="severity", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("roll_call_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_warning_policies_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["people.id"], name=op.f("fk_warning_policies_updated_by_id_people")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_warning_policies")),
    )
    op.create_table(
        "roll_call_homes",
        sa.Column("roll_call_id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=False),
        sa.Column("answered_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", ID, nullable=True),
        sa.Column("door", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["people.id"], name=op.f("fk_roll_call_homes_answered_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_roll_call_homes_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["roll_call_id"], ["roll_calls.id"], name=op.f("fk_roll_call_homes_roll_call_id_roll_calls")
        ),
        sa.PrimaryKeyConstraint("roll_call_id", "household_id", name=op.f("pk_roll_call_homes")),
    )
    op.add_column("communities", sa.Column("area_code", sa.String(length=12), nullable=True))
    op.add_column("communities", sa.Column("latitude", sa.Double(), nullable=True))
    op.add_column("communities", sa.Column("longitude", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
        batch.drop_column("area_code")
    op.drop_table("roll_call_homes")
    op.drop_table("warning_policies")
    op.drop_index("ix_roll_calls_community_open", table_name="roll_calls")
    op.drop_table("roll_calls")
    op.drop_index("ix_warning_areas_community", table_name="warning_areas")
    op.drop_table("warning_areas")
    op.drop_table("official_warnings")
