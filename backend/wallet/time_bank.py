"""时间银行: hours of help banked in minutes, in the same double-entry ledger as money and
points but in a unit of their own. A volunteer is credited for help served (paid from the
helped elder's own banked minutes first, the rest sponsored by the community), may give
minutes to a parent (存时间给父母), and staff record minutes by hand for people without a
smartphone, each entry kept for audit. Every credit is keyed: a replay or a race credits once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.db import utcnow
from backend.errors import InvalidInput
from backend.wallet import ledger
from backend.wallet.errors import InsufficientFunds, NotEnoughTime
from backend.wallet.models import Account, AccountKind, LedgerEntry, LedgerTransaction, TimeEntry

SERVED = "time_served"
GIFT = "time_gift"
STAFF_ENTRY = "time_staff_entry"


@dataclass(frozen=True)
class TimeRules:
    per_help_most: int
    per_day_most: int
    gift_most: int
    staff_entry_most: int


@cache
def time_rules(content_dir: Path) -> TimeRules:
    data = json.loads((content_dir / "wallet" / "time_bank.json").read_text("utf-8"))
    return TimeRules(
        per_help_most=int(data["per_help_most_minutes"]),
        per_day_most=int(data["per_day_most_minutes"]),
        gift_most=int(data["gift_most_minutes"]),
        staff_entry_most=int(data["staff_entry_most_minutes"]),
    )


async def mine(session: AsyncSession, person_id: int) -> Account:
    return await ledger.account(session, ledger.time_key(person_id), AccountKind.TIME, person_id=person_id)


async def issued(session: AsyncSession, community_id: int) -> Account:
    return await ledger.account(
        session, ledger.time_issued_key(community_id), AccountKind.TIME_ISSUED, community_id=community_id
    )


async def balance(session: AsyncSession, person_id: int) -> int:
    account = await ledger.find(session, ledger.time_key(person_id))
    return account.balance if account is not None else 0


async def statement(
    session: AsyncSession, person_id: int, limit: int = 30
) -> Sequence[tuple[Account, LedgerEntry, LedgerTransaction]]:
    account = await ledger.find(session, ledger.time_key(person_id))
    return await ledger.entries_of(session, [account.id] if account else [], limit)


async def credited_today(session: AsyncSession, account: Account, zone: str) -> int:
    """Minutes credited to the account for help and staff entries since the local midnight."""
    tz = clock.zone(zone)
    midnight = dt.datetime.combine(clock.today(tz), dt.time(), tz).astimezone(dt.UTC)
    found = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerEntry.account_id == account.id,
            LedgerEntry.amount > 0,
            LedgerTransaction.kind.in_([SERVED, STAFF_ENTRY]),
            LedgerTransaction.created_at >= midnight,
        )
    )
    return int(found or 0)


@dataclass(frozen=True)
class Credit:
    minutes: int  # credited (0 once the day's bound is reached)
    new: bool  # False: this key was credited before, nothing moved now


async def serve(
    session: AsyncSession,
    content_dir: Path,
    zone: str,
    *,
    volunteer_id: int,
    community_id: int,
    minutes: int,
    key: str,
    paid_by_id: int | None = None,
    most: int | None = None,
    by_id: int | None = None,
) -> Credit:
    """Credit `volunteer_id` for help served, within the per-help bound (`most` overrides it)
    and the day's bound. The helped person's banked minutes pay first; the community
    sponsors the rest. `key` names the help (and volunteer): credited once, whatever repeats."""
    first = await ledger.by_key(session, f"time:{key}")
    if first is not None:
        return Credit(first.amount, False)
    rules = time_rules(content_dir)
    account = await mine(session, volunteer_id)
    sponsor = await issued(session, community_id)
    payer = await mine(session, paid_by_id) if paid_by_id is not None and paid_by_id != volunteer_id else None
    locked = await ledger.locked(session, [a for a in (account, sponsor, payer) if a is not None])
    left_today = max(0, rules.per_day_most - await credited_today(session, locked[account.id], zone))
    credit = min(minutes, rules.per_help_most if most is None else most, left_today)
    if credit <= 0:
        return Credit(0, True)
    from_payer = min(credit, locked[payer.id].balance) if payer is not None else 0
    legs = [(account, credit)]
    if from_payer:
        assert payer is not None
        legs.append((payer, -from_payer))
    if credit - from_payer:
        legs.append((sponsor, -(credit - from_payer)))
    await ledger.post(session, kind=SERVED, legs=legs, idempotency_key=f"time:{key}", ref=key[:60], by_id=by_id)
    return Credit(credit, True)


async def give(
    session: AsyncSession, content_dir: Path, *, giver_id: int, receiver_id: int, minutes: int, key: str
) -> LedgerTransaction:
    """存时间给父母: banked minutes from one person to another (the caller checks the family link)."""
    rules = time_rules(content_dir)
    if not 1 <= minutes <= rules.gift_most:
        raise InvalidInput("minutes", field="minutes")
    giver, receiver = await mine(session, giver_id), await mine(session, receiver_id)
    try:
        tx, _ = await ledger.post(
            session,
            kind=GIFT,
            legs=[(giver, -minutes), (receiver, minutes)],
            idempotency_key=f"time:{key}",
            ref=f"gift:{receiver_id}",
            by_id=giver_id,
        )
    except InsufficientFunds:
        raise NotEnoughTime(await balance(session, giver_id)) from None
    return tx


async def record_by_staff(
    session: AsyncSession,
    content_dir: Path,
    zone: str,
    *,
    person_id: int,
    community_id: int,
    minutes: int,
    reason: str,
    by_id: int,
    key: str,
) -> TimeEntry:
    """Staff credit minutes by hand (help given offline, by someone without a smartphone),
    within the day's bound, with a reason; the entry is kept for audit."""
    rules = time_rules(content_dir)
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise InvalidInput("reason", field="reason")
    if not 1 <= minutes <= rules.staff_entry_most:
        raise InvalidInput("minutes", field="minutes")
    first = await ledger.by_key(session, f"time:{key}")
    if first is not None:
        existing = await session.scalar(select(TimeEntry).where(TimeEntry.transaction_id == first.id))
        assert existing is not None
        return existing
    account, sponsor = await mine(session, person_id), await issued(session, community_id)
    locked = await ledger.locked(session, [account, sponsor])
    if minutes > rules.per_day_most - await credited_today(session, locked[account.id], zone):
        raise InvalidInput("minutes", field="minutes")  # past the day's bound
    tx, _ = await ledger.post(
        session,
        kind=STAFF_ENTRY,
        legs=[(sponsor, -minutes), (account, minutes)],
        idempotency_key=f"time:{key}",
        ref=f"staff:{by_id}",
        memo=reason[:200],
        by_id=by_id,
    )
    entry = TimeEntry(
        person_id=person_id, minutes=minutes, reason=reason, by_id=by_id, transaction_id=tx.id, at=utcnow()
    )
    session.add(entry)
    await session.flush()
    return entry
