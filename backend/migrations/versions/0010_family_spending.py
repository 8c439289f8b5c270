"""family links: whether family may pay from the elder's wallet, and a monthly limit

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("family_links", schema=None) as batch_op:
        # Existing links: the elder has not allowed it (the rule before this column).
        batch_op.add_column(sa.Column("elder_wallet_allowed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("monthly_limit_fen", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("family_links", schema=None) as batch_op:
        batch_op.drop_column("monthly_limit_fen")
        batch_op.drop_column("elder_wallet_allowed")
