"""Mutual help's tables as other rooms may ask of them: the volunteers a grid has."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import Building, Household, Person
from backend.mutual_help.models import Volunteer


async def alarm_volunteers_in_grid(
    session: AsyncSession, grid_id: int | None, *, besides: int | None
) -> list[tuple[Person, Volunteer, int]]:
    """The active volunteers living in the grid who agreed to be called to an alarm (not
    `besides`, whose alarm it is), each with the building they live in."""
    rows = await session.execute(
        select(Person, Volunteer, Building.id)
        .join(Volunteer, Volunteer.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(
            Building.grid_id == grid_id,
            Volunteer.active.is_(True),
            Volunteer.answers_alarms.is_(True),
            Person.id != besides,
            Person.deleted_at.is_(None),
        )
    )
    return [(person, volunteer, building_id) for person, volunteer, building_id in rows.all()]
