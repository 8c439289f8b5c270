"""Her messages as the elder's doors show them (the home's 消息: the TV's list, a speaker's
reply): the unread ones, newest first, each its title and words."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.content.catalog import Catalog
from backend.notify import service
from backend.notify.models import Notification
from backend.parts import Parts, Screen

SHOWN = 20


def notice_said(texts: Catalog, locale: str, notice: Notification) -> str:
    return texts.text(locale, "notify.notice", title=notice.title, body=notice.body)


async def notices(session: AsyncSession, parts: Parts, actor: Actor, locale: str, /) -> Screen:
    """The home's 消息 entry for a signed-in person: her own unread messages."""
    found = await service.unread(session, actor.id, limit=SHOWN)
    return Screen(
        tuple(notice_said(parts.catalog, locale, n) for n in found), parts.catalog.text(locale, "notify.none")
    )
