"""The mutual-help room's personal data (backend.personal): help asked and given."""

from __future__ import annotations

from backend.mutual_help.models import HelpOffer, HelpRequest, Volunteer
from backend.personal import Declared, Erase, Held

DATA: tuple[Declared, ...] = (
    Held(
        Volunteer,
        "volunteer_profile",
        why="what she offers as a volunteer, and when",
        about=("person_id",),
        public=("skills", "weekdays"),
        kept="stops when her account is deleted (nobody is asked of her again), then deleted",
    ),
    Held(
        HelpRequest,
        "help_requests",
        why="help asked for her or by her: what, when, where",
        about=("elder_id",),
        by=("asked_by_id",),
        words=("note", "place"),
        secret=("confirm_code",),
        erase=Erase.BLANK,
        blank={"note": "", "place": ""},
        kept="open ones are cancelled when her account is deleted (the volunteers are told); kept without her place or note for the time bank's record",
        notice_key="requestId",
    ),
    Held(
        HelpOffer,
        "help_offers",
        why="help she was asked for as a volunteer, and what she answered",
        about=("volunteer_id",),
        erase=Erase.KEEP,
        kept="her answers to open requests are withdrawn (the elder is told); kept for the time bank's record",
        notice_key="requestId",  # the elder was told she would come
        notice_column="request_id",
    ),
)
