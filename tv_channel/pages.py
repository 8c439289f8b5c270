"""The pages of a community's channel loop, as plain data: what each shows (large text), what
is read over it, and how the programme guide names it. Built from the same services the app,
the portal and the phone line use; nothing here advertises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulletin import service as bulletin
from backend.bulletin.models import Announcement, CommunityEvent, Contact, NoticeKind
from backend.commerce import service as commerce
from backend.commerce.screens import yuan
from backend.community.models import Community
from backend.config import Settings
from backend.content.catalog import Catalog
from backend.safety import service as safety
from backend.safety.models import OfficialWarning

CHANNEL_LOCALE = "zh-CN"  # a broadcast has one language: the subdistrict's
MOST_NOTICES = 8  # newest first; older ones stay in the portal and the app
MOST_EVENTS = 5


@dataclass(frozen=True)
class Page:
    kind: str  # warning | policy | announcement | menu | events | contacts | welcome
    title: str  # the heading on screen and the programme's title in the guide
    lines: tuple[str, ...]  # the large text, one item per line (wrapped when drawn)
    narration: str  # read over the picture, slowly
    description: str  # the guide's description

    def identity(self) -> tuple[str, ...]:
        return (self.kind, self.title, *self.lines, "\x1f", self.narration)


@dataclass(frozen=True)
class Channel:
    community_id: int
    code: str
    name: str  # "幸福社区频道"
    footer: str  # how to get help, on every page
    pages: tuple[Page, ...]


def _local(at: dt.datetime, settings: Settings) -> dt.datetime:
    return at.astimezone(settings.zone)


async def channel_for(
    session: AsyncSession, settings: Settings, texts: Catalog, community: Community, now: dt.datetime
) -> Channel:
    """Warnings first, then policies and announcements, today's canteen, events and classes,
    and the numbers to ring."""

    def t(key: str, **params: object) -> str:
        return texts.text(CHANNEL_LOCALE, f"tv.channel.{key}", **params)

    meals = await commerce.community_menu(session, settings, community, texts=texts, locale=CHANNEL_LOCALE)
    pages = [
        *[_warning_page(t, w) for w in await safety.shown_now(session, community.id, now)],
        *[_notice_page(t, n) for n in (await bulletin.for_channel(session, community.id, now))[:MOST_NOTICES]],
        *[_menu_page(t, meal) for meal in meals if meal.dishes],
        *_events_page(t, settings, (await bulletin.upcoming(session, community.id, now))[:MOST_EVENTS]),
        *_contacts_page(t, await bulletin.contacts(session, community.id)),
    ]
    if not pages:  # a channel never shows nothing: at least who it is and how to get help
        pages.append(
            Page(
                kind="welcome",
                title=t("welcome", community=community.name),
                lines=(t("welcome_plain"),),
                narration=t("welcome", community=community.name) + t("welcome_plain"),
                description=t("welcome_plain"),
            )
        )
    phone = community.service_phone
    footer = t("footer", phone=_shown_phone(phone)) if phone else t("footer_no_phone")
    return Channel(community.id, community.code, t("name", community=community.name), footer, tuple(pages))


Words = Callable[..., str]  # a key of tv.channel and its params -> the channel's words


def _warning_page(t: Words, warning: OfficialWarning) -> Page:
    return Page(
        kind="warning",
        title=warning.headline or warning.event,
        lines=(t("warning"), *(part for part in (warning.description, warning.instruction) if part)),
        narration=t("warning_say", words=safety.words(warning)),
        description=warning.description or warning.headline,
    )


def _notice_page(t: Words, notice: Announcement) -> Page:
    kind = "policy" if notice.kind == NoticeKind.POLICY else "announcement"
    return Page(
        kind=kind,
        title=notice.title,
        lines=(t(kind), notice.plain),
        narration=t(f"{kind}_say", title=notice.title, plain=notice.plain),
        description=notice.plain,
    )


def _menu_page(t: Words, meal: commerce.Meal) -> Page:
    dishes = [t("dish", name=d.name, price=yuan(d.price_fen)) for d in meal.dishes]
    return Page(
        kind="menu",
        title=t("menu_heading", merchant=meal.merchant_name, meal=meal.meal_name),
        lines=(*dishes, t("menu_order_before", before=meal.order_before)),
        narration=t(
            "menu_say",
            merchant=meal.merchant_name,
            meal=meal.meal_name,
            dishes=t("list_joiner").join(dishes),
            before=meal.order_before,
        ),
        description=t("list_joiner").join(dishes),
    )


def _events_page(t: Words, settings: Settings, events: Sequence[CommunityEvent]) -> list[Page]:
    """One page of the coming events and classes (none when nothing is coming)."""
    if not events:
        return []
    items = []
    for e in events:
        start = _local(e.starts_at, settings)
        items.append((t("event_when", month=start.month, day=start.day, time=f"{start:%H:%M}"), e))
    lines = tuple(t("event_line", when=when, title=e.title, place=e.place) for when, e in items)
    said = " ".join(t("event_say", when=when, title=e.title, place=e.place) for when, e in items)
    return [
        Page(
            kind="events",
            title=t("events"),
            lines=(*lines, t("events_how")),
            narration=said + t("events_how"),
            description=t("list_joiner").join(e.title for _, e in items),
        )
    ]


def _contacts_page(t: Words, contacts: Sequence[Contact]) -> list[Page]:
    if not contacts:
        return []
    return [
        Page(
            kind="contacts",
            title=t("contacts"),
            lines=tuple(t("contact_line", name=c.name, phone=c.phone) for c in contacts),
            narration=" ".join(t("contact_say", name=c.name, phone=c.phone) for c in contacts),
            description=t("list_joiner").join(c.name for c in contacts),
        )
    ]


def _shown_phone(e164: str) -> str:
    """+862988880001 as a resident dials it: 029-88880001 (a landline with its area code)."""
    if e164.startswith("+861"):
        return e164[3:]
    if e164.startswith("+86"):
        national = "0" + e164[3:]
        area = 3 if national[1] in "12" else 4  # 010, 021…029 are three digits; 0755 four
        return f"{national[:area]}-{national[area:]}"
    return e164
