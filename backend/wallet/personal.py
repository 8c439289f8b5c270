"""The wallet room's personal data (backend.personal): her accounts and their movements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from backend.personal import Declared, Erase, Held
from backend.wallet.models import Account, LedgerEntry, LedgerTransaction, PointsEvent, SubsidyGrant, TimeEntry


def _her_accounts(pid: int) -> Select[Any]:
    return select(Account.id).where(Account.person_id == pid)


_KEPT = "kept, anonymous, as long as the ledger: every balance must still add up"

DATA: tuple[Declared, ...] = (
    Held(
        Account,
        "wallet_accounts",
        why="her wallet, subsidies, points and banked minutes",
        about=("person_id",),
        erase=Erase.KEEP,
        kept=_KEPT,
    ),
    Held(
        LedgerEntry,
        "wallet_movements",
        why="each movement of her accounts (double-entry)",
        rows=lambda pid: LedgerEntry.account_id.in_(_her_accounts(pid)),
        erase=Erase.KEEP,
        kept=_KEPT,
    ),
    Held(
        LedgerTransaction,
        "wallet_transactions",
        why="what each movement was (a top-up, a meal, a subsidy), and who made it",
        rows=lambda pid: LedgerTransaction.id.in_(
            select(LedgerEntry.transaction_id).where(LedgerEntry.account_id.in_(_her_accounts(pid)))
        ),
        by=("by_id",),
        words=("memo",),
        # The movement's total is not hers (the other side's entries make it up): her part is
        # in wallet_movements.
        secret=("idempotency_key", "amount"),
        erase=Erase.BLANK,
        blank={"memo": ""},
        kept=_KEPT + "; without its note",
    ),
    Held(
        SubsidyGrant,
        "subsidies",
        why="the government allowances granted to her",
        about=("person_id",),
        acting=("granted_by_id", "ended_by_id"),
        erase=Erase.KEEP,
        kept="kept as long as the ledger: civil affairs' record of what was paid",
    ),
    Held(
        PointsEvent,
        "points",
        why="points she earned, and for what",
        about=("person_id",),
        words=("event_id",),
        erase=Erase.KEEP,
        kept=_KEPT,
    ),
    Held(
        TimeEntry,
        "time_bank",
        why="minutes of help recorded for her time bank, and why",
        about=("person_id",),
        acting=("by_id",),
        words=("reason",),
        erase=Erase.BLANK,
        blank={"reason": ""},
        kept=_KEPT + "; without its reason",
    ),
)
