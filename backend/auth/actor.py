"""Who is asking: the signed-in person with their roles, loaded once per request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.tokens import AccessClaims
from backend.community.models import STAFF_ROLES, Device, DeviceKind, GridAssignment, Membership, Person, Role

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today_local(tz: ZoneInfo = SHANGHAI) -> dt.date:
    return dt.datetime.now(tz).date()


@dataclass
class Actor:
    person: Person
    memberships: tuple[tuple[int, Role], ...]
    _grid_ids: frozenset[int] | None = field(default=None, repr=False)

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def locale(self) -> str:
        return self.person.locale

    def roles_in(self, community_id: int) -> set[Role]:
        return {role for cid, role in self.memberships if cid == community_id}

    @property
    def community_ids(self) -> set[int]:
        return {cid for cid, _ in self.memberships}

    @property
    def staff_community_ids(self) -> set[int]:
        return {cid for cid, role in self.memberships if role in STAFF_ROLES}

    def is_staff_of(self, community_id: int) -> bool:
        return community_id in self.staff_community_ids

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_community_ids)

    async def grid_ids(self, session: AsyncSession) -> frozenset[int]:
        if self._grid_ids is None:
            rows = await session.execute(
                select(GridAssignment.grid_id).where(GridAssignment.person_id == self.person.id)
            )
            self._grid_ids = frozenset(rows.scalars())
        return self._grid_ids


@dataclass(frozen=True)
class TvActor:
    """A set-top box bound to a household; it reads that household's screens, nothing more."""

    device: Device


async def load_actor(session: AsyncSession, claims: AccessClaims) -> Actor | TvActor | None:
    kind, _, raw_id = claims.subject.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "tv":
        device = await session.get(Device, int(raw_id))
        if device is None or device.kind != DeviceKind.TV or device.household_id is None:
            return None  # unbound or removed: the box must pair again
        return TvActor(device)
    if kind != "person":
        return None
    person = await session.get(Person, int(raw_id))
    if person is None:
        return None
    if person.tokens_valid_after is not None and claims.issued_at < person.tokens_valid_after:
        return None
    return Actor(person=person, memberships=await load_memberships(session, person.id))


async def load_memberships(session: AsyncSession, person_id: int) -> tuple[tuple[int, Role], ...]:
    rows = await session.execute(
        select(Membership.community_id, Membership.role)
        .where(Membership.person_id == person_id)
        .order_by(Membership.id)
    )
    return tuple((cid, Role(role)) for cid, role in rows.all())
