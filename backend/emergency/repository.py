"""Every query of alarms and of who answers them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import Building, GridAssignment, Household, Person
from backend.db import insert_returning, is_postgres
from backend.emergency.models import LIVE_STATUSES, Alert, AlertEvent


async def get(session: AsyncSession, alert_id: int, *, for_update: bool = False) -> Alert | None:
    query = select(Alert).where(Alert.id == alert_id)
    return (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()


async def by_idempotency_keys(session: AsyncSession, keys: Collection[str]) -> Sequence[Alert]:
    if not keys:
        return []
    return (await session.execute(select(Alert).where(Alert.idempotency_key.in_(keys)))).scalars().all()


async def insert_alerts(session: AsyncSession, rows: Sequence[dict[str, object]]) -> list[Alert]:
    """New alarms (column values each), in one statement."""
    return await insert_returning(session, Alert, rows)


async def add_steps(session: AsyncSession, steps: Sequence[dict[str, object]]) -> None:
    """Timeline lines for many alarms, in one statement."""
    if steps:
        await session.execute(insert(AlertEvent), list(steps))


async def live_alerts_of(session: AsyncSession, person_ids: Collection[int]) -> list[Alert]:
    """Each person's newest live alarm, if any."""
    rows = (
        await session.execute(
            select(Alert)
            .where(Alert.person_id.in_(person_ids), Alert.status.in_(LIVE_STATUSES))
            .order_by(Alert.id)
            .with_for_update()
        )
    ).scalars()
    return list({a.person_id: a for a in rows}.values())  # by id: the newest wins


async def lock_people(session: AsyncSession, person_ids: Sequence[int]) -> None:
    """Serialises presses by the same people (PostgreSQL row locks taken in id order, so two
    groups never deadlock; SQLite writes are serial)."""
    if is_postgres(session):
        await session.execute(select(Person.id).where(Person.id.in_(person_ids)).order_by(Person.id).with_for_update())


async def timeline(session: AsyncSession, alert_id: int) -> Sequence[AlertEvent]:
    return (
        (await session.execute(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)))
        .scalars()
        .all()
    )


async def live_in_communities(session: AsyncSession, community_ids: Sequence[int], limit: int) -> Sequence[Alert]:
    """Live alarms: those nobody answered even after every tier first, then the others nobody
    has answered, then the answered ones; the oldest first within each."""
    return (
        (
            await session.execute(
                select(Alert)
                .where(Alert.community_id.in_(community_ids), Alert.status.in_(LIVE_STATUSES))
                .order_by(Alert.acknowledged_at.is_not(None), Alert.unanswered_at.is_(None), Alert.raised_at)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def get_many(session: AsyncSession, alert_ids: Collection[int]) -> dict[int, Alert]:
    return {a.id: a for a in (await session.scalars(select(Alert).where(Alert.id.in_(alert_ids))))}


async def grid_workers_of_households(session: AsyncSession, household_ids: Collection[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(Household.id, GridAssignment.person_id)
        .join(Building, Building.grid_id == GridAssignment.grid_id)
        .join(Household, Household.building_id == Building.id)
        .where(Household.id.in_(household_ids))
        .order_by(GridAssignment.id)
    )
    found: dict[int, list[int]] = {}
    for household_id, person_id in rows.all():
        found.setdefault(household_id, []).append(person_id)
    return found
