"""The services' tables as other rooms may ask of them: who missed a booked visit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import Household
from backend.services.models import Booking, BookingStatus


async def no_shows_since(session: AsyncSession, community_id: int, since: dt.datetime) -> set[int]:
    """The people of a community not at home for a booked service since `since` (by the
    community, not by a list of ids: a subdistrict's community can be thousands)."""
    rows = await session.scalars(
        select(Booking.beneficiary_id)
        .join(Household, Household.id == Booking.household_id)
        .where(
            Household.community_id == community_id,
            Booking.status == BookingStatus.NO_SHOW,
            Booking.slot_start >= since,
        )
    )
    return set(rows.all())
