"""Mutual help as the elder's doors show it (the TV's 我需要帮忙, the phone line's key 6):
her requests with who is coming, the times she may choose from, asking and saying it was
done. The doors put these in their words; the rules are here, once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.community import repository as community_repository
from backend.community.models import Person
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.mutual_help import service
from backend.mutual_help.models import HelpKind, HelpRequest, OfferStatus, RequestStatus
from backend.parts import Parts, Screen

HELP_MINUTES = 60  # what she asks for from the TV or the phone: an hour of someone's time
SHOWN = 5  # her latest requests


@dataclass(frozen=True)
class HelpLine:
    """One of her requests: who said they are coming (names), and whether she may say it
    was done (someone is coming and it is still open)."""

    request: HelpRequest
    going: tuple[str, ...]

    @property
    def done(self) -> bool:
        return self.request.status == RequestStatus.DONE

    @property
    def doneable(self) -> bool:
        return bool(self.going) and self.request.status in service.OPEN_REQUESTS


def kind_name(texts: Catalog, locale: str, kind: HelpKind) -> str:
    return texts.text(locale, f"mutual_help.kinds.{kind.value}")


def when(texts: Catalog, locale: str, local: dt.datetime) -> str:
    """A request's time, in local time, as the room says it."""
    return texts.text(locale, "mutual_help.when", month=local.month, day=local.day, time=f"{local:%H:%M}")


def line_said(texts: Catalog, locale: str, line: HelpLine, *, when: str) -> str:
    """One request as she hears it: what, when (in the door's words for a time), how it stands."""
    if line.done:
        state = texts.text(locale, "mutual_help.state.done")
    elif line.going:
        state = texts.text(locale, "mutual_help.state.coming", names="、".join(line.going))
    else:
        state = texts.text(locale, "mutual_help.state.looking")
    return texts.text(
        locale, "mutual_help.line", help=kind_name(texts, locale, line.request.kind), when=when, state=state
    )


async def help_screen(session: AsyncSession, parts: Parts, actor: Actor, locale: str, /) -> Screen:
    """The home's 邻里互助 entry: her latest requests and who is coming."""
    texts, zone = parts.catalog, parts.settings.zone
    lines = []
    for line in await her_help(session, actor.id):
        lines.append(line_said(texts, locale, line, when=when(texts, locale, line.request.starts_at.astimezone(zone))))
    return Screen(tuple(lines), texts.text(locale, "mutual_help.none"))


async def her_help(session: AsyncSession, elder_id: int) -> list[HelpLine]:
    """Her latest requests but the cancelled ones, newest first, in three queries."""
    requests = [
        r
        for r in await service.requests_for_elder(session, elder_id, limit=SHOWN)
        if r.status != RequestStatus.CANCELLED
    ]
    offers = await service.offers_of(session, [r.id for r in requests])
    going = {r.id: [o.volunteer_id for o in offers[r.id] if o.status == OfferStatus.ACCEPTED] for r in requests}
    ids = sorted({i for ids in going.values() for i in ids})
    names = {p.id: p.name for p in await community_repository.people_by_ids(session, ids)}
    return [HelpLine(r, tuple(names.get(i, "") for i in going[r.id])) for r in requests]


def times(zone: ZoneInfo) -> list[dt.datetime]:
    """The times she may choose from: she picks one, she does not type one."""
    return service.times_to_offer(utcnow(), zone)


async def ask(
    session: AsyncSession,
    content_dir: Path,
    zone: ZoneInfo,
    *,
    elder: Person,
    kind: HelpKind,
    at: dt.datetime,
    door: str,
) -> bool:
    """Her request for an hour's help at one of the times offered; True when neighbours were
    asked (else the centre was told)."""
    if at not in times(zone):
        raise InvalidInput("at", field="at")  # one of the times offered, still ahead
    request = await service.open_request(
        session,
        content_dir,
        elder=elder,
        asked_by=elder,
        need=service.Need(kind=kind, starts_at=at, minutes=HELP_MINUTES),
        door=door,
    )
    asked = (await service.offers_of(session, [request.id]))[request.id]
    return bool(asked) and request.status == RequestStatus.OPEN


async def done(session: AsyncSession, content_dir: Path, *, elder: Person, request_id: int, via: str) -> None:
    """She says the help was done (OK on the TV, 1 on the phone): only her own request."""
    request = await session.get(HelpRequest, request_id)
    if request is None or request.elder_id != elder.id:
        raise NotFound()
    await service.confirm(session, content_dir, request_id=request.id, by=elder, via=via)
