"""Screens as plain data: what the elder-mode app, the TV portal and the voice dialog show or
say, built once here and mapped by each front door (GraphQL types use `of()`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Subject
from backend.community.models import Community
from backend.content.catalog import Catalog, localized
from backend.content.read_aloud import ReadAloud
from backend.errors import NotFound


@dataclass(frozen=True)
class Spoken:
    text: str
    read_aloud_url: str


@dataclass(frozen=True)
class Button:
    key: str
    label: str
    plain_text: str
    icon: str
    action: str
    read_aloud_url: str


@dataclass(frozen=True)
class Home:
    community: Community
    greeting: Spoken
    buttons: list[Button]
    font_scale: float
    read_aloud: bool


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
    name, font_scale, aloud, slow = "", 1.5, True, True
    if whose.person is not None:
        p = whose.person
        name, font_scale, aloud, slow = p.name, p.font_scale, p.read_aloud, p.slow_speech

    def spoken(text: str, *, shared: bool) -> str:
        return read_aloud.url(text, locale=locale, slow=slow, shared=shared)

    greeting = catalog.text(locale, "home.greeting", name=name).lstrip("，, ")
    greeting_plain = catalog.text(locale, "home.greeting_plain", name=name).lstrip("，, ")
    buttons = []
    for spec in catalog.home_buttons(community.code):
        label, plain = localized(spec.label, locale), localized(spec.plain, locale)
        buttons.append(Button(spec.key, label, plain, spec.icon, spec.action, spoken(f"{label}。{plain}", shared=True)))
    return Home(
        community=community,
        greeting=Spoken(greeting, spoken(greeting_plain, shared=False)),
        buttons=buttons,
        font_scale=font_scale,
        read_aloud=aloud,
    )
