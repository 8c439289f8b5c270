"""Tell the people of a family link what happened to it: in their app if it is reachable, else by SMS;
and live to any app they have open."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import live
from backend.community.models import Person
from backend.events import Event, consumer
from backend.family import repository
from backend.family.models import FamilyLink
from backend.gateways.sms import Sms
from backend.live import person_channel
from backend.notify import service as notify
from backend.parts import Parts


async def _people(session: AsyncSession, event: Event) -> tuple[FamilyLink, Person, Person] | None:
    link = await repository.get(session, int(event.payload["link_id"]))
    if link is None:
        return None
    elder = await session.get(Person, link.elder_id)
    family = await session.get(Person, link.family_id)
    if elder is None or family is None:
        return None
    return link, elder, family


async def _tell(
    session: AsyncSession, parts: Parts, link: FamilyLink, person: Person, template: str, **params: str
) -> None:
    """In their app if it is reachable, else as the SMS template of the same name."""
    title = parts.catalog.text(person.locale, "notify.family_title")
    await notify.tell(
        session,
        parts,
        person,
        title=title,
        text=parts.catalog.text(person.locale, f"sms.{template}", **params),
        data={"kind": "family_link", "linkId": str(link.id)},
        sms=Sms(template, params, person.locale),
    )


@consumer("family.invited", name="family.tell_invited")
async def tell_invited(session: AsyncSession, event: Event, parts: Parts) -> None:
    found = await _people(session, event)
    if found is None:
        return
    link, elder, family = found
    inviter = await session.get(Person, link.initiated_by_id)
    await _tell(
        session,
        parts,
        link,
        family,
        "family_invited",
        inviter=inviter.name if inviter else elder.name,
        elder=elder.name,
        relation=link.relation,
    )


@consumer("family.requested", name="family.tell_requested")
async def tell_requested(session: AsyncSession, event: Event, parts: Parts) -> None:
    found = await _people(session, event)
    if found is None:
        return
    link, elder, family = found
    await _tell(session, parts, link, elder, "family_requested", requester=family.name, relation=link.relation)


async def _tell_each_other(session: AsyncSession, event: Event, parts: Parts, template: str) -> None:
    """Both people hear that the link started or ended, each told the other's name."""
    found = await _people(session, event)
    if found is None:
        return
    link, elder, family = found
    for to, other in ((family, elder), (elder, family)):
        if to.deleted_at is None:  # someone deleting their account is not written to
            await _tell(session, parts, link, to, template, other=other.name)


@consumer("family.link_active", name="family.tell_active")
async def tell_active(session: AsyncSession, event: Event, parts: Parts) -> None:
    await _tell_each_other(session, event, parts, "family_link_active")


@consumer("family.link_revoked", name="family.tell_revoked")
async def tell_revoked(session: AsyncSession, event: Event, parts: Parts) -> None:
    await _tell_each_other(session, event, parts, "family_link_revoked")


async def _tell_both(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Open apps of both people see the link change at once."""
    link_id = int(event.payload["link_id"])
    link = await repository.get(session, link_id)
    if link is None:
        return
    message = {"kind": "family_link", "link_id": link_id, "topic": event.topic}
    live.after_commit(session, [(person_channel(person_id), message) for person_id in (link.elder_id, link.family_id)])


LIVE_TOPICS = (
    "family.invited",
    "family.requested",
    "family.link_active",
    "family.link_revoked",
    "family.link_declined",
    "family.link_changed",
)
for _topic in LIVE_TOPICS:
    consumer(_topic, name=f"family.live.{_topic}")(_tell_both)
