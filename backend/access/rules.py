"""Whom a subject may act for. Every acts-for rule of the house is here: see a person, act for
them in a consented scope (order for, manage settings, receive alerts), staff of a community,
manage a home. Acting for someone returns one `Grant`, which payments take as it is,
so the family link is read once per request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from backend.access.subject import Act, Actor, Door, Subject
from backend.community.models import STAFF_ROLES, Building, Community, Household, Membership, Person, Role
from backend.errors import Forbidden, NotFound
from backend.family.models import FamilyLink, LinkStatus, Scope


class Placed(StrEnum):
    SELF = "self"
    FAMILY = "family"  # through an active link with the scope asked for
    STAFF = "staff"  # staff of one of the person's communities (for one who phoned or walked in)


@dataclass(frozen=True)
class Grant:
    """`actor` may act for `person`, placed as self, family or staff; `link` is the family
    link that allows it (family only)."""

    actor: Actor
    person: Person
    placed_as: Placed
    link: FamilyLink | None = None


async def community_ids_of(session: AsyncSession, person_id: int) -> set[int]:
    rows = await session.execute(select(Membership.community_id).where(Membership.person_id == person_id))
    return set(rows.scalars())


async def active_link(session: AsyncSession, *, elder_id: int, family_id: int) -> FamilyLink | None:
    return (
        await session.execute(
            select(FamilyLink).where(
                FamilyLink.elder_id == elder_id,
                FamilyLink.family_id == family_id,
                FamilyLink.status == LinkStatus.ACTIVE,
            )
        )
    ).scalar_one_or_none()


async def active_links_into_household(
    session: AsyncSession, *, family_id: int, household_id: int
) -> Sequence[FamilyLink]:
    """`family_id`'s active links to elders who live in `household_id`."""
    rows = await session.execute(
        select(FamilyLink)
        .join(Person, Person.id == FamilyLink.elder_id)
        .where(
            FamilyLink.family_id == family_id,
            FamilyLink.status == LinkStatus.ACTIVE,
            Person.household_id == household_id,
        )
    )
    return rows.scalars().all()


async def is_staff_for(
    session: AsyncSession, actor: Actor, person_id: int, roles: frozenset[Role] | None = None
) -> bool:
    """Does `actor` serve one of `person_id`'s communities (in one of `roles`, else any staff role)?"""
    if not actor.is_staff:
        return False
    theirs = await community_ids_of(session, person_id)
    if roles is None:
        return bool(actor.staff_community_ids & theirs)
    return bool(staff_communities_of(actor, theirs, roles))


def staff_communities_of(actor: Actor, community_ids: set[int], roles: frozenset[Role]) -> list[int]:
    """Which of these communities `actor` serves in one of `roles`, lowest id first."""
    return sorted(cid for cid in community_ids if actor.roles_in(cid) & roles)


def require_staff_of(actor: Actor, community_id: int) -> None:
    if not actor.is_staff_of(community_id):
        raise Forbidden()


# Roles whose work covers the whole community; a grid worker's covers the grids she looks after.
COMMUNITY_WIDE = frozenset({Role.SERVICE_CENTRE, Role.ADMIN})


async def grids_in_view(session: AsyncSession, actor: Actor, community_id: int) -> frozenset[int] | None:
    """Whose people `actor` sees in a staff list of `community_id` (residents, the visit plan,
    the care round, a roll-call's silent homes): None for everyone, when a role of theirs
    covers the community; else the grids they look after (none: nobody's). Not staff there:
    FORBIDDEN."""
    require_staff_of(actor, community_id)
    if actor.roles_in(community_id) & COMMUNITY_WIDE:
        return None
    return await actor.grid_ids(session)


