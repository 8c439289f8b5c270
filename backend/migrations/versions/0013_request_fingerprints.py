"""Request fingerprints: a replayed idempotency key must carry the same request

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("bookings", "orders"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in ("bookings", "orders"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("request_fingerprint")
