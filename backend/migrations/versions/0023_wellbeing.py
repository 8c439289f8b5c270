"""Wellbeing: the daily check-in (plans, each day's check-in, missed windows and quiet homes
with their ladder), the homes' sensors, their hours of use and homes marked away

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
        "home_hours",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hour", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("local_hour", sa.Integer(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_home_hours_household_id_households")
        ),
        sa.PrimaryKeyConstraint("household_id", "kind", "hour", name=op.f("pk_home_hours")),
    )
    op.create_index("ix_home_hours_hour", "home_hours", ["hour"], unique=False)
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
        "home_away",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("set_by_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_home_away_household_id_households")),
        sa.ForeignKeyConstraint(["set_by_id"], ["people.id"], name=op.f("fk_home_away_set_by_id_people")),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_home_away")),
    )
    op.create_table(
        "home_sensors",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("bound_by_id", ID, nullable=False),
        sa.Column("bound_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["bound_by_id"], ["people.id"], name=op.f("fk_home_sensors_bound_by_id_people")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_home_sensors_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_sensors")),
        sa.UniqueConstraint("source", "device", name=op.f("uq_home_sensors_source_device")),
    )
    op.create_index(op.f("ix_home_sensors_household_id"), "home_sensors", ["household_id"], unique=False)
    op.create_table(
        "missed_check_ins",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.Column("local_day", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quiet_since", backend.db.UTCDateTime(timezone=True), nullable=True),
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
        sa.UniqueConstraint(
            "person_id", "local_day", "kind", name=op.f("uq_missed_check_ins_person_id_local_day_kind")
        ),
    )
    op.create_index("ix_missed_check_ins_open", "missed_check_ins", ["community_id", "resolved_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_missed_check_ins_open", table_name="missed_check_ins")
    op.drop_table("missed_check_ins")
    op.drop_index(op.f("ix_home_sensors_household_id"), table_name="home_sensors")
    op.drop_table("home_sensors")
    op.drop_table("home_away")
    op.drop_table("check_ins")
    op.drop_index(op.f("ix_check_in_plans_community_id"), table_name="check_in_plans")
    op.drop_table("check_in_plans")
    op.drop_index("ix_home_hours_hour", table_name="home_hours")
    op.drop_table("home_hours")
