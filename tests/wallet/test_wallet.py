"""Wallets: family top up an elder's from afar, staff take cash; nothing else moves money."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import func, select

from backend.wallet.models import Account, LedgerEntry, LedgerTransaction
from tests.conftest import ELDER, FAMILY, FAMILY_2, HEPING_WORKER, SERVICE_CENTRE, Api, Database


async def top_up(
    api: Api, phone: str, amount: int, method: str = "ONLINE", key: str | None = None, person: str | None = None
) -> dict[str, Any]:
    variables = {"amountFen": amount, "method": method, "idempotencyKey": key or uuid.uuid4().hex, "personId": person}
    result = await api.op("app/TopUpWallet", variables, await api.sign_in(phone))
    assert "errors" not in result, result
    return result["data"]["topUpWallet"]


async def elder_id(api: Api) -> str:
    return str((await api.op("app/Me", {}, await api.sign_in(ELDER)))["data"]["me"]["id"])


async def wallet(api: Api, phone: str = ELDER, person: str | None = None) -> dict[str, Any]:
    return (await api.op("app/Wallet", {"personId": person}, await api.sign_in(phone)))["data"]["wallet"]


async def ledger_is_whole(db: Database) -> None:
    """Every movement sums to zero and every balance is the sum of its entries."""
    async with db.factory() as session:
        unbalanced = await session.execute(
            select(LedgerEntry.transaction_id)
            .group_by(LedgerEntry.transaction_id)
            .having(func.sum(LedgerEntry.amount) != 0)
        )
        assert unbalanced.all() == []
        for account in (await session.execute(select(Account))).scalars():
            total = await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account.id)
            )
            assert account.balance == total


async def test_a_son_tops_up_his_mothers_wallet_from_afar_and_she_is_told(api: Api, db: Database) -> None:
    mother = await elder_id(api)
    done = await top_up(api, FAMILY, 5000, key="son-top-up-0001", person=mother)
    assert done["__typename"] == "WalletToppedUp"
    assert done["wallet"]["balanceFen"] == 5000 and done["wallet"]["balanceYuan"] == "50.00"
    assert done["wallet"]["entries"] == [{"amountFen": 5000, "kind": "top_up", "label": "充值"}]
    replay = await top_up(api, FAMILY, 5000, key="son-top-up-0001", person=mother)
    assert replay["transactionId"] == done["transactionId"] and replay["wallet"]["balanceFen"] == 5000
    charges = (api.runtime.settings.var_dir / "dev-payments.jsonl").read_text("utf-8").splitlines()
    assert len(charges) == 1 and json.loads(charges[0])["amount_fen"] == 5000  # charged once
    assert (await wallet(api))["balanceFen"] == 5000  # she sees it in her own app
    await api.settle()
    told = await api.last_sms(ELDER)  # its own template, with the son's name, the amount and the balance
    assert told.endswith("为您的钱包充值了50.00元，现在余额50.00元。")
    await ledger_is_whole(db)


async def test_staff_take_cash_at_the_service_centre(api: Api, db: Database) -> None:
    mother = await elder_id(api)
    done = await top_up(api, SERVICE_CENTRE, 2000, method="CASH", person=mother)
    assert done["wallet"]["balanceFen"] == 2000
    assert (await wallet(api, SERVICE_CENTRE, mother))["entries"][0]["amountFen"] == 2000
    await ledger_is_whole(db)


async def test_refused_top_ups_say_why_and_move_nothing(api: Api, db: Database) -> None:
    mother = await elder_id(api)
    zero = await top_up(api, FAMILY, 0, person=mother)
    assert zero["__typename"] == "InvalidInputError" and zero["field"] == "amountFen"
    assert "0.01元到2000元" in zero["message"]
    assert (await top_up(api, FAMILY, 200_001, person=mother))["field"] == "amountFen"
    assert (await top_up(api, FAMILY, 100, key="short", person=mother))["field"] == "idempotencyKey"
    assert (await top_up(api, FAMILY_2, 100, person=mother))["code"] == "NOT_FOUND"  # not her family
    assert (await top_up(api, HEPING_WORKER, 100, method="CASH", person=mother))["code"] == "NOT_FOUND"
    assert (await top_up(api, ELDER, 100, method="CASH"))["code"] == "NOT_FOUND"  # cash is taken by staff
    gateway, api.runtime.payments = api.runtime.payments, None  # production: no online gateway yet
    try:
        unavailable = await top_up(api, FAMILY, 100, person=mother)
    finally:
        api.runtime.payments = gateway
    assert unavailable["code"] == "PAYMENT_UNAVAILABLE" and "现金" in unavailable["message"]
    links = (await api.op("app/FamilyLinks", {}, await api.sign_in(ELDER)))["data"]["familyLinks"]["nodes"]
    await api.op("app/RevokeFamilyLink", {"linkId": links[0]["id"]}, await api.sign_in(ELDER))
    assert (await top_up(api, FAMILY, 100, person=mother))["code"] == "NOT_FOUND"  # the link is revoked
    assert (await wallet(api))["balanceFen"] == 0
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


async def test_top_ups_at_the_same_moment_all_count_and_a_repeated_one_counts_once(api: Api, db: Database) -> None:
    mother = await elder_id(api)
    await api.sign_in(FAMILY)  # signed in before the rush; no wallet yet
    await api.sign_in(SERVICE_CENTRE)
    amounts = [100 * (n + 1) for n in range(12)]
    same = "rush-same-key-001"
    results = await asyncio.gather(
        *(top_up(api, FAMILY, a, person=mother) for a in amounts),
        *(top_up(api, SERVICE_CENTRE, 700, method="CASH", key=same, person=mother) for _ in range(4)),
    )
    assert all(r["__typename"] == "WalletToppedUp" for r in results)
    assert len({r["transactionId"] for r in results[len(amounts) :]}) == 1
    assert (await wallet(api))["balanceFen"] == sum(amounts) + 700
    await ledger_is_whole(db)
