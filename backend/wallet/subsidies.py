"""Government subsidies (政府补贴): a monthly allowance per community policy, kept in its own
account per elder and policy, spent before the elder's own money on what it covers, and
taken back at the month's end when the policy says so. Every movement is a ledger entry
with a key naming the person, policy and month, so a job run twice credits once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import Community, Household, Person
from backend.wallet import ledger
from backend.wallet.models import Account, AccountKind, SubsidyGrant


@dataclass(frozen=True)
class SubsidyPolicy:
    code: str
    names: dict[str, str]
    communities: frozenset[str]
    min_age: int
    needs_grant: bool  # given by staff to those who qualify (低保), not by age alone
    monthly_fen: int
    covers: frozenset[str]  # what it may pay for: "meal"
    expires_at_month_end: bool

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["zh-CN"]


@cache
def subsidy_policies(content_dir: Path) -> dict[str, SubsidyPolicy]:
    data = json.loads((content_dir / "wallet" / "subsidies.json").read_text("utf-8"))
    return {
        p["code"]: SubsidyPolicy(
            code=p["code"],
            names=p["name"],
            communities=frozenset(p["communities"]),
            min_age=int(p.get("min_age", 0)),
            needs_grant=bool(p.get("needs_grant")),
            monthly_fen=int(p["monthly_fen"]),
            covers=frozenset(p["covers"]),
            expires_at_month_end=bool(p.get("expires_at_month_end")),
        )
        for p in data["policies"]
    }


def subsidy_key(person_id: int, policy_code: str) -> str:
    return f"subsidy:person:{person_id}:{policy_code}"


def government_key(policy_code: str) -> str:
    return f"government:{policy_code}"


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


async def eligible(
    session: AsyncSession, policy: SubsidyPolicy, first_of_month: dt.date, ids: tuple[int, int] | None = None
) -> list[int]:
    """Who qualifies on the 1st: living in one of the policy's communities, old enough, and,
    where the policy needs it, granted by staff and not ended (among person ids in `ids`,
    exclusive of the first, inclusive of the last)."""
    born_by = first_of_month.replace(year=first_of_month.year - policy.min_age)
    query = (
        select(Person.id)
        .join(Household, Household.id == Person.household_id)
        .join(Community, Community.id == Household.community_id)
        .where(Community.code.in_(sorted(policy.communities)), Person.birth_date <= born_by)
        .order_by(Person.id)
    )
    if ids is not None:
        query = query.where(Person.id > ids[0], Person.id <= ids[1])
    if policy.needs_grant:
        query = query.join(
            SubsidyGrant, (SubsidyGrant.person_id == Person.id) & (SubsidyGrant.policy_code == policy.code)
        ).where(SubsidyGrant.ended_at.is_(None))
    return list((await session.execute(query)).scalars())


def _credit_key(policy: SubsidyPolicy, person_id: int, month: str) -> str:
    return f"subsidy:{policy.code}:{person_id}:{month}:credit"


async def credit(session: AsyncSession, policy: SubsidyPolicy, person_id: int, month: str) -> bool:
    """The month's allowance, after taking back what is left of earlier months where the
    policy says so; whether anything new was credited."""
    account = await ledger.account(
        session, subsidy_key(person_id, policy.code), AccountKind.SUBSIDY, person_id=person_id
    )
    government = await ledger.account(session, government_key(policy.code), AccountKind.GOVERNMENT)
    if policy.expires_at_month_end:
        await _expire(session, policy, account, government, month)
    _, new = await ledger.post(
        session,
        kind="subsidy",
        legs=[(government, -policy.monthly_fen), (account, policy.monthly_fen)],
        idempotency_key=_credit_key(policy, person_id, month),
        ref=f"subsidy:{policy.code}:{month}",
    )
    return new


async def _expire(
    session: AsyncSession, policy: SubsidyPolicy, account: Account, government: Account, month: str
) -> None:
    """Take back what is left from before `month`, once. Never after `month`'s allowance is
    in: the balance is then this month's (a rerun of the job, a grant given mid-month)."""
    assert account.person_id is not None
    if await ledger.by_key(session, _credit_key(policy, account.person_id, month)) is not None:
        return
    (current,) = (await ledger.locked(session, [account])).values()
    if current.balance <= 0:
        return
    await ledger.post(
        session,
        kind="subsidy_expiry",
        legs=[(current, -current.balance), (government, current.balance)],
        idempotency_key=f"subsidy:{policy.code}:{account.person_id}:{month}:expire",
        ref=f"subsidy:{policy.code}:{month}",
    )


async def credit_month(
    session: AsyncSession, content_dir: Path, first_of_month: dt.date, *, after_person_id: int = 0, page: int = 25
) -> tuple[int, int | None]:
    """For the next `page` people after `after_person_id`: earlier months taken back where
    the policy says so (also from those who no longer qualify), then every policy's
    allowance to those who qualify on the 1st. (How many allowances were new, the last
    person id done, or None when nobody was left.) A page at a time, each in its own
    transaction, so a community's thousands of elders never hold the write lock long
    enough to keep an alarm waiting."""
    people = select(Person.id).where(Person.id > after_person_id).order_by(Person.id).limit(page)
    ids = list((await session.execute(people)).scalars())
    if not ids:
        return 0, None
    span = (after_person_id, ids[-1])
    month = month_of(first_of_month)
    credited = 0
    for policy in subsidy_policies(content_dir).values():
        if policy.expires_at_month_end:
            government = await ledger.account(session, government_key(policy.code), AccountKind.GOVERNMENT)
            leftovers = select(Account).where(
                Account.kind == AccountKind.SUBSIDY,
                Account.key.endswith(f":{policy.code}"),
                Account.balance > 0,
                Account.person_id > span[0],
                Account.person_id <= span[1],
            )
            for account in (await session.execute(leftovers.order_by(Account.id))).scalars().all():
                await _expire(session, policy, account, government, month)
        for person_id in await eligible(session, policy, first_of_month, span):
            credited += await credit(session, policy, person_id, month)
    return credited, span[1]


async def accounts_covering(
    session: AsyncSession, content_dir: Path, person_id: int, category: str
) -> Sequence[Account]:
    """The person's subsidy accounts that may pay for `category`, in policy order."""
    keys = [subsidy_key(person_id, p.code) for p in subsidy_policies(content_dir).values() if category in p.covers]
    return sorted(await ledger.find_many(session, keys), key=lambda a: a.key) if keys else []


async def balances_of(session: AsyncSession, content_dir: Path, person_id: int) -> list[tuple[SubsidyPolicy, int]]:
    """What is left of each subsidy the person has ever had."""
    policies = {subsidy_key(person_id, code): policy for code, policy in subsidy_policies(content_dir).items()}
    found = await ledger.find_many(session, sorted(policies))
    return [(policies[a.key], a.balance) for a in sorted(found, key=lambda a: a.key)]
