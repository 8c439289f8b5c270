"""PIPL rights: data exports, the log of who read whose personal data, deleted accounts

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("deleted_at", backend.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "data_exports",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("requested_by_id", ID, nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("expires_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_data_exports_person_id_people")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["people.id"], name=op.f("fk_data_exports_requested_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_data_exports_token_hash")),
    )
    op.create_index("ix_data_exports_person_created", "data_exports", ["person_id", "created_at"])
    op.create_table(
        "data_access_log",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("reader_id", ID, nullable=False),
        sa.Column("what", sa.String(length=30), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_data_access_log_person_id_people")),
        sa.ForeignKeyConstraint(["reader_id"], ["people.id"], name=op.f("fk_data_access_log_reader_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_access_log")),
    )
    op.create_index("ix_data_access_person_at", "data_access_log", ["person_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_data_access_person_at", table_name="data_access_log")
    op.drop_table("data_access_log")
    op.drop_index("ix_data_exports_person_created", table_name="data_exports")
    op.drop_table("data_exports")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("deleted_at")
