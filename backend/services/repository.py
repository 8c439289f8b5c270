"""The services' tables as other rooms may ask of them: who missed a booked visit, one
booking as it stands now."""

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


async def fresh_booking(session: AsyncSession, booking_id: int, *, beneficiary_id: int) -> Booking | None:
    """The booking as it stands now (a live screen's update), if it is for this person."""
    booking = await session.get(Booking, booking_id, populate_existing=True)
    return booking if booking is not None and booking.beneficiary_id == beneficiary_id else None
