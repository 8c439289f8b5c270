"""What the community tells the home: messages for anyone living there, announcements, events
and sign-ups, useful numbers, official warnings and the roll-call."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulletin import screens as board
from backend.bulletin import service as bulletin
from backend.bulletin.models import SignupStatus
from backend.clock import today
from backend.db import utcnow
from backend.notify import screens as notice_screen
from backend.notify import service as notify
from backend.safety import roll_call
from backend.safety import service as safety
from tv_channel.portal.frame import Frame, Route
from tv_channel.portal.household import TvHome

MOST_NOTICES = 20


async def notices(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    found = []
    for person in home.residents:
        found += await notify.unread(session, person.id, limit=MOST_NOTICES)
    found.sort(key=lambda n: n.id, reverse=True)
    return {
        "notices": [notice(frame, home, n) for n in found[:MOST_NOTICES]],
        "none": frame.texts.text(home.locale, "notify.none"),
    }


def notice(frame: Frame, home: TvHome, n: Any) -> dict[str, Any]:
    return {
        "id": n.id,
        "title": n.title,
        "body": n.body,
        "urgent": n.urgency.value != "normal",
        **frame.said(home, notice_screen.notice_said(frame.texts, home.locale, n)),
    }


async def confirm_notice(
    frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any], notification_id: int
) -> dict[str, Any]:
    await notify.confirm_at_home(session, [p.id for p in home.residents], notification_id, by="tv")
    return frame.said(home, frame.t(home, "notices.confirmed"), shared=True)


async def announcements(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    reader = await bulletin.reader_of(session, home.residents, home.household, today(frame.settings.zone))
    rows = await bulletin.for_reader(session, reader, utcnow())
    return {
        "announcements": [
            {"id": a.id, "kind": a.kind.value, "title": a.title, "plain": a.plain, "body": a.body}
            | frame.said(home, board.announcement_said(frame.texts, home.locale, a), shared=True)
            for a in rows
        ],
        "none": frame.texts.text(home.locale, "bulletin.no_announcements"),
    }


async def events(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    rows = await bulletin.upcoming(session, home.community.id, utcnow())
    shown = []
    for e, left, status in await board.event_lines(session, home.elder.id, rows):
        when = board.when(frame.texts, home.locale, frame.local(e.starts_at))
        state = board.event_state(frame.texts, home.locale, left, status)
        on_it = status in (SignupStatus.CONFIRMED, SignupStatus.WAITING)
        ask = "events.confirm_withdraw" if on_it else "events.confirm_signup"
        shown.append(
            {
                "id": e.id,
                "title": e.title,
                "when": when,
                "place": e.place,
                "plain": e.plain,
                "state": state,
                "mine": status.value if status is not None else None,
                "confirm": frame.said(home, frame.t(home, ask, title=e.title, when=when, place=e.place)),
                **frame.said(home, board.event_said(frame.texts, home.locale, e, when=when, state=state), shared=True),
            }
        )
    return {"events": shown, "none": frame.texts.text(home.locale, "bulletin.no_events")}


async def sign_up(
    frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any], event_id: int
) -> dict[str, Any]:
    signup = await bulletin.sign_up(session, person=home.elder, by_id=home.elder.id, door="tv", event_id=event_id)
    event = await bulletin.event(session, event_id)
    when = board.when(frame.texts, home.locale, frame.local(event.starts_at))
    key = "events.done_confirmed" if signup.status == SignupStatus.CONFIRMED else "events.done_waiting"
    return {
        "mine": signup.status.value,
        **frame.said(home, frame.t(home, key, title=event.title, when=when, place=event.place)),
    }


async def withdraw(
    frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any], event_id: int
) -> dict[str, Any]:
    await bulletin.withdraw_signup(session, person=home.elder, by_id=home.elder.id, event_id=event_id)
    return {"mine": SignupStatus.WITHDRAWN.value, **frame.said(home, frame.t(home, "events.withdrawn"), shared=True)}


async def contacts(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    rows = await bulletin.contacts(session, home.community.id)
    return {
        "contacts": [
            {"name": c.name, "phone": c.phone, "hours": c.hours}
            | frame.said(home, f"{c.name}，{c.phone}。{c.hours}", shared=True)
            for c in rows
        ]
    }


async def warnings(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    shown = await safety.shown_now(session, home.community.id, utcnow())
    return {"warnings": [safety.overlay_of(w, frame.parts.read_aloud) for w in shown]}


async def roll_calls(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    found = await roll_call.open_for_home(session, home.household.id)
    return {
        "rollCalls": [
            {
                "id": call.id,
                "answered": asked.answered_at is not None,
                "title": frame.t(home, "overlay.roll_call"),
                **frame.said(home, frame.texts.text(home.locale, "safety.tv_ask", reason=call.reason)),
            }
            for call, asked in found
        ]
    }


async def safe(
    frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any], roll_call_id: int
) -> dict[str, Any]:
    await roll_call.answer(
        session, roll_call_id=roll_call_id, household_id=home.household.id, person_id=home.elder.id, door="tv"
    )
    return frame.said(home, frame.texts.text(home.locale, "safety.answered"), shared=True)


ROUTES = (
    Route("GET", "/notices", notices),
    Route("POST", "/notices/{notification_id:int}/confirm", confirm_notice),
    Route("GET", "/announcements", announcements),
    Route("GET", "/events", events),
    Route("POST", "/events/{event_id:int}/signup", sign_up),
    Route("POST", "/events/{event_id:int}/withdraw", withdraw),
    Route("GET", "/contacts", contacts),
    Route("GET", "/warnings", warnings),
    Route("GET", "/roll-calls", roll_calls),
    Route("POST", "/roll-calls/{roll_call_id:int}/safe", safe),
)
