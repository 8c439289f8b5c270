"""The phone line: each call and its turns through the pipeline, and call-back requests

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "phone_calls",
        sa.Column("call_ref", sa.String(length=64), nullable=False),
        sa.Column("bridge", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.Enum("in", "out", name="direction", native_enum=False, length=20), nullable=False),
        sa.Column("caller", sa.String(length=20), nullable=True),
        sa.Column("caller_masked", sa.String(length=20), nullable=False),
        sa.Column("person_id", ID, nullable=True),
        sa.Column("community_id", ID, nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("registered_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("message_ref", sa.String(length=64), nullable=True),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_phone_calls_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_phone_calls_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_calls")),
        sa.UniqueConstraint("call_ref", name=op.f("uq_phone_calls_call_ref")),
    )
    op.create_index(op.f("ix_phone_calls_community_id"), "phone_calls", ["community_id"], unique=False)
    op.create_index(op.f("ix_phone_calls_message_ref"), "phone_calls", ["message_ref"], unique=False)
    op.create_index(op.f("ix_phone_calls_person_id"), "phone_calls", ["person_id"], unique=False)
    op.create_table(
        "callback_requests",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column(
            "asked_of", sa.Enum("family", "centre", name="callbackfor", native_enum=False, length=20), nullable=False
        ),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("requested_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", ID, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["phone_calls.id"], name=op.f("fk_callback_requests_call_id_phone_calls")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_callback_requests_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["done_by_id"], ["people.id"], name=op.f("fk_callback_requests_done_by_id_people")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_callback_requests_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    op.create_index("ix_callback_requests_open", "callback_requests", ["community_id", "done_at"], unique=False)
    op.create_index(op.f("ix_callback_requests_person_id"), "callback_requests", ["person_id"], unique=False)
    op.create_table(
        "phone_call_events",
        sa.Column("call_id", ID, nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["phone_calls.id"], name=op.f("fk_phone_call_events_call_id_phone_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_call_events")),
    )
    op.create_index(op.f("ix_phone_call_events_call_id"), "phone_call_events", ["call_id"], unique=False)


def downgrade() -> None:
    op.drop_table("phone_call_events")
    op.drop_table("callback_requests")
    op.drop_table("phone_calls")
