"""The rules of family links: who may create, answer and end them, and what they allow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules as access
from backend.access.subject import Actor, person_by_phone
from backend.community.models import Person
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound, RateLimited
from backend.events import emit
from backend.family import repository
from backend.family.errors import AlreadyLinked, CannotLinkSelf, InvalidScopes, InvitationClosed, NotYourTurn
from backend.family.models import ConsentVia, FamilyLink, FamilyLinkEvent, LinkStatus, Scope
from backend.phones import InvalidPhone, normalize_phone

MAX_NAME = 20
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class InvitationRules:
    """What an invitation or link request may say and how often: each one sends an SMS."""

    relations: frozenset[str]  # content/family/relations.json
    per_hour: int
    per_day: int
    to_a_number_per_day: int


def _scopes(scopes: Sequence[Scope]) -> list[str]:
    values = sorted({Scope(s).value for s in scopes})
    if not values:
        raise InvalidScopes()
    return values


def _relation(relation: str, rules: InvitationRules) -> str:
    """One of the fixed words, never the caller's own text in someone else's SMS."""
    relation = relation.strip()
    if relation not in rules.relations:
        raise InvalidInput("relation", field="relation")
    return relation


def _name(name: str | None) -> str | None:
    """A person's name as the invitation gives it: letters (any script), spaces, · - . only;
    no digits or links, since it is shown to others and may reach an SMS."""
    if name is None or not name.strip():
        return None
    name = " ".join(name.split())
    if len(name) > MAX_NAME or not all(ch.isalpha() or ch in " ·-." for ch in name):
        raise InvalidInput("name", field="name")
    return name


async def _within_limits(
    session: AsyncSession, actor: Actor, *, towards: int | None, rules: InvitationRules, in_person: bool
) -> None:
    """Per person who starts links (an hour, a day; staff with the elder in person are not
    counted) and per number they go to (a day, from everyone else)."""
    now = utcnow()
    checks: list[tuple[list[dt.datetime], int, dt.timedelta]] = []
    if not in_person:
        started = await repository.links_started_since(session, now - DAY, by=actor.id)
        checks += [([t for t in started if t >= now - HOUR], rules.per_hour, HOUR), (started, rules.per_day, DAY)]
    if towards is not None:
        received = await repository.links_started_since(session, now - DAY, towards=towards)
        checks.append((received, rules.to_a_number_per_day, DAY))
    for times, limit, window in checks:
        if len(times) >= limit:
            raise RateLimited(int((times[len(times) - limit] + window - now).total_seconds()) + 1)


def _record(session: AsyncSession, link: FamilyLink, actor: Actor, action: str, **detail: object) -> None:
    session.add(FamilyLinkEvent(link_id=link.id, actor_id=actor.id, action=action, detail=detail))


async def _new_person(session: AsyncSession, phone: str, name: str, locale: str) -> Person:
    """A family member far away gets an account with only what the invitation said."""
    person = Person(name=name, phone=phone, locale=locale)
    session.add(person)
    await session.flush()
    return person


async def invite(
    session: AsyncSession,
    actor: Actor,
    *,
    phone: str,
    relation: str,
    scopes: Sequence[Scope],
    rules: InvitationRules,
    name: str | None = None,
    elder_id: int | None = None,
) -> FamilyLink:
    """An elder invites a family member (or staff do it with the elder, in person)."""
    relation, scope_values, name = _relation(relation, rules), _scopes(scopes), _name(name)
    normalized = normalize_phone(phone)
    if normalized is None:
        raise InvalidPhone()
    if elder_id is None or elder_id == actor.id:
        elder, via = actor.person, ConsentVia.APP
    else:
        found = await session.get(Person, elder_id)
        if found is None or not await access.is_staff_for(session, actor, found.id):
            raise NotFound()
        elder, via = found, ConsentVia.STAFF_IN_PERSON
    existing = await person_by_phone(session, normalized)
    await _within_limits(
        session,
        actor,
        towards=existing.id if existing is not None else None,
        rules=rules,
        in_person=via == ConsentVia.STAFF_IN_PERSON,
    )
    family = existing or await _new_person(session, normalized, name or relation, elder.locale)
    if family.id == elder.id:
        raise CannotLinkSelf()
    if await repository.open_link_between(session, elder.id, family.id) is not None:
        raise AlreadyLinked()
    now = utcnow()
    link = FamilyLink(
        elder_id=elder.id,
        family_id=family.id,
        relation=relation,
        scopes=scope_values,
        status=LinkStatus.PENDING,
        initiated_by_id=actor.id,
        elder_consent_at=now,
        elder_consent_via=via,
        elder_consent_by_id=actor.id,
    )
    session.add(link)
    await session.flush()
    _record(session, link, actor, "invited", scopes=scope_values, via=via.value)
    emit(session, "family.invited", {"link_id": link.id})
    return link


async def request_link(
    session: AsyncSession,
    actor: Actor,
    *,
    elder_phone: str,
    relation: str,
    scopes: Sequence[Scope],
    rules: InvitationRules,
) -> FamilyLink:
    """A family member asks to be linked; the elder (or staff, in person) must agree."""
    relation, scope_values = _relation(relation, rules), _scopes(scopes)
    normalized = normalize_phone(elder_phone)
    if normalized is None:
        raise InvalidPhone()
    elder = await person_by_phone(session, normalized)
    if elder is None:
        raise NotFound()
    if elder.id == actor.id:
        raise CannotLinkSelf()
    if await repository.open_link_between(session, elder.id, actor.id) is not None:
        raise AlreadyLinked()
    await _within_limits(session, actor, towards=elder.id, rules=rules, in_person=False)
    link = FamilyLink(
        elder_id=elder.id,
        family_id=actor.id,
        relation=relation,
        scopes=scope_values,
        status=LinkStatus.PENDING,
        initiated_by_id=actor.id,
        family_accepted_at=utcnow(),
    )
    session.add(link)
    await session.flush()
    _record(session, link, actor, "requested", scopes=scope_values)
    emit(session, "family.requested", {"link_id": link.id})
    return link


def _activate_if_agreed(session: AsyncSession, link: FamilyLink) -> None:
    if link.elder_consent_at is not None and link.family_accepted_at is not None:
        link.status = LinkStatus.ACTIVE
        emit(session, "family.link_active", {"link_id": link.id})
    else:
        emit(session, "family.link_changed", {"link_id": link.id})


async def respond(session: AsyncSession, actor: Actor, *, link_id: int, accept: bool) -> FamilyLink:
    link = await repository.get(session, link_id, for_update=True)
    if link is None or actor.id not in (link.elder_id, link.family_id):
        raise NotFound()
    if link.status != LinkStatus.PENDING:
        raise InvitationClosed()
    now = utcnow()
    answering_as_elder = actor.id == link.elder_id and link.elder_consent_at is None
    answering_as_family = actor.id == link.family_id and link.family_accepted_at is None
    if not (answering_as_elder or answering_as_family):
        raise NotYourTurn()
    if not accept:
        link.status = LinkStatus.DECLINED
        link.ended_at, link.ended_by_id = now, actor.id
        _record(session, link, actor, "declined")
        emit(session, "family.link_declined", {"link_id": link.id})
        return link
    if answering_as_elder:
        link.elder_consent_at, link.elder_consent_via, link.elder_consent_by_id = now, ConsentVia.APP, actor.id
        _record(session, link, actor, "elder_consented", via=ConsentVia.APP.value)
    else:
        link.family_accepted_at = now
        _record(session, link, actor, "accepted")
    _activate_if_agreed(session, link)
    return link


async def confirm_in_person(session: AsyncSession, actor: Actor, *, link_id: int) -> FamilyLink:
    """Staff record the elder's consent given face to face (no smartphone needed)."""
    link = await repository.get(session, link_id, for_update=True)
    if link is None or not await access.is_staff_for(session, actor, link.elder_id):
        raise NotFound()
    if link.status != LinkStatus.PENDING:
        raise InvitationClosed()
    if link.elder_consent_at is not None:
        raise NotYourTurn()
    link.elder_consent_at = utcnow()
    link.elder_consent_via, link.elder_consent_by_id = ConsentVia.STAFF_IN_PERSON, actor.id
    _record(session, link, actor, "elder_consented", via=ConsentVia.STAFF_IN_PERSON.value)
    _activate_if_agreed(session, link)
    return link


