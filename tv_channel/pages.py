"""The pages of a community's channel loop, as plain data: what each shows (large text), what
is read over it, and how the programme guide names it. Built from the same services the app,
the portal and the phone line use; nothing here advertises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulletin import service as bulletin
from backend.bulletin.models import NoticeKind
from backend.commerce import service as commerce
from backend.community.models import Community
from backend.config import Settings
from backend.content.catalog import Catalog
from backend.safety import service as safety

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


def price(fen: int) -> str:
    """12 (yuan), 12.5, 12.05: as a price is said."""
    whole, cents = divmod(fen, 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")


def _local(at: dt.datetime, settings: Settings) -> dt.datetime:
    return at.astimezone(settings.zone)


async def channel_for(
    session: AsyncSession, settings: Settings, texts: Catalog, community: Community, now: dt.datetime
) -> Channel:
    """Warnings first, then policies and announcements, today's canteen, events and classes,
    and the numbers to ring."""
    loc = CHANNEL_LOCALE

    def t(key: str, **params: object) -> str:
        return texts.text(loc, f"tv.channel.{key}", **params)

    pages: list[Page] = []
    for warning in await safety.shown_now(session, community.id, now):
        pages.append(
            Page(
                kind="warning",
                title=warning.headline or warning.event,
                lines=(t("warning"), *(part for part in (warning.description, warning.instruction) if part)),
                narration=t("warning_say", words=safety.words(warning)),
                description=warning.description or warning.headline,
            )
        )
    for notice in (await bulletin.for_channel(session, community.id, now))[:MOST_NOTICES]:
        kind = "policy" if notice.kind == NoticeKind.POLICY else "announcement"
        pages.append(
            Page(
                kind=kind,
                title=notice.title,
                lines=(t(kind), notice.plain),
                narration=t(f"{kind}_say", title=notice.title, plain=notice.plain),
                description=notice.plain,
            )
        )

    meals = await commerce.community_menu(session, settings, community, texts=texts, locale=loc)
    for meal in meals:
        if not meal.dishes:
            continue
        dishes = [t("dish", name=d.name, price=price(d.price_fen)) for d in meal.dishes]
        heading = t("menu_heading", merchant=meal.merchant_name, meal=meal.meal_name)
        pages.append(
            Page(
                kind="menu",
                title=heading,
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
        )

    events = (await bulletin.upcoming(session, community.id, now))[:MOST_EVENTS]
    if events:
        items = []
        for e in events:
            start = _local(e.starts_at, settings)
            when = t("event_when", month=start.month, day=start.day, time=f"{start:%H:%M}")
            items.append((when, e))
        lines = tuple(t("event_line", when=when, title=e.title, place=e.place) for when, e in items)
        pages.append(
            Page(
                kind="events",
                title=t("events"),
                lines=(*lines, t("events_how")),
                narration=" ".join(t("event_say", when=when, title=e.title, place=e.place) for when, e in items)
                + t("events_how"),
                description=t("list_joiner").join(e.title for _, e in items),
            )
        )

    contacts = await bulletin.contacts(session, community.id)
    if contacts:
        pages.append(
            Page(
                kind="contacts",
                title=t("contacts"),
                lines=tuple(t("contact_line", name=c.name, phone=c.phone) for c in contacts),
                narration=" ".join(t("contact_say", name=c.name, phone=c.phone) for c in contacts),
                description=t("list_joiner").join(c.name for c in contacts),
            )
        )

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


def _shown_phone(e164: str) -> str:
    """+862988880001 as a resident dials it: 029-88880001 (a landline with its area code)."""
    if e164.startswith("+861"):
        return e164[3:]
    if e164.startswith("+86"):
        national = "0" + e164[3:]
        area = 3 if national[1] in "12" else 4  # 010, 021…029 are three digits; 0755 four
        return f"{national[:area]}-{national[area:]}"
    return e164
