"""Every query of family links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.family.models import FamilyLink, FamilyLinkEvent, LinkStatus

OPEN = (LinkStatus.PENDING, LinkStatus.ACTIVE)


async def get(session: AsyncSession, link_id: int, *, for_update: bool = False) -> FamilyLink | None:
    query = select(FamilyLink).where(FamilyLink.id == link_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def open_link_between(session: AsyncSession, elder_id: int, family_id: int) -> FamilyLink | None:
    return (
        await session.execute(
            select(FamilyLink).where(
                FamilyLink.elder_id == elder_id,
                FamilyLink.family_id == family_id,
                FamilyLink.status.in_(OPEN),
            )
        )
    ).scalar_one_or_none()


async def open_links_of(session: AsyncSession, person_id: int) -> Sequence[FamilyLink]:
    return (
        (
            await session.execute(
                select(FamilyLink)
                .where(
                    or_(FamilyLink.elder_id == person_id, FamilyLink.family_id == person_id),
                    FamilyLink.status.in_(OPEN),
                )
                .order_by(FamilyLink.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )


async def links_started_since(
    session: AsyncSession, since: dt.datetime, *, by: int | None = None, towards: int | None = None
) -> list[dt.datetime]:
    """When links were started by `by`, or by others towards `towards` (an invitation to a
    family member, a request to an elder), oldest first: what the invitation limits count."""
    query = select(FamilyLink.created_at).where(FamilyLink.created_at >= since)
    if by is not None:
        query = query.where(FamilyLink.initiated_by_id == by)
    if towards is not None:
        query = query.where(
            FamilyLink.initiated_by_id != towards,
            or_(FamilyLink.family_id == towards, FamilyLink.elder_id == towards),
        )
    return list((await session.execute(query.order_by(FamilyLink.created_at))).scalars())


async def page_for_person(
    session: AsyncSession, person_id: int, *, before_id: int | None, limit: int, include_ended: bool
) -> Sequence[FamilyLink]:
    query = select(FamilyLink).where(or_(FamilyLink.elder_id == person_id, FamilyLink.family_id == person_id))
    if not include_ended:
        query = query.where(FamilyLink.status.in_(OPEN))
    if before_id is not None:
        query = query.where(FamilyLink.id < before_id)
    return (await session.execute(query.order_by(FamilyLink.id.desc()).limit(limit))).scalars().all()


async def events_for_links(session: AsyncSession, link_ids: Sequence[int]) -> Sequence[FamilyLinkEvent]:
    return (
        (
            await session.execute(
                select(FamilyLinkEvent)
                .where(FamilyLinkEvent.link_id.in_(link_ids))
                .order_by(FamilyLinkEvent.link_id, FamilyLinkEvent.id)
            )
        )
        .scalars()
        .all()
    )


async def links_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[FamilyLink]:
    return (await session.execute(select(FamilyLink).where(FamilyLink.id.in_(ids)))).scalars().all()
