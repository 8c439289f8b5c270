"""The alarm's whole story (arrival, repeats after the last tier, a second press's re-notice),
the community duty rota, and the provider's reference of a delivery (a voice call's id)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("notified_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unanswered_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("arrived_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("arrived_by_id", ID, nullable=True))
        batch.create_foreign_key("fk_alerts_arrived_by_id_people", "people", ["arrived_by_id"], ["id"])
    with op.batch_alter_table("escalation_policies") as batch:
        batch.add_column(sa.Column("repeat_every_s", sa.Integer(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("provider_ref", sa.String(64), nullable=True))
    op.create_index("ix_deliveries_provider_ref", "deliveries", ["provider_ref"])
    op.create_table(
        "duty_shifts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
        sa.Column(
            "community_id",
            ID,
            sa.ForeignKey("communities.id", name="fk_duty_shifts_community_id_communities"),
            nullable=False,
        ),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.UniqueConstraint("community_id", "name", name="uq_duty_shifts_community_id_name"),
    )
    op.create_index("ix_duty_shifts_community_id", "duty_shifts", ["community_id"])
    op.create_table(
        "duty_assignments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_assignments")),
        sa.Column(
            "shift_id",
            ID,
            sa.ForeignKey("duty_shifts.id", name="fk_duty_assignments_shift_id_duty_shifts"),
            nullable=False,
        ),
        sa.Column(
            "person_id", ID, sa.ForeignKey("people.id", name="fk_duty_assignments_person_id_people"), nullable=False
        ),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("off", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_duty_assignments_shift_id", "duty_assignments", ["shift_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_provider_ref", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("provider_ref")
    op.drop_table("duty_assignments")
    op.drop_table("duty_shifts")
    with op.batch_alter_table("escalation_policies") as batch:
        batch.drop_column("repeat_every_s")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("fk_alerts_arrived_by_id_people", type_="foreignkey")
        batch.drop_column("arrived_by_id")
        batch.drop_column("arrived_at")
        batch.drop_column("unanswered_at")
        batch.drop_column("notified_at")
