"""people: the community card number, proof of a visit at the door

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community_card", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_people_community_card"), ["community_card"])


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_people_community_card"), type_="unique")
        batch_op.drop_column("community_card")
