"""The time bank (minutes in the ledger, staff entries kept for audit) and mutual help
(volunteers, requests for help, who was asked and who went)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_CHECK = "balance >= 0 OR kind IN ('cash_desk', 'gateway', 'government', 'points_issued')"
NEW_CHECK = "balance >= 0 OR kind IN ('cash_desk', 'gateway', 'government', 'points_issued', 'time_issued')"


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("household_id", ID, nullable=False),
        sa.Column("elder_id", ID, nullable=False),
        sa.Column("asked_by_id", ID, nullable=False),
        sa.Column("door", sa.String(length=10), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "chat",
                "shopping",
                "escort",
                "repair",
                "reading",
                "other",
                name="helpkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("starts_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "matched", "done", "cancelled", name="requeststatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "reach",
            sa.Enum("building", "grid", "community", name="reach", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("confirm_code", sa.String(length=8), nullable=False),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.Column("done_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_via", sa.String(length=10), nullable=True),
        sa.Column("cancelled_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asked_by_id"], ["people.id"], name=op.f("fk_help_requests_asked_by_id_people")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_help_requests_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["elder_id"], ["people.id"], name=op.f("fk_help_requests_elder_id_people")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_help_requests_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
    )
    op.create_index("ix_help_requests_community_status", "help_requests", ["community_id", "status"], unique=False)
    op.create_index("ix_help_requests_elder", "help_requests", ["elder_id", "id"], unique=False)
    op.create_table(
        "volunteers",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.Column("from_time", sa.Time(), nullable=False),
        sa.Column("until_time", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("answers_alarms", sa.Boolean(), nullable=False),
        sa.Column("alarms_in_quiet_hours", sa.Boolean(), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_volunteers_person_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_volunteers")),
    )
    op.create_table(
        "help_offers",
        sa.Column("request_id", ID, nullable=False),
        sa.Column("volunteer_id", ID, nullable=False),
        sa.Column(
            "reach",
            sa.Enum("building", "grid", "community", name="reach", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("asked", "accepted", "declined", "too_late", name="offerstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("asked_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("minutes_credited", sa.Integer(), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["help_requests.id"], name=op.f("fk_help_offers_request_id_help_requests")
        ),
        sa.ForeignKeyConstraint(["volunteer_id"], ["people.id"], name=op.f("fk_help_offers_volunteer_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_offers")),
        sa.UniqueConstraint("request_id", "volunteer_id", name=op.f("uq_help_offers_request_id_volunteer_id")),
    )
    op.create_index(op.f("ix_help_offers_request_id"), "help_offers", ["request_id"], unique=False)
    op.create_index(op.f("ix_help_offers_volunteer_id"), "help_offers", ["volunteer_id"], unique=False)
    op.create_table(
        "time_entries",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("by_id", ID, nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["people.id"], name=op.f("fk_time_entries_by_id_people")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_time_entries_person_id_people")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_time_entries_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
    )
    op.create_index(op.f("ix_time_entries_person_id"), "time_entries", ["person_id"], unique=False)
    # The community's time-issued account mirrors minutes it sponsored: it runs negative.
    _replace_check(OLD_CHECK, NEW_CHECK)


def downgrade() -> None:
    _replace_check(NEW_CHECK, OLD_CHECK)
    op.drop_index(op.f("ix_time_entries_person_id"), table_name="time_entries")
    op.drop_table("time_entries")
    op.drop_index(op.f("ix_help_offers_volunteer_id"), table_name="help_offers")
    op.drop_index(op.f("ix_help_offers_request_id"), table_name="help_offers")
    op.drop_table("help_offers")
    op.drop_table("volunteers")
    op.drop_index("ix_help_requests_elder", table_name="help_requests")
    op.drop_index("ix_help_requests_community_status", table_name="help_requests")
    op.drop_table("help_requests")


def _replace_check(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_accounts_no_overdraft"), "accounts", type_="check")
        op.create_check_constraint(op.f("ck_accounts_no_overdraft"), "accounts", new)
        return
    # Rebuilding the table (batch mode) would trip the ledger entries' foreign keys once the
    # ledger holds anything. Widening a CHECK leaves every stored row valid, the case SQLite
    # documents for editing the schema text in place (ALTER TABLE, "other kinds of changes").
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").scalar()
    assert isinstance(sql, str) and old in sql, "the accounts table is not as migration 0012 left it"
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar() or 0
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'accounts'", (sql.replace(old, new),)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
