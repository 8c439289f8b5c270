"""Whom a paired set-top box speaks for: its home, and the eldest elder living there (whose
language, slow speech and font size the portal takes, whose wallet pays, whose alarm the red
key raises). The box is in that home; the elder holds the remote."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Actor, Door, load_memberships, load_subject
from backend.clock import today
from backend.community.models import Community, Device, Household, Person
from backend.config import Settings
from backend.tokens import AccessClaims, TokenError, Tokens


@dataclass(frozen=True)
class TvHome:
    device: Device
    household: Household
    community: Community
    elder: Person
    actor: Actor  # the elder, acting through the box in their home
    residents: tuple[Person, ...]  # everyone living there: the box shows their messages
    claims: AccessClaims

    @property
    def locale(self) -> str:
        return self.elder.locale


def bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


async def tv_home(session: AsyncSession, settings: Settings, tokens: Tokens, token: str | None) -> TvHome | None:
    """None: no token, a token that is not a paired box's, or a box unpaired since."""
    if token is None:
        return None
    try:
        claims = tokens.decode_access(token)
    except TokenError:
        return None
    subject = await load_subject(session, claims)
    if subject is None or subject.door != Door.TV or subject.device_id is None:
        return None
    device = await session.get(Device, subject.device_id)
    household = await session.get(Household, subject.household_id) if subject.household_id else None
    if device is None or household is None:
        return None
    community = await session.get(Community, household.community_id)
    raiser = await rules.alarm_raised_by(session, subject, today(settings.zone))
    residents = (
        await session.scalars(
            select(Person).where(Person.household_id == household.id, Person.deleted_at.is_(None)).order_by(Person.id)
        )
    ).all()
    if community is None:
        return None
    actor = Actor(raiser.person, await load_memberships(session, raiser.person.id))
    return TvHome(device, household, community, raiser.person, actor, tuple(residents), claims)
