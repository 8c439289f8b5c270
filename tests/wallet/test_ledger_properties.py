"""Whatever money does, no balance goes below zero and every balance is its entries."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.db import create_engine, session_factory, transaction
from backend.wallet import ledger
from backend.wallet.errors import InsufficientFunds
from backend.wallet.models import Account, AccountKind, LedgerEntry

PEOPLE = (1, 2, 3)  # three wallets (the template database has no people: accounts by key alone)
amounts = st.integers(min_value=1, max_value=50_000)
moves = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE), amounts),
        st.tuples(st.just("pay"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE), amounts),
        st.tuples(st.just("replay"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE), st.integers(0, 20)),
    ),
    max_size=15,
)


async def run(url: str, steps: list[tuple[str, int, int, int]]) -> None:
    engine = create_engine(url)
    factory = session_factory(engine)
    expected = dict.fromkeys(PEOPLE, 0)
    done: list[tuple[str, int, int, int, str]] = []  # what was posted, with its key
    try:
        for n, (kind, a, b, amount) in enumerate(steps):
            if kind == "replay":
                if not done:
                    continue
                kind, a, b, amount, key = done[amount % len(done)]
            else:
                key = f"step-{n}"
            async with transaction(factory) as session:
                gateway = await ledger.account(session, ledger.GATEWAY_KEY, AccountKind.GATEWAY)
                wallets = {p: await ledger.account(session, ledger.wallet_key(p), AccountKind.WALLET) for p in PEOPLE}
                source = gateway if kind == "top_up" else wallets[a]
                target = wallets[b]
                if source.id == target.id:
                    continue
                try:
                    _, new = await ledger.post(
                        session,
                        kind=kind,
                        legs=[(source, -amount), (target, amount)],
                        idempotency_key=key,
                        ref=f"{a}>{b}",
                    )
                except InsufficientFunds:
                    assert kind == "pay" and expected[a] < amount
                    continue
            if new:
                if kind == "pay":
                    expected[a] -= amount
                expected[b] += amount
                done.append((kind, a, b, amount, key))
        async with factory() as session:
            for account in (await session.execute(select(Account))).scalars():
                total = await session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
                        LedgerEntry.account_id == account.id
                    )
                )
                assert account.balance_fen == total
                if account.kind == AccountKind.WALLET:
                    assert account.balance_fen >= 0
                    assert account.balance_fen == expected[int(account.key.rsplit(":", 1)[1])]
    finally:
        await engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=moves)
def test_no_sequence_of_top_ups_payments_and_replays_breaks_the_ledger(
    sqlite_template: Path, steps: list[tuple[str, int, int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        shutil.copy(sqlite_template, path)
        asyncio.run(run(f"sqlite+aiosqlite:///{path}", steps))
