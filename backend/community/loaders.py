"""Per-request DataLoaders: related rows are fetched once per request, in batches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from backend.community import repository as community_repository
from backend.community.models import Community, Household, Person

R = TypeVar("R")


def _by_id(
    session: Callable[[], AsyncSession], fetch: Callable[[AsyncSession, Sequence[int]], Awaitable[Sequence[Any]]]
) -> DataLoader[int, Any]:
    async def load(ids: list[int]) -> list[Any]:
        rows = {row.id: row for row in await fetch(session(), ids)}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, session: Callable[[], AsyncSession]) -> None:
        self.person: DataLoader[int, Person | None] = _by_id(session, community_repository.people_by_ids)
        self.community: DataLoader[int, Community | None] = _by_id(session, community_repository.communities_by_ids)
        self.household: DataLoader[int, Household | None] = _by_id(session, community_repository.households_by_ids)

    async def names_of(self, person_ids: list[int]) -> list[str | None]:
        """The names of these people, in order (None for someone gone): who read a log's entry."""
        return [p.name if p else None for p in await self.person.load_many(person_ids)]
