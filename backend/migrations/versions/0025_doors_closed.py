"""Issue 26: a TV grant is redeemed only for the pairing it approved (approved_at), pairing
codes are limited per address (the grant's ip) and wrong codes per account and address
(tv_code_tries)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tv_device_grants") as batch:
        batch.add_column(sa.Column("approved_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ip", sa.String(length=64), nullable=True))
        batch.create_index("ix_tv_device_grants_ip_created", ["ip", "created_at"], unique=False)
    op.create_table(
        "tv_code_tries",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_tv_code_tries_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tv_code_tries")),
    )
    op.create_index("ix_tv_code_tries_person_at", "tv_code_tries", ["person_id", "at"], unique=False)
    op.create_index("ix_tv_code_tries_ip_at", "tv_code_tries", ["ip", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tv_code_tries_ip_at", table_name="tv_code_tries")
    op.drop_index("ix_tv_code_tries_person_at", table_name="tv_code_tries")
    op.drop_table("tv_code_tries")
    with op.batch_alter_table("tv_device_grants") as batch:
        batch.drop_index("ix_tv_device_grants_ip_created")
        batch.drop_column("ip")
        batch.drop_column("approved_at")
