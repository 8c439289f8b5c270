"""Screens as plain data: what the elder-mode app, the TV portal and the voice dialog show or
say, built once here and mapped by each front door (GraphQL types use `of()`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Door, Subject
from backend.community.models import Community, Person
from backend.content.catalog import Catalog, localized
from backend.content.read_aloud import ReadAloud
from backend.errors import NotFound


@dataclass(frozen=True)
class Spoken:
    text: str
    read_aloud_url: str


@dataclass(frozen=True)
class Choice:
    """One thing the home offers, in the person's words: what a door shows, says or keys."""

    key: str
    digit: str | None  # the same key on the remote and the keypad; None: reached by moving
    label: str
    plain_text: str
    icon: str
    action: str


@dataclass(frozen=True)
class Button(Choice):
    read_aloud_url: str


@dataclass(frozen=True)
class Home:
    community: Community
    greeting: Spoken
    buttons: list[Button]
    font_scale: float
    read_aloud: bool
    slow_speech: bool


def choices(catalog: Catalog, community_code: str | None, locale: str, door: Door) -> list[Choice]:
    """The home's entries a door can do, in order: every door offers the same ones in the same
    words and keys, less what it cannot do (a TV cannot ring family)."""
    return [
        Choice(e.key, e.digit, localized(e.label, locale), localized(e.plain, locale), e.icon, e.action)
        for e in catalog.home(community_code)
        if door.value in e.doors
    ]


async def home(
    session: AsyncSession,
    subject: Subject,
    community_id: int | None,
    *,
    catalog: Catalog,
    read_aloud: ReadAloud,
    locale: str,
) -> Home:
    """The elder-mode home screen: a person's own (greeting by name, their font and speech
    settings), or a TV's home's (no name, large and slow)."""
    whose = await rules.home_for(session, subject, community_id)
    community = await session.get(Community, whose.community_id)
    if community is None:
        raise NotFound()
    return home_of(community, whose.person, catalog=catalog, read_aloud=read_aloud, locale=locale, door=subject.door)


def home_of(
    community: Community,
    person: Person | None,
    *,
    catalog: Catalog,
    read_aloud: ReadAloud,
    locale: str,
    door: Door,
) -> Home:
    """The home of a person known to the door (or of nobody named: large and slow)."""
    name, font_scale, aloud, slow = "", 1.5, True, True
    if person is not None:
        name, font_scale, aloud, slow = person.name, person.font_scale, person.read_aloud, person.slow_speech

    def spoken(text: str, *, shared: bool) -> str:
        return read_aloud.url(text, locale=locale, slow=slow, shared=shared)

    greeting = catalog.text(locale, "home.greeting", name=name).lstrip("，, ")
    greeting_plain = catalog.text(locale, "home.greeting_plain", name=name).lstrip("，, ")
    buttons = [
        Button(**vars(c), read_aloud_url=spoken(f"{c.label}。{c.plain_text}", shared=True))
        for c in choices(catalog, community.code, locale, door)
    ]
    return Home(
        community=community,
        greeting=Spoken(greeting, spoken(greeting_plain, shared=False)),
        buttons=buttons,
        font_scale=font_scale,
        read_aloud=aloud,
        slow_speech=slow,
    )
