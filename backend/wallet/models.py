"""Money and points: accounts and an append-only, double-entry ledger. Every amount is an
integer in its account's unit (fen for money, points for 积分); a movement never mixes units."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum


class AccountKind(StrEnum):
    WALLET = "wallet"  # a person's own money
    CASH_DESK = "cash_desk"  # cash taken at a community's service centre
    GATEWAY = "gateway"  # money paid in online
    PROVIDER = "provider"  # what a service provider or merchant has been paid
    SUBSIDY = "subsidy"  # an elder's government allowance under one policy (政府补贴)
    GOVERNMENT = "government"  # what a subsidy policy has paid out, net of what expired
    # 积分 are counted in points, not fen, in the same ledger.
    POINTS = "points"  # a person's points
    POINTS_ISSUED = "points_issued"  # what a community has awarded, net of what came back
    POINTS_SPENT = "points_spent"  # what a merchant has taken in points (settled by the community)
    # The time bank (时间银行) counts minutes of help, in the same ledger.
    TIME = "time"  # a person's banked minutes
    TIME_ISSUED = "time_issued"  # minutes a community has credited for help it sponsored


# Accounts that mirror money arriving from outside: their balance is what came in, negated.
EXTERNAL_KINDS = frozenset(
    {
        AccountKind.CASH_DESK,
        AccountKind.GATEWAY,
        AccountKind.GOVERNMENT,
        AccountKind.POINTS_ISSUED,
        AccountKind.TIME_ISSUED,
    }
)
POINT_KINDS = frozenset({AccountKind.POINTS, AccountKind.POINTS_ISSUED, AccountKind.POINTS_SPENT})
TIME_KINDS = frozenset({AccountKind.TIME, AccountKind.TIME_ISSUED})


class Unit(StrEnum):
    """What an account's amounts count."""

    FEN = "fen"  # money, in 分
    POINTS = "points"  # 积分
    MINUTES = "minutes"  # the time bank's hours of help, in minutes


UNIT_OF: dict[AccountKind, Unit] = {
    kind: Unit.POINTS if kind in POINT_KINDS else Unit.MINUTES if kind in TIME_KINDS else Unit.FEN
    for kind in AccountKind
}


class Account(IdMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        # A person's balance never goes below zero, whatever the code above does.
        CheckConstraint(
            "balance >= 0 OR kind IN ('cash_desk', 'gateway', 'government', 'points_issued', 'time_issued')",
            name="no_overdraft",
        ),
    )
    key: Mapped[str] = mapped_column(String(80), unique=True)  # "wallet:person:12", "cash_desk:community:1"
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    person_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("communities.id"))
    unit: Mapped[Unit] = mapped_column(str_enum(Unit), default=Unit.FEN)
    # The sum of its entries, kept with them, in its unit.
    balance: Mapped[int] = mapped_column(default=0)


class LedgerTransaction(IdMixin, CreatedAtMixin, Base):
    """One movement of money: its entries sum to zero. Never updated, never deleted."""

    __tablename__ = "ledger_transactions"
    kind: Mapped[str] = mapped_column(String(30))  # top_up, payment, refund, ...
    amount: Mapped[int]  # what moved (the sum of the entries into accounts), in `unit`
    unit: Mapped[Unit] = mapped_column(str_enum(Unit), default=Unit.FEN)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    ref: Mapped[str | None] = mapped_column(String(60), index=True)  # what it pays for: "order:12"
    memo: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))


class LedgerEntry(IdMixin, Base):
    __tablename__ = "ledger_entries"
    transaction_id: Mapped[int] = mapped_column(IdType, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("accounts.id"), index=True)
    amount: Mapped[int]  # + into the account, - out of it, in the account's unit


class SubsidyGrant(Base):
    """A subsidy given by staff to an elder who qualifies (低保): by whom and when, and when it ended."""

    __tablename__ = "subsidy_grants"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    policy_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    granted_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    granted_at: Mapped[dt.datetime]
    ended_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    ended_at: Mapped[dt.datetime | None]


class PointsEvent(IdMixin, CreatedAtMixin, Base):
    """Something a resident did that earns points, as a partner's system reported it: kept
    once per (source, event id), with the points it earned (0 past the day's cap)."""

    __tablename__ = "points_events"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_points_events_person_kind", "person_id", "kind"),
    )
    source: Mapped[str] = mapped_column(String(60))
    event_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(30))  # garbage_sorting | volunteer_hours
    quantity: Mapped[int]  # reports, or hours (minutes from the source time_bank)
    points: Mapped[int]
    local_day: Mapped[str] = mapped_column(String(10))  # for the daily cap, in the community's zone


class TimeEntry(IdMixin, Base):
    """Minutes staff recorded by hand (for a volunteer or an elder without a smartphone): who,
    for whom, how many, why. Kept for audit with the ledger movement it made."""

    __tablename__ = "time_entries"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    minutes: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    transaction_id: Mapped[int] = mapped_column(IdType, ForeignKey("ledger_transactions.id"))
    at: Mapped[dt.datetime]