MAX_MONTHLY_LIMIT_FEN = 1_000_000  # ¥10,000


async def set_spending(
    session: AsyncSession, actor: Actor, *, link_id: int, elder_wallet_allowed: bool, monthly_limit_fen: int | None
) -> FamilyLink:
    """The elder (or staff with them in person) decides whether this family member may pay
    from the elder's wallet, and up to how much a month; both sides see it at once."""
    link = await repository.get(session, link_id, for_update=True)
    if link is None or (actor.id != link.elder_id and not await access.is_staff_for(session, actor, link.elder_id)):
        raise NotFound()
    if link.status != LinkStatus.ACTIVE:
        raise InvitationClosed()
    if monthly_limit_fen is not None and not 0 <= monthly_limit_fen <= MAX_MONTHLY_LIMIT_FEN:
        raise InvalidInput("monthlyLimitFen", field="monthlyLimitFen")
    link.elder_wallet_allowed, link.monthly_limit_fen = elder_wallet_allowed, monthly_limit_fen
    _record(session, link, actor, "spending_set", allowed=elder_wallet_allowed, limit_fen=monthly_limit_fen)
    emit(session, "family.link_changed", {"link_id": link.id})
    return link


async def revoke(session: AsyncSession, actor: Actor, *, link_id: int, reason: str | None) -> FamilyLink:
    """The elder, the family member, or staff end a link; it stops working at once."""
    link = await repository.get(session, link_id, for_update=True)
    if link is None:
        raise NotFound()
    if actor.id not in (link.elder_id, link.family_id) and not await access.is_staff_for(session, actor, link.elder_id):
        raise NotFound()
    if link.status not in repository.OPEN:
        raise InvitationClosed()
    _end(session, link, actor, reason=(reason or "")[:200])
    return link


def _end(session: AsyncSession, link: FamilyLink, actor: Actor, *, reason: str) -> None:
    """The link stops working at once; both people are told (family/tasks)."""
    link.status = LinkStatus.REVOKED
    link.ended_at, link.ended_by_id = utcnow(), actor.id
    _record(session, link, actor, "revoked", reason=reason)
    emit(session, "family.link_revoked", {"link_id": link.id, "by": actor.id})


async def end_all_links(session: AsyncSession, actor: Actor, *, why: str) -> int:
    """Every open link of `actor` ends (their account is being deleted): the other side is
    told the link ended, not why."""
    links = await repository.open_links_of(session, actor.id)
    for link in links:
        _end(session, link, actor, reason=why)
    return len(links)


async def links_page(
    session: AsyncSession, actor: Actor, *, before_id: int | None, limit: int, include_ended: bool
) -> Sequence[FamilyLink]:
    return await repository.page_for_person(
        session, actor.id, before_id=before_id, limit=limit, include_ended=include_ended
    )


async def events_visible(session: AsyncSession, actor: Actor, link: FamilyLink) -> Sequence[FamilyLinkEvent]:
    if actor.id not in (link.elder_id, link.family_id) and not await access.is_staff_for(session, actor, link.elder_id):
        raise NotFound()
    return await repository.events_for_links(session, [link.id])
