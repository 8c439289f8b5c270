"""Every query of places, people and roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import (
    Community,
    Household,
    Membership,
    Person,
    Role,
)


async def people_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[Person]:
    return (await session.execute(select(Person).where(Person.id.in_(ids)))).scalars().all()


async def communities_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[Community]:
    return (await session.execute(select(Community).where(Community.id.in_(ids)))).scalars().all()


async def households_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[Household]:
    return (await session.execute(select(Household).where(Household.id.in_(ids)))).scalars().all()


async def residents_page(
    session: AsyncSession,
    community_id: int,
    *,
    after_id: int | None,
    limit: int,
    elders_born_before: dt.date | None,
    in_view: ColumnElement[bool] | None = None,
) -> Sequence[Person]:
    """Residents of a community in id order; with `elders_born_before`, only elders; with
    `in_view`, only those the asker sees (access.rules.in_view)."""
    query = (
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.community_id == community_id, Membership.role == Role.RESIDENT)
    )
    if in_view is not None:
        query = query.where(in_view)
    if elders_born_before is not None:
        query = query.where(or_(Person.elder_flag.is_(True), Person.birth_date <= elders_born_before))
    if after_id is not None:
        query = query.where(Person.id > after_id)
    return (await session.execute(query.order_by(Person.id).limit(limit))).scalars().all()


async def with_role(session: AsyncSession, community_id: int, roles: Sequence[Role]) -> list[int]:
    """Who holds any of `roles` in the community."""
    rows = await session.execute(
        select(Membership.person_id).where(Membership.community_id == community_id, Membership.role.in_(roles))
    )
    return list(rows.scalars())


async def ids_by_phones(session: AsyncSession, phones: Collection[str]) -> set[int]:
    """The people with these phone numbers (staff listed by phone in content)."""
    if not phones:
        return set()
    rows = await session.execute(select(Person.id).where(Person.phone.in_(sorted(phones))))
    return set(rows.scalars())


async def others_live_there(session: AsyncSession, person: Person) -> bool:
    """Whether anyone else (with an account not deleted) lives in `person`'s home."""
    found = await session.execute(
        select(Person.id).where(
            Person.household_id == person.household_id, Person.id != person.id, Person.deleted_at.is_(None)
        )
    )
    return found.first() is not None
