"""a community's own escalation policy, set by its staff

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("en_route_timeout_s", sa.Integer(), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_escalation_policies_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["people.id"], name=op.f("fk_escalation_policies_updated_by_id_people")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_escalation_policies")),
    )


def downgrade() -> None:
    op.drop_table("escalation_policies")
