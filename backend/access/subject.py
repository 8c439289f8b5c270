"""Who is asking: one `Subject` for every front door (a signed-in person, a TV box paired with
a home, a caller on the phone line), loaded once per request or call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import (
    STAFF_ROLES,
    Community,
    Device,
    DeviceKind,
    GridAssignment,
    Household,
    Membership,
    Person,
    Role,
)
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
    PARTNER = "partner"  # a signed partner speaking for a person: a band vendor for its wearer


class Act(StrEnum):
    """What a door may ask for. Which subject may ask for which is `Subject.may`, the one
    place the house says it: every door asks it before it shows or does anything personal."""

    ALARM = "alarm"  # raise their own alarm, ask for a call back, say their home is safe
    PUBLIC = "public"  # what the community tells everyone: official warnings, roll-calls, answers
    PERSONAL = "personal"  # their own orders, bookings, messages and help
    PAY = "pay"  # spend their money
    FAMILY_DECISION = "family_decision"  # decline what family ordered for them


# A number can be borrowed or forged: on caller id alone a person may ask for help and hear
# what everyone hears, nothing of their own. Their voice PIN opens the rest for the call.
ON_CALLER_ID = frozenset({Act.ALARM, Act.PUBLIC})
EVERYTHING = frozenset(Act)


@dataclass(frozen=True)
class Subject:
    """Who is asking, and through which door. A person (signed in, or a caller the line
    recognised) is `actor`; a TV box speaks for the home it is paired with."""

    door: Door
    actor: Actor | None = None
    household_id: int | None = None  # TV: the home it is paired with; PHONE: the caller's home
    device_id: int | None = None  # TV: the box
    pin_verified: bool = False  # PHONE: the caller keyed their voice PIN on this call
    community_id: int | None = None  # TV: its home's; PHONE: the line's that was rung; else found from memberships

    @classmethod
    def person(cls, actor: Actor) -> Subject:
        return cls(Door.APP, actor, actor.person.household_id)

    @classmethod
    def tv(cls, device: Device, community_id: int | None = None) -> Subject:
        return cls(Door.TV, None, device.household_id, device.id, community_id=community_id)

    @classmethod
    def caller(cls, actor: Actor | None, *, pin_verified: bool = False, community_id: int | None = None) -> Subject:
        """On the phone line: a person known by caller id (or nobody known), on the line of
        `community_id`."""
        household_id = actor.person.household_id if actor is not None else None
        return cls(Door.PHONE, actor, household_id, pin_verified=pin_verified, community_id=community_id)

    @classmethod
    def partner(cls, actor: Actor, community_id: int) -> Subject:
        """A signed partner's device speaking for the person it belongs to (a band's wearer)."""
        return cls(Door.PARTNER, actor, actor.person.household_id, community_id=community_id)

    def with_pin(self) -> Subject:
        """The caller keyed the right PIN: for the rest of the call they act as themselves."""
        return replace(self, pin_verified=True) if self.door == Door.PHONE and self.actor is not None else self

    def may(self, act: Act) -> bool:
        return act in self.acts

    @property
    def acts(self) -> frozenset[Act]:
        """A signed-in person may do all that is theirs (whom they act *for* is `rules`). A
        paired TV stands in its home and the remote is in the elder's hand: all that is the
        home elder's. A caller: on caller id alone, `ON_CALLER_ID`; with the PIN, all. A
        partner's device: its wearer's alarm only."""
        if self.door == Door.APP:
            return EVERYTHING if self.actor is not None else frozenset()
        if self.door == Door.TV:
            return EVERYTHING if self.household_id is not None else frozenset()
        if self.door == Door.PHONE:
            return EVERYTHING if self.actor is not None and self.pin_verified else ON_CALLER_ID
        return frozenset({Act.ALARM})

    @property
    def signed_in(self) -> Actor | None:
        """The person who may act as themselves here: signed in, or a caller who keyed the PIN.
        A caller known only by the number they call from may raise an alarm, nothing more."""
        if self.door == Door.APP or (self.door == Door.PHONE and self.pin_verified):
            return self.actor
        return None


async def load_subject(session: AsyncSession, claims: AccessClaims) -> Subject | None:
    kind, _, raw_id = claims.subject.partition(":")
    if kind == "tv":
        found = await tv_box(session, claims)
        return found[0] if found is not None else None
    [actor] = await load_people(session, [claims])
    return Subject.person(actor) if actor is not None else None


async def tv_box(session: AsyncSession, claims: AccessClaims) -> tuple[Subject, Household, Community] | None:
    """A box's token: the box as a Subject, with its home and community, in one statement
    (the TV portal shows them). None: not a box's token, or a box unpaired or paired again
    since it was issued (the box must pair again)."""
    kind, _, raw_id = claims.subject.partition(":")
    if kind != "tv" or not raw_id.isdigit():
        return None
    found = (
        await session.execute(
            select(Device, Household, Community)
            .join(Household, Household.id == Device.household_id)
            .join(Community, Community.id == Household.community_id)
            .where(Device.id == int(raw_id), Device.kind == DeviceKind.TV)
        )
    ).first()
    if found is None or not tv_token_current(found[0], claims.issued_at):
        return None
    device, household, community = found
    return Subject.tv(device, community.id), household, community


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
