"""Whatever money does, no balance goes below zero and every balance is its entries: top-ups,
payments that spend a subsidy first, refunds, monthly subsidy credits and their expiry."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.community.models import Person
from backend.config import REPO_ROOT, Settings
from backend.db import create_engine, session_factory, transaction
from backend.wallet import ledger, payments, subsidies
from backend.wallet.errors import InsufficientFunds
from backend.wallet.models import EXTERNAL_KINDS, Account, AccountKind, LedgerEntry

ZONE = Settings.model_fields["default_timezone"].default  # the community's zone, as configured
CONTENT = REPO_ROOT / "content"
POLICY = subsidies.subsidy_policies(CONTENT)["meal-80plus"]  # 100 yuan a month for meals, expiring
PEOPLE = (0, 1, 2)
people = st.sampled_from(PEOPLE)
amounts = st.integers(min_value=1, max_value=30_000)
moves = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), people, people, amounts),
        st.tuples(st.just("pay"), people, people, amounts),  # payer, beneficiary
        st.tuples(st.just("refund"), people, people, st.integers(0, 20)),  # which earlier payment
        st.tuples(st.just("replay"), people, people, st.integers(0, 20)),  # an earlier payment's key again
        st.tuples(st.just("credit"), people, people, st.just(0)),  # this month's allowance for one
        st.tuples(st.just("new_month"), people, people, st.just(0)),
    ),
    max_size=20,
)


@dataclass
class Model:
    """What the balances must be, worked out without the database."""

    wallet: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PEOPLE, 0))
    subsidy: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PEOPLE, 0))
    credited: set[tuple[int, int]] = field(default_factory=set)  # (person, month)
    paid: list[tuple[str, int, int, int, int, int]] = field(default_factory=list)  # ref, payer, benef., amount, w, s
    refunded: set[str] = field(default_factory=set)


async def run(url: str, steps: list[tuple[str, int, int, int]]) -> None:
    engine = create_engine(url)
    factory = session_factory(engine)
    model, month = Model(), 1
    try:
        async with transaction(factory) as session:
            ids = []
            for n in PEOPLE:
                person = Person(name=f"测试{n}", phone=f"+86139000099{n:02d}")
                session.add(person)
                await session.flush()
                ids.append(person.id)
        for n, (kind, a, b, amount) in enumerate(steps):
            async with transaction(factory) as session:
                if kind == "top_up":
                    gateway = await ledger.account(session, ledger.GATEWAY_KEY, AccountKind.GATEWAY)
                    wallet = await ledger.account(
                        session, ledger.wallet_key(ids[b]), AccountKind.WALLET, person_id=ids[b]
                    )
                    await ledger.post(session, kind="top_up", legs=[(gateway, -amount), (wallet, amount)], ref=f"t{n}")
                    model.wallet[b] += amount
                elif kind == "pay":
                    share = min(model.subsidy[b], amount)
                    try:
                        await payments.pay(
                            session,
                            ref=f"order:{n}",
                            payer_id=ids[a],
                            beneficiary_id=ids[b],
                            provider_code="canteen",
                            amount_fen=amount,
                            category="meal",
                            content_dir=CONTENT,
                            timezone=ZONE,
                            by_id=ids[a],
                        )
                    except InsufficientFunds:
                        assert model.wallet[a] < amount - share
                        continue
                    model.wallet[a] -= amount - share
                    model.subsidy[b] -= share
                    model.paid.append((f"order:{n}", a, b, amount, amount - share, share))
                elif kind in ("refund", "replay") and model.paid:
                    ref, payer, beneficiary, total, own, share = model.paid[amount % len(model.paid)]
                    if kind == "refund":
                        await payments.refund(session, ref=ref, by_id=ids[beneficiary])
                        if ref not in model.refunded:
                            model.refunded.add(ref)
                            model.wallet[payer] += own
                            model.subsidy[beneficiary] += share
                    else:  # the same payment asked again: the first one stands, nothing moves
                        await payments.pay(
                            session,
                            ref=ref,
                            payer_id=ids[payer],
                            beneficiary_id=ids[beneficiary],
                            provider_code="canteen",
                            amount_fen=total,
                            category="meal",
                            content_dir=CONTENT,
                            timezone=ZONE,
                            by_id=ids[payer],
                        )
                elif kind == "credit":
                    await subsidies.credit(session, POLICY, ids[b], f"2030-{month:02d}")
                    if (b, month) not in model.credited:
                        model.credited.add((b, month))
                        model.subsidy[b] = POLICY.monthly_fen  # last month's leftover taken back
                elif kind == "new_month" and month < 12:
                    month += 1
        async with factory() as session:
            for account in (await session.execute(select(Account))).scalars():
                total = await session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account.id)
                )
                assert account.balance == total
                if account.kind not in EXTERNAL_KINDS:
                    assert account.balance >= 0
                if account.kind == AccountKind.WALLET:
                    assert account.balance == model.wallet[ids.index(account.person_id)]
                if account.kind == AccountKind.SUBSIDY:
                    assert account.balance == model.subsidy[ids.index(account.person_id)]
    finally:
        await engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=moves)
def test_no_sequence_of_top_ups_payments_refunds_subsidies_and_expiries_breaks_the_ledger(
    sqlite_template: Path, steps: list[tuple[str, int, int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        shutil.copy(sqlite_template, path)
        asyncio.run(run(f"sqlite+aiosqlite:///{path}", steps))
