"""积分: points a resident earns for what they do for the community (sorting garbage,
volunteering), as partners' systems report it, and spends on goods that carry a points price.

Points live in the same append-only ledger as money, in their own account kinds, so the same
guarantees hold: a balance never below zero, always the sum of its entries, every movement
keyed so a report sent twice earns once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.access.rules import home_of
from backend.community.models import Person
from backend.errors import InvalidInput, NotFound
from backend.wallet import ledger, time_bank
from backend.wallet.errors import InsufficientFunds, NotEnoughPoints
from backend.wallet.models import AccountKind, PointsEvent

VOLUNTEER_HOURS = "volunteer_hours"  # points per hour of help, derived from the time bank's credit
TIME_BANK = "time_bank"  # the source of points for help matched in Linli


@dataclass(frozen=True)
class EarningRule:
    kind: str
    points: int  # per report, or per hour
    max_quantity: int  # in one event
    daily_cap: int  # points a day, per person and kind


@dataclass(frozen=True)
class PointsSource:
    code: str
    communities: frozenset[str]
    kinds: frozenset[str]


@dataclass(frozen=True)
class PointsRules:
    earning: dict[str, EarningRule]
    sources: dict[str, PointsSource]


@cache
def points_rules(content_dir: Path) -> PointsRules:
    data = json.loads((content_dir / "wallet" / "points.json").read_text("utf-8"))
    return PointsRules(
        earning={
            kind: EarningRule(kind, int(r["points"]), int(r["max_quantity"]), int(r["daily_cap"]))
            for kind, r in data["earning"].items()
        },
        sources={
            s["code"]: PointsSource(s["code"], frozenset(s["communities"]), frozenset(s["kinds"]))
            for s in data["sources"]
        },
    )


@dataclass(frozen=True)
class Earned:
    event: PointsEvent
    new: bool
    balance: int


async def earn(
    session: AsyncSession,
    content_dir: Path,
    timezone: str,
    *,
    source_code: str,
    event_id: str,
    kind: str,
    person: Person,
    quantity: int,
) -> Earned:
    """Award the points for one reported event, up to the day's cap. The same (source, event
    id) again returns the first award; reused for a different event, it is refused."""
    first = await session.scalar(
        select(PointsEvent).where(PointsEvent.source == source_code, PointsEvent.event_id == event_id)
    )
    if first is not None:
        if (first.person_id, first.kind, first.quantity) != (person.id, kind, quantity):
            raise InvalidInput("event_id", field="eventId")
        return Earned(first, False, await balance(session, person.id))
    rules = points_rules(content_dir)
    rule, source = rules.earning.get(kind), rules.sources.get(source_code)
    if rule is None or source is None or kind not in source.kinds:
        raise InvalidInput("kind", field="kind")
    if not 1 <= quantity <= rule.max_quantity:
        raise InvalidInput("quantity", field="quantity")
    household, community = await home_of(session, person)
    if community.code not in source.communities:
        raise NotFound()  # a station reports its own residents only
    points = quantity * rule.points
    if kind == VOLUNTEER_HOURS:
        # Hours reported by the volunteer platform go into the time bank first; the points
        # follow from the minutes it credits, so an hour is counted once.
        credit = await time_bank.serve(
            session,
            content_dir,
            timezone,
            volunteer_id=person.id,
            community_id=household.community_id,
            minutes=quantity * 60,
            key=f"{source_code}:{event_id}",
            most=rule.max_quantity * 60,
        )
        points = credit.minutes * rule.points // 60
    return await award(
        session,
        timezone,
        source_code=source_code,
        event_id=event_id,
        kind=kind,
        person=person,
        community_id=household.community_id,
        quantity=quantity,
        points=points,
        daily_cap=rule.daily_cap,
    )


@dataclass(frozen=True)
class Served:
    minutes: int
    points: int
    new: bool


async def for_help(
    session: AsyncSession,
    content_dir: Path,
    timezone: str,
    *,
    volunteer: Person,
    community_id: int,
    minutes: int,
    key: str,
    paid_by_id: int | None,
    by_id: int | None,
) -> Served:
    """Help matched in Linli and confirmed: minutes into the volunteer's time bank, and the
    points they earn, both keyed by `key` (a help and its volunteer): counted once."""
    credit = await time_bank.serve(
        session,
        content_dir,
        timezone,
        volunteer_id=volunteer.id,
        community_id=community_id,
        minutes=minutes,
        key=key,
        paid_by_id=paid_by_id,
        by_id=by_id,
    )
    if not credit.new:
        first = await session.scalar(
            select(PointsEvent).where(PointsEvent.source == TIME_BANK, PointsEvent.event_id == key[:100])
        )
        return Served(credit.minutes, first.points if first else 0, False)
    rule = points_rules(content_dir).earning[VOLUNTEER_HOURS]
    earned = await award(
        session,
        timezone,
        source_code=TIME_BANK,
        event_id=key[:100],
        kind=VOLUNTEER_HOURS,
        person=volunteer,
        community_id=community_id,
        quantity=credit.minutes,
        points=credit.minutes * rule.points // 60,
        daily_cap=rule.daily_cap,
    )
    return Served(credit.minutes, earned.event.points, True)


async def award(
    session: AsyncSession,
    timezone: str,
    *,
    source_code: str,
    event_id: str,
    kind: str,
    person: Person,
    community_id: int,
    quantity: int,
    points: int,
    daily_cap: int,
) -> Earned:
    """Points for one event, up to the day's cap for its kind, kept with the event."""
    mine = await ledger.account(session, ledger.points_key(person.id), AccountKind.POINTS, person_id=person.id)
    issued = await ledger.account(
        session, ledger.points_issued_key(community_id), AccountKind.POINTS_ISSUED, community_id=community_id
    )
    await ledger.locked(session, [mine])  # one person's reports are counted one at a time
    day = clock.today(clock.zone(timezone)).isoformat()
    earned_today = await session.scalar(
        select(func.coalesce(func.sum(PointsEvent.points), 0)).where(
            PointsEvent.person_id == person.id, PointsEvent.kind == kind, PointsEvent.local_day == day
        )
    )
    points = min(points, max(0, daily_cap - int(earned_today or 0)))
    event = PointsEvent(
        source=source_code,
        event_id=event_id,
        person_id=person.id,
        kind=kind,
        quantity=quantity,
        points=points,
        local_day=day,
    )
    session.add(event)
    await session.flush()
    if points:
        await ledger.post(
            session,
            kind="points_earned",
            legs=[(issued, -points), (mine, points)],
            idempotency_key=f"points:{source_code}:{event_id}"[:120],
            ref=f"points_event:{event.id}",
            memo=kind,
        )
    return Earned(event, True, await balance(session, person.id))


async def balance(session: AsyncSession, person_id: int) -> int:
    account = await ledger.find(session, ledger.points_key(person_id))
    return account.balance if account is not None else 0


async def pay(session: AsyncSession, *, ref: str, person_id: int, merchant_code: str, points: int, by_id: int) -> None:
    """Points from the person to the merchant (the community settles with the merchant later).
    Refunded by payments.refund like money: exactly these legs, reversed."""
    mine = await ledger.account(session, ledger.points_key(person_id), AccountKind.POINTS, person_id=person_id)
    merchant = await ledger.account(session, ledger.points_spent_key(merchant_code), AccountKind.POINTS_SPENT)
    try:
        await ledger.post(
            session,
            kind="points_payment",
            legs=[(mine, -points), (merchant, points)],
            idempotency_key=f"{ref}:pay",
            ref=ref,
            by_id=by_id,
        )
    except InsufficientFunds:
        raise NotEnoughPoints(await balance(session, person_id), points) from None
