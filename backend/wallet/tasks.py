"""After money moves: the elder hears about it on the channel they use."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, jobs
from backend.community.models import Person
from backend.db import utcnow
from backend.events import Event, consumer
from backend.gateways.sms import Sms
from backend.jobs import JobRun
from backend.notify import service as notify
from backend.parts import Parts
from backend.wallet import ledger, subsidies
from backend.wallet.models import AccountKind, LedgerTransaction

log = logging.getLogger(__name__)
SUBSIDY_MONTH = "wallet.subsidy_month"
jobs.standing(SUBSIDY_MONTH)


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


@consumer("wallet.topped_up", name="wallet.tell_topped_up")
async def tell_topped_up(session: AsyncSession, event: Event, parts: Parts) -> None:
    tx = await session.get(LedgerTransaction, int(event.payload["transaction_id"]))
    person = await session.get(Person, int(event.payload["person_id"]))
    if tx is None or person is None:
        return
    wallet = await ledger.account(session, ledger.wallet_key(person.id), AccountKind.WALLET, person_id=person.id)
    by = await session.get(Person, tx.by_id) if tx.by_id is not None else None
    catalog = parts.catalog
    params = {"amount": yuan(tx.amount), "balance": yuan(wallet.balance)}
    own = by is None or by.id == person.id
    text = (
        catalog.text(person.locale, "wallet.topped_up_self", **params)
        if own
        else catalog.text(person.locale, "wallet.topped_up", by=by.name if by else "", **params)
    )
    sms = (
        Sms("wallet_topped_up_self", params)
        if own
        else Sms("wallet_topped_up", {"by": by.name if by else "", **params})
    )
    await notify.tell(
        session,
        parts,
        person,
        title=catalog.text(person.locale, "wallet.topped_up_title"),
        text=text,
        data={"kind": "wallet", "transactionId": str(tx.id)},
        sms=sms,
    )


@jobs.job_handler(SUBSIDY_MONTH)
async def credit_subsidies(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """On the 1st (and at first start): this month's allowances a page of people per run,
    each page's run scheduling the next at once, the last one next month's."""
    settings = parts.settings
    tz = settings.zone
    month = run.payload.get("month")
    first = dt.date.fromisoformat(str(month)) if month else clock.today(tz).replace(day=1)
    after = int(run.payload.get("after", 0))
    credited, last = await subsidies.credit_month(session, settings.content_dir, first, after_person_id=after)
    log.info("subsidies for %s after person %d: %d credited", subsidies.month_of(first), after, credited)
    key = jobs.standing_key(SUBSIDY_MONTH)
    if last is not None:
        await jobs.schedule(session, SUBSIDY_MONTH, utcnow(), {"month": first.isoformat(), "after": last}, key=key)
        return
    following = (first + dt.timedelta(days=32)).replace(day=1)
    await jobs.schedule(session, SUBSIDY_MONTH, dt.datetime.combine(following, dt.time(0, 5), tz), key=key)