async def in_view(
    session: AsyncSession, actor: Actor, community_id: int, person_id: ColumnElement[Any] | QueryableAttribute[Any]
) -> ColumnElement[bool]:
    """The WHERE clause of a staff list: the rows of `community_id` about people `actor` may
    see there. All of them when a role of theirs covers the community; else those about the
    residents of their own grids, and those about nobody known (an unknown caller lives in no
    grid, and whoever is on duty must see them). Not staff there: FORBIDDEN."""
    grids = await grids_in_view(session, actor, community_id)
    if grids is None:
        return true()
    theirs = (
        select(Person.id)
        .join(Household, Household.id == Person.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(Building.grid_id.in_(sorted(grids)))
    )
    return or_(person_id.is_(None), person_id.in_(theirs))


async def may_see(session: AsyncSession, actor: Actor, person_id: int) -> bool:
    """Self, staff of one of the person's communities, or family through an active link."""
    if person_id == actor.id:
        return True
    if await is_staff_for(session, actor, person_id):
        return True
    for elder_id, family_id in ((person_id, actor.id), (actor.id, person_id)):
        if await active_link(session, elder_id=elder_id, family_id=family_id) is not None:
            return True
    return False


async def through_link(session: AsyncSession, actor: Actor, *, elder_id: int, scope: Scope) -> FamilyLink:
    """The active link that lets `actor` act for `elder_id` in `scope`, read fresh every time:
    none is NOT_FOUND (as for someone who does not exist), one without the scope FORBIDDEN."""
    link = await active_link(session, elder_id=elder_id, family_id=actor.id)
    if link is None:
        raise NotFound()
    if not link.has_scope(scope):
        raise Forbidden()
    return link


async def acting_for(
    session: AsyncSession,
    actor: Actor,
    person_id: int | None,
    scope: Scope = Scope.MANAGE_SETTINGS,
    *,
    staff_may: bool = True,
) -> Grant:
    """Whom `actor` may act for: themselves, a resident of a community they serve (unless
    `staff_may` is off), or an elder who gave them `scope` (their settings: manage_settings;
    their wallet and orders: order_for)."""
    if person_id is None or person_id == actor.id:
        return Grant(actor, actor.person, Placed.SELF)
    found = await session.get(Person, person_id)
    if found is None:
        raise NotFound()
    if staff_may and await is_staff_for(session, actor, found.id):
        return Grant(actor, found, Placed.STAFF)
    return Grant(actor, found, Placed.FAMILY, await through_link(session, actor, elder_id=found.id, scope=scope))


async def home_of(session: AsyncSession, person: Person) -> tuple[Household, Community]:
    """Where services and goods come to; someone without a home cannot order them."""
    household = await session.get(Household, person.household_id) if person.household_id else None
    community = await session.get(Community, household.community_id) if household else None
    if household is None or community is None:
        raise NotFound()
    return household, community


async def home_managed_by(session: AsyncSession, actor: Actor, person_id: int | None) -> Household | None:
    """The home of `person_id` (me, an elder whose settings I manage, a resident I serve)."""
    grant = await acting_for(session, actor, person_id)
    household_id = grant.person.household_id
    return await session.get(Household, household_id) if household_id is not None else None


async def manages_home(session: AsyncSession, actor: Actor, household_id: int) -> bool:
    """Someone living there, staff of its community, or family with manage_settings for someone
    living there."""
    if actor.person.household_id == household_id:
        return True
    household = await session.get(Household, household_id)
    if household is None:
        return False
    if actor.is_staff_of(household.community_id):
        return True
    links = await active_links_into_household(session, family_id=actor.id, household_id=household_id)
    return any(link.has_scope(Scope.MANAGE_SETTINGS) for link in links)


async def family_receiving_alerts(session: AsyncSession, elder_id: int) -> list[int]:
    return (await families_receiving_alerts(session, [elder_id])).get(elder_id, [])


async def families_receiving_alerts(session: AsyncSession, elder_ids: Collection[int]) -> dict[int, list[int]]:
    """For each elder, the family members whose active link lets them receive alerts."""
    rows = await session.execute(
        select(FamilyLink.elder_id, FamilyLink.family_id, FamilyLink.scopes)
        .where(FamilyLink.elder_id.in_(elder_ids), FamilyLink.status == LinkStatus.ACTIVE)
        .order_by(FamilyLink.id)
    )
    found: dict[int, list[int]] = {}
    for elder_id, family_id, scopes in rows.all():
        if Scope.RECEIVE_ALERTS.value in scopes:
            found.setdefault(elder_id, []).append(family_id)
    return found


async def speaks_for(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int,
    community_id: int | None,
    asked_by_id: int | None = None,
    scope: Scope = Scope.ORDER_FOR,
    any_staff: bool = True,
) -> Placed | None:
    """How `actor` may act on, or read, something done for `person_id` (a help request, a
    question to a desk, an order), now: as that person; as staff of `community_id` (any of its
    staff, or with `any_staff` off only the staff member who asked for her); or as family
    through a link live at this moment with `scope`. Having asked for her once counts for
    nothing by itself: once she revokes the link, her relative neither acts nor reads."""
    if actor.id == person_id:
        return Placed.SELF
    if community_id is not None and actor.is_staff_of(community_id) and (any_staff or actor.id == asked_by_id):
        return Placed.STAFF
    link = await active_link(session, elder_id=person_id, family_id=actor.id)
    return Placed.FAMILY if link is not None and link.has_scope(scope) else None


async def still_speaking_for(
    session: AsyncSession, person_id: int, *acted_for_her: int, scope: Scope = Scope.ORDER_FOR
) -> set[int]:
    """Who hears of something of hers: the person, and of those who asked or ordered it for her
    (`acted_for_her`) the ones who still may: staff of one of her communities, and family whose
    link with `scope` is live. A relative whose link was revoked hears nothing more of her affairs."""
    kept = {person_id}
    others = set(acted_for_her) - kept
    if not others:
        return kept
    theirs = await community_ids_of(session, person_id)
    staff = await session.execute(
        select(Membership.person_id).where(
            Membership.person_id.in_(others),
            Membership.community_id.in_(theirs),
            Membership.role.in_(list(STAFF_ROLES)),
        )
    )
    kept |= set(staff.scalars())
    links = await session.execute(
        select(FamilyLink.family_id, FamilyLink.scopes).where(
            FamilyLink.elder_id == person_id,
            FamilyLink.family_id.in_(others - kept),
            FamilyLink.status == LinkStatus.ACTIVE,
        )
    )
    kept |= {family_id for family_id, scopes in links.all() if scope.value in scopes}
    return kept


async def may_follow_order(
    session: AsyncSession, actor: Actor, *, beneficiary_id: int, placed_by_id: int, household_id: int | None
) -> bool:
    """An order or a booking: the elder it is for, staff of the community of the home it goes
    to, or whoever placed it for her while they still may order for her (speaks_for)."""
    if actor.id == beneficiary_id:
        return True
    household = await session.get(Household, household_id) if household_id is not None else None
    if household is not None and actor.is_staff_of(household.community_id):
        return True
    return (
        actor.id == placed_by_id
        and await speaks_for(session, actor, person_id=beneficiary_id, community_id=None) is not None
    )


def home_community_id(actor: Actor) -> int | None:
    """The community a person lives in (else the first they serve or belong to)."""
    residences = [cid for cid, role in actor.memberships if role == Role.RESIDENT]
    if residences:
        return residences[0]
    return min(actor.community_ids) if actor.community_ids else None


@dataclass(frozen=True)
class Home:
    """Whose home screen a subject sees: a person's own (or one of their communities'), or the
    home a TV box is paired with (no one's name on it)."""

    community_id: int
    person: Person | None


async def _subjects_home(session: AsyncSession, subject: Subject) -> Household:
    """The home a TV box is paired with, or a caller's."""
    household = await session.get(Household, subject.household_id) if subject.household_id else None
    if household is None:
        raise NotFound()
    return household


async def home_for(session: AsyncSession, subject: Subject, community_id: int | None) -> Home:
    actor = subject.signed_in
    if actor is None:
        return Home((await _subjects_home(session, subject)).community_id, None)
    if community_id is not None:
        if community_id not in actor.community_ids:
            raise Forbidden()
        return Home(community_id, actor.person)
    found = home_community_id(actor)
    if found is None:
        raise NotFound()
    return Home(found, actor.person)


@dataclass(frozen=True)
class Raiser:
    """Whose alarm a press is, in which community, and whether replies are spoken slowly."""

    person: Person
    community_id: int
    door: Door
    slow: bool


def raiser_of(subject: Subject) -> Raiser | None:
    """A person's own alarm: signed in, a caller the line knows by caller id (no PIN asked in
    an emergency) or a band's wearer, in the community the door names, else their home's.
    None: nobody known, or someone who belongs to no community."""
    actor = subject.actor
    if actor is None or not subject.may(Act.ALARM):
        return None
    community_id = subject.community_id or home_community_id(actor)
    if community_id is None:
        return None
    person = actor.person
    return Raiser(person, community_id, subject.door, person.slow_speech)


async def alarm_raised_by(session: AsyncSession, subject: Subject, today: dt.date) -> Raiser:
    """A person raises their own alarm (`raiser_of`); a TV's red key raises the alarm of the
    eldest elder of its home, who is spoken to slowly."""
    if subject.actor is not None:
        raiser = raiser_of(subject)
        if raiser is None:
            raise NotFound()
        return raiser
    household = await _subjects_home(session, subject)
    people = (
        (await session.execute(select(Person).where(Person.household_id == household.id).order_by(Person.id)))
        .scalars()
        .all()
    )
    speaks_for = eldest(people, today)
    if speaks_for is None:
        raise NotFound()
    return Raiser(speaks_for, household.community_id, subject.door, True)


def eldest(people: Sequence[Person], today: dt.date) -> Person | None:
    """Whom a home's TV speaks for: its eldest elder (else its first resident)."""
    elders = sorted((p for p in people if p.is_elder(today)), key=lambda p: p.birth_date or dt.date.max)
    chosen = elders or list(people)
    return chosen[0] if chosen else None
