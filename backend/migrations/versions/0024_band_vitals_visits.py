"""Wellbeing, the rest of issue 16: the health consent's scopes (profile, location, vitals),
the band's location at an alarm, vital-sign limits and the readings outside them, a missed
check-in's band reading, homes' own quiet rules, and grid workers' visits

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "band_fixes",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("accuracy_m", sa.Integer(), nullable=True),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_band_fixes_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_band_fixes")),
    )
    op.create_index(op.f("ix_band_fixes_person_id"), "band_fixes", ["person_id"], unique=False)
    op.create_index(op.f("ix_band_fixes_ref"), "band_fixes", ["ref"], unique=False)
    op.create_table(
        "home_quiet_rules",
        sa.Column("household_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quiet_hours", sa.Integer(), nullable=False),
        sa.Column("set_by_id", ID, nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_home_quiet_rules_household_id_households")
        ),
        sa.ForeignKeyConstraint(["set_by_id"], ["people.id"], name=op.f("fk_home_quiet_rules_set_by_id_people")),
        sa.PrimaryKeyConstraint("household_id", "kind", name=op.f("pk_home_quiet_rules")),
    )
    op.create_table(
        "visits",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.Column("by_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("how", sa.String(length=12), nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("follow_up", sa.String(length=200), nullable=False),
        sa.Column("follow_up_done_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["people.id"], name=op.f("fk_visits_by_id_people")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_visits_community_id_communities")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_visits_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index("ix_visits_community", "visits", ["community_id", "at"], unique=False)
    op.create_index("ix_visits_person", "visits", ["person_id", "at"], unique=False)
    op.create_table(
        "vital_limits",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("heart_low", sa.Integer(), nullable=False),
        sa.Column("heart_high", sa.Integer(), nullable=False),
        sa.Column("oxygen_low", sa.Integer(), nullable=False),
        sa.Column("set_by_id", ID, nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_vital_limits_person_id_people")),
        sa.ForeignKeyConstraint(["set_by_id"], ["people.id"], name=op.f("fk_vital_limits_set_by_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_vital_limits")),
    )
    op.create_table(
        "vital_signs",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_vital_signs_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_signs")),
    )
    op.create_index("ix_vital_signs_person", "vital_signs", ["person_id", "at"], unique=False)
    op.add_column("health_consents", sa.Column("scope", sa.String(length=20), server_default="profile", nullable=False))
    op.add_column("missed_check_ins", sa.Column("sign_id", ID, nullable=True))


def downgrade() -> None:
    op.drop_column("missed_check_ins", "sign_id")
    op.drop_column("health_consents", "scope")
    op.drop_index("ix_vital_signs_person", table_name="vital_signs")
    op.drop_table("vital_signs")
    op.drop_table("vital_limits")
    op.drop_index("ix_visits_person", table_name="visits")
    op.drop_index("ix_visits_community", table_name="visits")
    op.drop_table("visits")
    op.drop_table("home_quiet_rules")
    op.drop_index(op.f("ix_band_fixes_ref"), table_name="band_fixes")
    op.drop_index(op.f("ix_band_fixes_person_id"), table_name="band_fixes")
    op.drop_table("band_fixes")
