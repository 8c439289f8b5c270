"""The double-entry ledger: every movement is entries that sum to zero, written with the
balances they change in one transaction, never updated or deleted.

Accounts are locked in id order (PostgreSQL `FOR UPDATE`; SQLite writes are serial) before
anything is read, so a balance checked is the balance written, and two movements through the
same accounts never deadlock."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import is_postgres
from backend.idempotency import IdempotencyKeyReused
from backend.wallet.errors import InsufficientFunds
from backend.wallet.models import EXTERNAL_KINDS, UNIT_OF, Account, AccountKind, LedgerEntry, LedgerTransaction


def wallet_key(person_id: int) -> str:
    return f"wallet:person:{person_id}"


def cash_desk_key(community_id: int) -> str:
    return f"cash_desk:community:{community_id}"


GATEWAY_KEY = "gateway:online"


def points_key(person_id: int) -> str:
    return f"points:person:{person_id}"


def points_issued_key(community_id: int) -> str:
    return f"points_issued:community:{community_id}"


def points_spent_key(merchant_code: str) -> str:
    return f"points_spent:{merchant_code}"


def time_key(person_id: int) -> str:
    return f"time:person:{person_id}"


def time_issued_key(community_id: int) -> str:
    return f"time_issued:community:{community_id}"


def provider_key(provider_code: str) -> str:
    return f"provider:{provider_code}"


async def account(
    session: AsyncSession, key: str, kind: AccountKind, *, person_id: int | None = None, community_id: int | None = None
) -> Account:
    """The account named `key`, opened on first use (racing openers get the same one)."""
    values = {
        "key": key,
        "kind": kind,
        "person_id": person_id,
        "community_id": community_id,
        "balance": 0,
        "unit": UNIT_OF[kind],
    }
    postgres = is_postgres(session)
    insert = pg_insert if postgres else sqlite_insert
    await session.execute(insert(Account).values(values).on_conflict_do_nothing(index_elements=["key"]))
    found = await find(session, key)
    assert found is not None
    return found


async def find(session: AsyncSession, key: str) -> Account | None:
    """The account, if it was ever opened (reading opens nothing)."""
    return (await session.execute(select(Account).where(Account.key == key))).scalar_one_or_none()


async def post(
    session: AsyncSession,
    *,
    kind: str,
    legs: Sequence[tuple[Account, int]],
    idempotency_key: str | None = None,
    ref: str | None = None,
    memo: str = "",
    by_id: int | None = None,
) -> tuple[LedgerTransaction, bool]:
    """Move money between accounts: (the movement, whether it is new). A replayed
    idempotency key returns the first movement and moves nothing; a key used for a different
    movement is refused."""
    if sum(amount for _, amount in legs) != 0 or any(amount == 0 for _, amount in legs):
        raise ValueError("a movement's entries must be non-zero and sum to zero")
    units = {a.unit for a, _ in legs}
    if len(units) != 1:
        raise ValueError("a movement is in one unit: fen, points or minutes, never two")
    [unit] = units
    accounts = await _lock(session, sorted({a.id for a, _ in legs}))
    amount = sum(a for _, a in legs if a > 0)
    if idempotency_key is not None:
        first = await by_key(session, idempotency_key)
        if first is not None:
            if first.kind != kind or first.amount != amount or first.ref != ref:
                raise IdempotencyKeyReused()
            return first, False
    after = {a.id: a.balance for a in accounts.values()}
    for acct, delta in legs:
        after[acct.id] += delta
    for acct_id, balance in after.items():
        if balance < 0 and accounts[acct_id].kind not in EXTERNAL_KINDS:
            raise InsufficientFunds(accounts[acct_id].balance)
    tx = LedgerTransaction(
        kind=kind, amount=amount, unit=unit, idempotency_key=idempotency_key, ref=ref, memo=memo, by_id=by_id
    )
    session.add(tx)
    await session.flush()
    session.add_all(LedgerEntry(transaction_id=tx.id, account_id=a.id, amount=delta) for a, delta in legs)
    for acct_id, balance in after.items():
        accounts[acct_id].balance = balance
    await session.flush()
    return tx, True


async def locked(session: AsyncSession, accounts: Sequence[Account]) -> dict[int, Account]:
    """The accounts, locked until the transaction ends and read fresh: balances to decide on."""
    return await _lock(session, sorted({a.id for a in accounts}))


async def legs_of(session: AsyncSession, tx: LedgerTransaction) -> list[tuple[Account, int]]:
    rows = await session.execute(
        select(Account, LedgerEntry.amount)
        .join(LedgerEntry, LedgerEntry.account_id == Account.id)
        .where(LedgerEntry.transaction_id == tx.id)
        .order_by(LedgerEntry.id)
    )
    return [(a, amount) for a, amount in rows.all()]


async def by_key(session: AsyncSession, idempotency_key: str) -> LedgerTransaction | None:
    query = select(LedgerTransaction).where(LedgerTransaction.idempotency_key == idempotency_key)
    return (await session.execute(query)).scalar_one_or_none()


async def _lock(session: AsyncSession, account_ids: list[int]) -> dict[int, Account]:
    query = select(Account).where(Account.id.in_(account_ids)).order_by(Account.id)
    if is_postgres(session):
        query = query.with_for_update()
    rows = (await session.execute(query.execution_options(populate_existing=True))).scalars().all()
    return {a.id: a for a in rows}


async def find_many(session: AsyncSession, keys: Sequence[str]) -> Sequence[Account]:
    return (await session.execute(select(Account).where(Account.key.in_(keys)).order_by(Account.id))).scalars().all()


async def entries_of(
    session: AsyncSession, account_ids: Sequence[int], limit: int
) -> Sequence[tuple[Account, LedgerEntry, LedgerTransaction]]:
    """The accounts' statement, newest first."""
    if not account_ids:
        return []
    rows = await session.execute(
        select(Account, LedgerEntry, LedgerTransaction)
        .join(LedgerEntry, LedgerEntry.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id.in_(account_ids))
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return [(a, e, t) for a, e, t in rows]
