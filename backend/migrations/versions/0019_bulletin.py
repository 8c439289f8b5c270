"""The community's noticeboard: announcements and policies, events and classes with their
sign-ups and waiting lists, and the numbers to ring

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "community_contacts",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "service_centre",
                "police",
                "in_charge",
                "grid_worker",
                "clinic",
                "other",
                name="contactkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("hours", sa.String(length=60), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_community_contacts_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_contacts")),
    )
    op.create_index(op.f("ix_community_contacts_community_id"), "community_contacts", ["community_id"], unique=False)
    op.create_table(
        "announcements",
        sa.Column("community_id", ID, nullable=False),
        sa.Column(
            "kind", sa.Enum("announcement", "policy", name="noticekind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("plain", sa.String(length=200), nullable=False),
        sa.Column(
            "audience",
            sa.Enum("community", "grid", "building", "elders", name="audience", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("grid_id", ID, nullable=True),
        sa.Column("building_id", ID, nullable=True),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("starts_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", ID, nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["buildings.id"], name=op.f("fk_announcements_building_id_buildings")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_announcements_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_announcements_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["people.id"], name=op.f("fk_announcements_published_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index("ix_announcements_community_from", "announcements", ["community_id", "starts_at"], unique=False)
    op.create_table(
        "community_events",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("kind", sa.Enum("event", "class", name="eventkind", native_enum=False, length=20), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("plain", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("starts_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_by_id", ID, nullable=False),
        sa.Column("cancelled_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_community_events_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_community_events_created_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_events")),
    )
    op.create_index(
        "ix_community_events_community_start", "community_events", ["community_id", "starts_at"], unique=False
    )
    op.create_table(
        "event_signups",
        sa.Column("event_id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column(
            "status",
            sa.Enum("confirmed", "waiting", "withdrawn", name="signupstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("signed_up_by_id", ID, nullable=True),
        sa.Column("door", sa.String(length=10), nullable=False),
        sa.Column("queued_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["community_events.id"], name=op.f("fk_event_signups_event_id_community_events")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_event_signups_person_id_people")),
        sa.ForeignKeyConstraint(
            ["signed_up_by_id"], ["people.id"], name=op.f("fk_event_signups_signed_up_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint("event_id", "person_id", name=op.f("uq_event_signups_event_id_person_id")),
    )
    op.create_index(op.f("ix_event_signups_event_id"), "event_signups", ["event_id"], unique=False)
    op.create_index(op.f("ix_event_signups_person_id"), "event_signups", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_signups_person_id"), table_name="event_signups")
    op.drop_index(op.f("ix_event_signups_event_id"), table_name="event_signups")
    op.drop_table("event_signups")
    op.drop_index("ix_community_events_community_start", table_name="community_events")
    op.drop_table("community_events")
    op.drop_index("ix_announcements_community_from", table_name="announcements")
    op.drop_table("announcements")
    op.drop_index(op.f("ix_community_contacts_community_id"), table_name="community_contacts")
    op.drop_table("community_contacts")
