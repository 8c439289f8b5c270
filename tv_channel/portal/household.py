"""Whom a paired set-top box speaks for: the access kernel's `Subject` for its token, its home,
and the eldest elder living there (whose language, slow speech and font size the portal takes,
whose wallet pays, whose alarm the red key raises). The box is in that home; the elder holds
the remote.

Every request of a box asks this, and a district's boxes come on together: it is two
queries (the box with its home and community, then who lives there), and the elder's roles
only when an action needs them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Actor, Subject, load_memberships, tv_box
from backend.clock import today
from backend.community.models import Community, Household, Person
from backend.config import Settings
from backend.tokens import AccessClaims, TokenError, Tokens


@dataclass(frozen=True)
class TvHome:
    subject: Subject  # the box, as the access kernel knows it (`Subject.may` says what it may do)
    household: Household
    community: Community
    elder: Person
    residents: tuple[Person, ...]  # everyone living there: the box shows their messages
    claims: AccessClaims
    actor: Actor  # the elder, acting through the box in their home (roles loaded on `with_roles`)
    # Plain copies of how the elder is spoken to: a refusal is said after its transaction has
    # rolled back, when the elder's row can no longer be read.
    locale: str
    slow: bool

    @property
    def device_id(self) -> int:
        assert self.subject.device_id is not None  # a TV subject is a box
        return self.subject.device_id

    @property
    def raiser(self) -> rules.Raiser:
        """Whose alarm the red key raises: the home elder's, spoken to slowly."""
        return rules.Raiser(self.elder, self.community.id, self.subject.door, True)


def bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


async def tv_home(
    session: AsyncSession,
    settings: Settings,
    tokens: Tokens,
    token: str | None,
    *,
    with_roles: bool = False,
    ticket: bool = False,
) -> TvHome | None:
    """None: no token, a token that is not a paired box's, or a box unpaired since.
    `ticket`: the token is the event stream's one-minute ticket (and only that will do)."""
    if token is None:
        return None
    try:
        claims = tokens.decode_ticket(token) if ticket else tokens.decode_access(token)
    except TokenError:
        return None
    found = await tv_box(session, claims)
    if found is None:
        return None
    subject, household, community = found
    residents = tuple(
        (
            await session.scalars(
                select(Person)
                .where(Person.household_id == household.id, Person.deleted_at.is_(None))
                .order_by(Person.id)
            )
        ).all()
    )
    elder = rules.eldest(residents, today(settings.zone))
    if elder is None:
        return None
    memberships = await load_memberships(session, elder.id) if with_roles else ()
    return TvHome(
        subject,
        household,
        community,
        elder,
        residents,
        claims,
        Actor(elder, memberships),
        locale=elder.locale,
        slow=elder.slow_speech,
    )
