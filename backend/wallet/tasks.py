"""After money moves: the elder hears about it on the channel they use."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import runtime
from backend.community.models import Person
from backend.events import Event, consumer
from backend.notify import service as notify
from backend.wallet import ledger
from backend.wallet.models import AccountKind, LedgerTransaction


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


@consumer("wallet.topped_up", name="wallet.tell_topped_up")
async def tell_topped_up(session: AsyncSession, event: Event) -> None:
    tx = await session.get(LedgerTransaction, int(event.payload["transaction_id"]))
    person = await session.get(Person, int(event.payload["person_id"]))
    if tx is None or person is None:
        return
    wallet = await ledger.account(session, ledger.wallet_key(person.id), AccountKind.WALLET, person_id=person.id)
    by = await session.get(Person, tx.by_id) if tx.by_id is not None else None
    catalog = runtime.current().catalog
    params = {"amount": yuan(tx.amount_fen), "balance": yuan(wallet.balance_fen)}
    text = (
        catalog.text(person.locale, "wallet.topped_up_self", **params)
        if by is None or by.id == person.id
        else catalog.text(person.locale, "wallet.topped_up", by=by.name, **params)
    )
    await notify.tell(
        session,
        person,
        title=catalog.text(person.locale, "wallet.topped_up_title"),
        text=text,
        data={"kind": "wallet", "transactionId": str(tx.id)},
    )
