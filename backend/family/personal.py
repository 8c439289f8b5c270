"""The family room's personal data (backend.personal): links between an elder and her family."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from backend.family.models import FamilyLink, FamilyLinkEvent
from backend.personal import Declared, Erase, Held


def _her_links(pid: int) -> Select[Any]:
    return select(FamilyLink.id).where(or_(FamilyLink.elder_id == pid, FamilyLink.family_id == pid))


DATA: tuple[Declared, ...] = (
    Held(
        FamilyLink,
        "family_links",
        why="who may act for her, in which consented scopes (her consent, when and how given)",
        about=("elder_id", "family_id"),
        acting=("initiated_by_id", "elder_consent_by_id", "ended_by_id"),
        public=("scopes",),
        erase=Erase.KEEP,
        kept="ended when her account is deleted; the ended link stays, pointing at the pseudonym, as the other side's record",
        notice_key="linkId",
    ),
    Held(
        FamilyLinkEvent,
        "family_link_history",
        why="each step of a link: asked, consented, revoked, by whom",
        rows=lambda pid: FamilyLinkEvent.link_id.in_(_her_links(pid)),
        acting=("actor_id",),
        words=("detail",),
        erase=Erase.BLANK,
        blank={"detail": {}},
        kept="the steps stay without their details, as the other side's record",
    ),
)
