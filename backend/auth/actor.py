"""Who is asking: the signed-in person with their roles, loaded once per request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.tokens import AccessClaims
from backend.community.models import STAFF_ROLES, Device, DeviceKind, GridAssignment, Membership, Person, Role


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


def tv_token_current(device: Device, issued_at: dt.datetime) -> bool:
    """A box's token opens its home only if issued after the box was last paired."""
    paired_at = (device.details or {}).get("paired_at")
    return device.household_id is not None and (
        not isinstance(paired_at, str) or issued_at >= dt.datetime.fromisoformat(paired_at)
    )


@dataclass(frozen=True)
class TvActor:
    """A set-top box bound to a household; it reads that household's screens, nothing more."""

    device: Device


async def load_actor(session: AsyncSession, claims: AccessClaims) -> Actor | TvActor | None:
    kind, _, raw_id = claims.subject.partition(":")
    if kind == "tv" and raw_id.isdigit():
        device = await session.get(Device, int(raw_id))
        if device is None or device.kind != DeviceKind.TV or not tv_token_current(device, claims.issued_at):
            return None  # unpaired, or paired again since: the box must pair again
        return TvActor(device)
    [actor] = await load_people(session, [claims])
    return actor


def person_id_of(claims: AccessClaims) -> int | None:
    kind, _, raw_id = claims.subject.partition(":")
    return int(raw_id) if kind == "person" and raw_id.isdigit() else None


async def load_people(session: AsyncSession, claims: Sequence[AccessClaims]) -> list[Actor | None]:
    """The people behind a group of tokens, in two queries (the alarm desk signs a burst of
    presses in together). None where the token is not a person's, the person is gone, or
    they signed out everywhere after it was issued."""
    ids = {pid for c in claims if (pid := person_id_of(c)) is not None}
    if not ids:
        return [None] * len(claims)
    people = {p.id: p for p in (await session.execute(select(Person).where(Person.id.in_(ids)))).scalars()}
    memberships = await load_memberships_of(session, people)
    actors: list[Actor | None] = []
    for c in claims:
        person = people.get(person_id_of(c) or 0)
        revoked = person is not None and (
            person.deleted_at is not None
            or (person.tokens_valid_after is not None and c.issued_at < person.tokens_valid_after)
        )
        actors.append(None if person is None or revoked else Actor(person, memberships.get(person.id, ())))
    return actors


async def load_memberships(session: AsyncSession, person_id: int) -> tuple[tuple[int, Role], ...]:
    return (await load_memberships_of(session, [person_id])).get(person_id, ())


async def load_memberships_of(
    session: AsyncSession, person_ids: Iterable[int]
) -> dict[int, tuple[tuple[int, Role], ...]]:
    rows = await session.execute(
        select(Membership.person_id, Membership.community_id, Membership.role)
        .where(Membership.person_id.in_(list(person_ids)))
        .order_by(Membership.id)
    )
    found: dict[int, list[tuple[int, Role]]] = {}
    for pid, cid, role in rows.all():
        found.setdefault(pid, []).append((cid, Role(role)))
    return {pid: tuple(ms) for pid, ms in found.items()}
