"""政府补贴: credited each month to the elders a policy names, spent first on what it covers,
taken back at the month's end, given by the service centre where a status must be checked."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend.config import Settings
from tests.conftest import ELDER, FAMILY, SERVICE_CENTRE, Api, Database, make_settings, run_due_jobs

SEVENTY_THREE = "+8613800000005"  # 尹玉梅, born 1953: too young for the 80+ allowance
SUBSIDY_MONTH = ("wallet.subsidy_month",)


@pytest.fixture
def settings(tmp_path: Path, db: Database) -> Settings:
    """The monthly subsidy job is scheduled when the app starts, as in production; the other
    standing jobs (the TV channel's nightly encoding above all) would only compete with it
    each time the test moves the clock (a month on, the nightly rebuild was due too, and the
    subsidy job's wait for it timed out on a loaded machine)."""
    return make_settings(tmp_path, db.url, standing_jobs=True, standing_jobs_only=list(SUBSIDY_MONTH))


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


async def me(api: Api, phone: str) -> str:
    return str((await api.op("app/Me", {}, await api.sign_in(phone)))["data"]["me"]["id"])


async def wallet(api: Api, phone: str, person: str | None = None) -> dict[str, Any]:
    return dict((await api.op("app/Wallet", {"personId": person}, await api.sign_in(phone)))["data"]["wallet"])


async def order(api: Api, phone: str, code: str, quantity: int = 1, **more: Any) -> dict[str, Any]:
    variables = {"items": [{"productCode": code, "quantity": quantity}], "idempotencyKey": uuid.uuid4().hex, **more}
    return dict((await api.op("app/PlaceOrder", variables, await api.sign_in(phone)))["data"]["placeOrder"])


async def test_the_80_plus_meal_allowance_pays_for_lunch_first_and_expires_at_the_months_end(
    api: Api, db: Database, local_clock: Any
) -> None:
    month = next_month(dt.datetime.now(ZoneInfo("Asia/Shanghai")).date())
    local_clock("09:00", on=month.replace(day=15))
    await run_due_jobs(api, db, SUBSIDY_MONTH)
    mine = await wallet(api, ELDER)
    assert mine["balanceFen"] == 0
    assert [(s["label"], s["name"], s["balanceFen"]) for s in mine["subsidies"]] == [
        ("政府补贴", "高龄老人助餐补贴", 10000)
    ]
    assert (await wallet(api, SEVENTY_THREE))["subsidies"] == []

    lunch = await order(api, ELDER, "lunch-set-a", 2)  # no money of his own: the allowance pays
    assert lunch["__typename"] == "CommerceOrder" and lunch["totalFen"] == 2400
    assert (await wallet(api, ELDER))["subsidies"][0]["balanceFen"] == 7600
    rice = await order(api, ELDER, "rice-5kg")  # the allowance is for meals only
    assert rice["__typename"] == "InsufficientFundsError"

    # His daughter pays for a dinner he cannot cover: the allowance still goes first.
    await api.op(
        "app/TopUpWallet",
        {"amountFen": 5000, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex},
        await api.sign_in(FAMILY),
    )
    cancelled = await api.op("app/CancelOrder", {"orderId": lunch["id"]}, await api.sign_in(ELDER))
    assert cancelled["data"]["cancelOrder"]["status"] == "CANCELLED"
    assert (await wallet(api, ELDER))["subsidies"][0]["balanceFen"] == 10000  # back where it came from
    father = await me(api, ELDER)
    big = await order(api, FAMILY, "lunch-set-soft", 12, personId=father, payFrom="ME")
    assert big["totalFen"] == 12000
    assert (await wallet(api, ELDER))["subsidies"][0]["balanceFen"] == 0
    assert (await wallet(api, FAMILY))["balanceFen"] == 5000 - 2000
    entries = (await wallet(api, ELDER))["entries"]
    assert [(e["label"], e["amountFen"], e["fromSubsidy"]) for e in entries[:2]] == [
        ("付款", -10000, True),
        ("退款", 2400, True),
    ]

    await api.op("app/CancelOrder", {"orderId": big["id"]}, await api.sign_in(FAMILY))
    assert (await wallet(api, ELDER))["subsidies"][0]["balanceFen"] == 10000
    assert (await wallet(api, FAMILY))["balanceFen"] == 5000

    # The 1st of the following month: last month's 100 yuan is taken back, this month's comes.
    local_clock("00:10", on=next_month(month))
    api.tokens.clear()
    await run_due_jobs(api, db, SUBSIDY_MONTH)
    await run_due_jobs(api, db, SUBSIDY_MONTH)  # a second run credits nothing more
    after = await wallet(api, ELDER)
    assert after["subsidies"][0]["balanceFen"] == 10000
    assert [e["label"] for e in after["entries"][:2]] == ["政府补贴到账", "上月补贴到期收回"]
    assert [e["amountFen"] for e in after["entries"][:2]] == [10000, -10000]


async def test_the_service_centre_grants_the_dibao_allowance_and_ends_it(
    api: Api, db: Database, local_clock: Any
) -> None:
    month = next_month(dt.datetime.now(ZoneInfo("Asia/Shanghai")).date())
    local_clock("09:00", on=month.replace(day=10))
    await run_due_jobs(api, db, SUBSIDY_MONTH)
    her = await me(api, SEVENTY_THREE)
    centre = await api.sign_in(SERVICE_CENTRE)
    refused = await api.op("staff/GrantSubsidy", {"personId": her, "policyCode": "meal-80plus"}, centre)
    assert refused["data"]["grantSubsidy"]["field"] == "policyCode"  # by age alone, not given by hand
    not_staff = await api.op(
        "staff/GrantSubsidy", {"personId": her, "policyCode": "meal-dibao"}, await api.sign_in(FAMILY)
    )
    assert not_staff["data"]["grantSubsidy"]["code"] == "NOT_FOUND"
    assert (await wallet(api, SEVENTY_THREE))["subsidies"] == []

    granted = await api.op("staff/GrantSubsidy", {"personId": her, "policyCode": "meal-dibao"}, centre)
    assert granted["data"]["grantSubsidy"]["active"] is True
    assert [(s["name"], s["balanceFen"]) for s in (await wallet(api, SEVENTY_THREE))["subsidies"]] == [
        ("低保老人助餐补贴", 20000)
    ]
    again = await api.op("staff/GrantSubsidy", {"personId": her, "policyCode": "meal-dibao"}, centre)
    assert again["data"]["grantSubsidy"]["active"] is True
    assert (await wallet(api, SEVENTY_THREE))["subsidies"][0]["balanceFen"] == 20000  # once a month

    ended = await api.op("staff/EndSubsidy", {"personId": her, "policyCode": "meal-dibao"}, centre)
    assert ended["data"]["endSubsidy"]["active"] is False
    local_clock("00:10", on=next_month(month))
    api.tokens.clear()
    await run_due_jobs(api, db, SUBSIDY_MONTH)
    assert (await wallet(api, SEVENTY_THREE))["subsidies"][0]["balanceFen"] == 0  # taken back, none new


async def test_every_elder_of_80_is_credited_though_the_month_runs_a_page_at_a_time(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    """The demo has more people than one page: the last of them is credited too, once."""
    from sqlalchemy import func, select

    from backend.community.models import Person
    from backend.jobs import Job
    from backend.wallet.models import Account, AccountKind

    await run_due_jobs(api, db, SUBSIDY_MONTH)
    await run_due_jobs(api, db, SUBSIDY_MONTH)  # next month's run made due early: nothing twice
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    born_by = today.replace(day=1).replace(year=today.year - 80)
    async with db.factory() as session:
        eighty = set((await session.execute(select(Person.id).where(Person.birth_date <= born_by))).scalars())
        credited = (
            await session.execute(
                select(Account.person_id, Account.balance).where(
                    Account.kind == AccountKind.SUBSIDY, Account.key.endswith(":meal-80plus")
                )
            )
        ).all()
        runs = await session.scalar(select(func.count()).select_from(Job).where(Job.kind == SUBSIDY_MONTH[0]))
    assert len(people) > 25 and max(eighty) > 25  # more than one page, and an elder past the first
    assert {p for p, _ in credited} == eighty and {b for _, b in credited} == {10000}
    assert runs is not None and runs >= 3  # pages, then next month's run
