"""The bulletin room's personal data (backend.personal): sign-ups for events."""

from __future__ import annotations

from backend.bulletin.models import Announcement, CommunityEvent, Contact, EventSignup
from backend.personal import Declared, Held, NotPersonal

DATA: tuple[Declared, ...] = (
    Held(
        EventSignup,
        "event_signups",
        why="the events and classes she signed up for (or waits for)",
        about=("person_id",),
        by=("signed_up_by_id",),
        kept="withdrawn when her account is deleted (the next in line gets the place), then deleted",
    ),
    NotPersonal(Announcement, "notices and policies staff publish for everyone", acting=("published_by_id",)),
    NotPersonal(CommunityEvent, "events and classes staff publish for everyone", acting=("created_by_id",)),
    NotPersonal(Contact, "public numbers the community lists for everyone"),
)
