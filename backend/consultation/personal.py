"""The consultation room's personal data (backend.personal): questions to the desks."""

from __future__ import annotations

from sqlalchemy import select

from backend.consultation.models import ConsultMessage, ConsultThread, DeskMember
from backend.personal import Declared, Erase, Held

DATA: tuple[Declared, ...] = (
    Held(
        ConsultThread,
        "consultations",
        why="her questions to the community office, the family doctor and the lawyer, and how they were answered",
        about=("elder_id",),
        by=("asked_by_id", "rated_by_id"),
        acting=("assignee_id", "closed_by_id"),
        words=("question", "ring_back", "rating_comment"),
        erase_by=Erase.BLANK,
        blank_by={"ring_back": None, "rating_comment": None},
        kept="closed when her account is deleted, then deleted; a question she asked for someone else stays theirs, without her number or comment",
        notice_key="threadId",
    ),
    Held(
        ConsultMessage,
        "consultation_messages",
        why="the messages of her questions, hers and the desk's",
        rows=lambda pid: ConsultMessage.thread_id.in_(select(ConsultThread.id).where(ConsultThread.elder_id == pid)),
        by=("author_id",),
        words=("text",),
        erase_by=Erase.BLANK,
        blank_by={"text": ""},
        kept="her words in someone else's thread are blanked",
    ),
    Held(DeskMember, "desks_served", why="the desks she answers for (a doctor, a lawyer)", about=("person_id",)),
)
