"""Money: accounts and an append-only, double-entry ledger in integer fen."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum


class AccountKind(StrEnum):
    WALLET = "wallet"  # a person's own money
    CASH_DESK = "cash_desk"  # cash taken at a community's service centre
    GATEWAY = "gateway"  # money paid in online
    PROVIDER = "provider"  # what a service provider or merchant has been paid
    SUBSIDY = "subsidy"  # an elder's government allowance under one policy (政府补贴)
    GOVERNMENT = "government"  # what a subsidy policy has paid out, net of what expired


# Accounts that mirror money arriving from outside: their balance is what came in, negated.
EXTERNAL_KINDS = frozenset({AccountKind.CASH_DESK, AccountKind.GATEWAY, AccountKind.GOVERNMENT})


class Account(IdMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        # A person's balance never goes below zero, whatever the code above does.
        CheckConstraint("balance_fen >= 0 OR kind IN ('cash_desk', 'gateway', 'government')", name="no_overdraft"),
    )
    key: Mapped[str] = mapped_column(String(80), unique=True)  # "wallet:person:12", "cash_desk:community:1"
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    person_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("communities.id"))
    balance_fen: Mapped[int] = mapped_column(default=0)  # the sum of its entries, kept with them


class LedgerTransaction(IdMixin, CreatedAtMixin, Base):
    """One movement of money: its entries sum to zero. Never updated, never deleted."""

    __tablename__ = "ledger_transactions"
    kind: Mapped[str] = mapped_column(String(30))  # top_up, payment, refund, ...
    amount_fen: Mapped[int]
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    ref: Mapped[str | None] = mapped_column(String(60), index=True)  # what it pays for: "order:12"
    memo: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))


class LedgerEntry(IdMixin, Base):
    __tablename__ = "ledger_entries"
    transaction_id: Mapped[int] = mapped_column(IdType, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("accounts.id"), index=True)
    amount_fen: Mapped[int]  # + into the account, - out of it


class SubsidyGrant(Base):
    """A subsidy given by staff to an elder who qualifies (低保): by whom and when, and when it ended."""

    __tablename__ = "subsidy_grants"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    policy_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    granted_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    granted_at: Mapped[dt.datetime]
    ended_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    ended_at: Mapped[dt.datetime | None]
