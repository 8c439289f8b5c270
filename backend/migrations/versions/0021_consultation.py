"""Consultation desks (community office, family doctor, legal adviser) with their people,
hours and reply promise, and the threads residents open with them

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consult_desks",
        sa.Column("community_id", ID, nullable=False),
        sa.Column(
            "kind", sa.Enum("office", "doctor", "lawyer", name="deskkind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.Column("promise_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_consult_desks_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_desks")),
        sa.UniqueConstraint("community_id", "kind", name=op.f("uq_consult_desks_community_id_kind")),
    )
    op.create_table(
        "consult_desk_members",
        sa.Column("desk_id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["consult_desks.id"], name=op.f("fk_consult_desk_members_desk_id_consult_desks")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_consult_desk_members_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_desk_members")),
        sa.UniqueConstraint("desk_id", "person_id", name=op.f("uq_consult_desk_members_desk_id_person_id")),
    )
    op.create_index(op.f("ix_consult_desk_members_desk_id"), "consult_desk_members", ["desk_id"], unique=False)
    op.create_index(op.f("ix_consult_desk_members_person_id"), "consult_desk_members", ["person_id"], unique=False)
    op.create_table(
        "consult_threads",
        sa.Column("desk_id", ID, nullable=False),
        sa.Column("elder_id", ID, nullable=False),
        sa.Column("asked_by_id", ID, nullable=False),
        sa.Column("door", sa.String(length=10), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("article_id", sa.String(length=40), nullable=True),
        sa.Column("ring_back", sa.String(length=20), nullable=True),
        sa.Column(
            "status",
            sa.Enum("waiting", "answered", "closed", name="threadstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("waiting_since", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", ID, nullable=True),
        sa.Column(
            "rating",
            sa.Enum("satisfied", "ok", "unsatisfied", name="satisfaction", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("rating_comment", sa.String(length=300), nullable=True),
        sa.Column("rated_by_id", ID, nullable=True),
        sa.Column("rated_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asked_by_id"], ["people.id"], name=op.f("fk_consult_threads_asked_by_id_people")),
        sa.ForeignKeyConstraint(["assignee_id"], ["people.id"], name=op.f("fk_consult_threads_assignee_id_people")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["people.id"], name=op.f("fk_consult_threads_closed_by_id_people")),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["consult_desks.id"], name=op.f("fk_consult_threads_desk_id_consult_desks")
        ),
        sa.ForeignKeyConstraint(["elder_id"], ["people.id"], name=op.f("fk_consult_threads_elder_id_people")),
        sa.ForeignKeyConstraint(["rated_by_id"], ["people.id"], name=op.f("fk_consult_threads_rated_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_threads")),
    )
    op.create_index(op.f("ix_consult_threads_assignee_id"), "consult_threads", ["assignee_id"], unique=False)
    op.create_index("ix_consult_threads_elder", "consult_threads", ["elder_id", "id"], unique=False)
    op.create_index("ix_consult_threads_queue", "consult_threads", ["desk_id", "status", "due_at"], unique=False)
    op.create_table(
        "consult_messages",
        sa.Column("thread_id", ID, nullable=False),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("from_desk", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_consult_messages_author_id_people")),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["consult_threads.id"], name=op.f("fk_consult_messages_thread_id_consult_threads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_messages")),
    )
    op.create_index(op.f("ix_consult_messages_thread_id"), "consult_messages", ["thread_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_consult_messages_thread_id"), table_name="consult_messages")
    op.drop_table("consult_messages")
    op.drop_index("ix_consult_threads_queue", table_name="consult_threads")
    op.drop_index("ix_consult_threads_elder", table_name="consult_threads")
    op.drop_index(op.f("ix_consult_threads_assignee_id"), table_name="consult_threads")
    op.drop_table("consult_threads")
    op.drop_index(op.f("ix_consult_desk_members_person_id"), table_name="consult_desk_members")
    op.drop_index(op.f("ix_consult_desk_members_desk_id"), table_name="consult_desk_members")
    op.drop_table("consult_desk_members")
    op.drop_table("consult_desks")
