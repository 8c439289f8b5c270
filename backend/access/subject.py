"""Who is asking: one `Subject` for every front door (a signed-in person, a TV box paired with
a home, a caller on the phone line), loaded once per request or call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import STAFF_ROLES, Device, DeviceKind, GridAssignment, Membership, Person, Role
from backend.tokens import AccessClaims


@dataclass
class Actor:
    """A person acting as themselves, with their roles in each community."""

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


def paired_at(device: Device) -> dt.datetime | None:
    """When the box was last paired with its home (None: paired before the time was kept)."""
    found = (device.details or {}).get("paired_at")
    return dt.datetime.fromisoformat(found) if isinstance(found, str) else None


def tv_token_current(device: Device, issued_at: dt.datetime) -> bool:
    """A box's token opens its home only if issued after the box was last paired."""
    since = paired_at(device)
    return device.household_id is not None and (since is None or issued_at >= since)


class Door(StrEnum):
    APP = "app"  # a signed-in person: the elder-mode app, the family app, the staff console
    TV = "tv"  # a set-top box paired with a home
    PHONE = "phone"  # a caller on the community's line, known by caller id


@dataclass(frozen=True)
class Subject:
    """Who is asking, and through which door. A person (signed in, or a caller the line
    recognised) is `actor`; a TV box speaks for the home it is paired with."""

    door: Door
    actor: Actor | None = None
    household_id: int | None = None  # TV: the home it is paired with; PHONE: the caller's home
    device_id: int | None = None  # TV: the box
    pin_verified: bool = False  # PHONE: the caller keyed their voice PIN on this call

    @classmethod
    def person(cls, actor: Actor) -> Subject:
        return cls(Door.APP, actor, actor.person.household_id)

    @classmethod
    def tv(cls, device: Device) -> Subject:
        return cls(Door.TV, None, device.household_id, device.id)

    @classmethod
    def caller(cls, actor: Actor, *, pin_verified: bool) -> Subject:
        return cls(Door.PHONE, actor, actor.person.household_id, pin_verified=pin_verified)

    @property
    def signed_in(self) -> Actor | None:
        """The person who may act as themselves here: signed in, or a caller who keyed the PIN.
        A caller known only by the number they call from may raise an alarm, nothing more."""
        if self.door == Door.APP or (self.door == Door.PHONE and self.pin_verified):
            return self.actor
        return None


async def load_subject(session: AsyncSession, claims: AccessClaims) -> Subject | None:
    kind, _, raw_id = claims.subject.partition(":")
    if kind == "tv" and raw_id.isdigit():
        device = await session.get(Device, int(raw_id))
        if device is None or device.kind != DeviceKind.TV or not tv_token_current(device, claims.issued_at):
            return None  # unpaired, or paired again since: the box must pair again
        return Subject.tv(device)
    [actor] = await load_people(session, [claims])
    return Subject.person(actor) if actor is not None else None


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


async def person_by_phone(session: AsyncSession, phone: str) -> Person | None:
    """Who a normalized mobile number belongs to: sign-in, invitations, and a caller known by
    caller id on the phone line."""
    return (await session.execute(select(Person).where(Person.phone == phone))).scalar_one_or_none()


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
