"""Asking for someone: a call back, the knowledge base and a person when it is not enough, a
neighbour's help, and the day's check-in."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.consultation.knowledge import TOPICS
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.mutual_help import screens as help_screen
from backend.mutual_help.models import HelpKind
from backend.phone import service as phone
from backend.phone.models import CallbackFor
from backend.phones import mask_phone
from backend.wellbeing import service as wellbeing
from tv_channel.portal.frame import Frame, Route
from tv_channel.portal.household import TvHome


async def callback(frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any]) -> dict[str, Any]:
    """A call-back request for the service centre's list; the elder's number as she sees it."""
    await phone.ask_callback(
        session,
        frame.parts,
        phone=home.elder.phone,
        call_id=None,
        person=home.elder,
        community_id=home.community.id,
        asked_of=CallbackFor.CENTRE,
        reason="tv",
    )
    return frame.said(home, frame.t(home, "callback.done", phone=mask_phone(home.elder.phone)))


async def topics(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    return {
        "topics": [
            {"key": key, **frame.said(home, frame.texts.text(home.locale, f"consultation.topics.{key}"), shared=True)}
            for key in TOPICS
        ]
    }


async def topic(frame: Frame, session: AsyncSession, home: TvHome, topic: str) -> dict[str, Any]:
    if topic not in TOPICS:
        raise NotFound()
    articles = await frame.parts.knowledge.by_topic(home.locale, topic)
    return {
        "articles": [
            {"id": a.id, "question": a.question, "plain": a.plain, "answer": a.answer}
            | frame.said(home, f"{a.question}{a.plain}", shared=True)
            | {"askConfirm": frame.said(home, frame.t(home, "consult.ask_confirm", question=a.question))}
            for a in articles
        ]
    }


async def ask_person(
    frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any], article_id: str
) -> dict[str, Any]:
    """The elder's 还要问人: a thread at the article's desk that rings her back (the question
    is the article's); a community without that desk gets a call-back from the centre."""
    articles = await asyncio.to_thread(frame.parts.knowledge.articles, home.locale)  # may load jieba
    article = next((a for a in articles if a.id == article_id), None)
    if article is None:
        raise NotFound()
    shown = mask_phone(home.elder.phone)
    desk_kind = await phone.ask_a_person(
        session,
        frame.parts,
        elder=home.elder,
        ring_back=home.elder.phone,
        call_id=None,
        community_id=home.community.id,
        article=article,
        door="tv",
    )
    if desk_kind is None:
        return frame.said(home, frame.t(home, "consult.asked", phone=shown))
    desk = frame.texts.text(home.locale, f"consultation.desks.{desk_kind}")
    return frame.said(home, frame.t(home, "consult.asked_desk", desk=desk, phone=shown))


def help_name(frame: Frame, home: TvHome, kind: HelpKind) -> str:
    return help_screen.kind_name(frame.texts, home.locale, kind)


async def help(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    """我需要帮忙: the elder's requests and how they stand, then what she can ask for."""
    lines = await help_screen.her_help(session, home.elder.id)
    times = help_screen.times(frame.settings.zone)
    return {
        "requests": [help_line(frame, home, line) for line in lines],
        "kinds": [{"key": k.value, **frame.said(home, help_name(frame, home, k), shared=True)} for k in HelpKind],
        "times": [
            {
                "at": at.isoformat(),
                **frame.said(home, frame.when(home, at), shared=True),
                "confirm": {
                    k.value: frame.said(
                        home,
                        frame.t(home, "help.confirm_ask", when=frame.when(home, at), help=help_name(frame, home, k)),
                        shared=True,
                    )
                    for k in HelpKind
                },
            }
            for at in times
        ],
        "asking": frame.said(home, frame.t(home, "help.choose"), shared=True),
    }


def help_line(frame: Frame, home: TvHome, line: help_screen.HelpLine) -> dict[str, Any]:
    said = help_screen.line_said(frame.texts, home.locale, line, when=frame.when(home, line.request.starts_at))
    what = help_name(frame, home, line.request.kind)
    return {
        "id": line.request.id,
        "doneable": line.doneable,
        **frame.said(home, said),
        "confirmDone": frame.said(home, frame.t(home, "help.confirm_done", help=what, names="、".join(line.going))),
    }


async def ask_help(frame: Frame, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
    try:
        kind = HelpKind(str(body.get("kind")))
        at = dt.datetime.fromisoformat(str(body.get("at")))
    except ValueError as exc:
        raise InvalidInput("kind", field="kind") from exc
    asked = await help_screen.ask(
        session, frame.settings.content_dir, frame.settings.zone, elder=home.elder, kind=kind, at=at, door="tv"
    )
    return frame.said(home, frame.t(home, "help.asked" if asked else "help.nobody"))


async def help_done(
    frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any], request_id: int
) -> dict[str, Any]:
    """OK on the TV: the help was done, the volunteers' hours are credited."""
    await help_screen.done(session, frame.settings.content_dir, elder=home.elder, request_id=request_id, via="tv")
    return frame.said(home, frame.t(home, "help.thanks"))


async def check_in_due(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    """平安报 not yet given today: the box asks, and OK gives it."""
    if not await wellbeing.due_today(session, home.elder.id):
        return {"due": False}
    day = frame.local(utcnow()).date().isoformat()
    return {
        "due": True,
        "id": day,
        "title": frame.t(home, "check_in.title"),
        **frame.said(home, frame.t(home, "check_in.prompt")),
    }


async def check_in(frame: Frame, session: AsyncSession, home: TvHome, _body: dict[str, Any]) -> dict[str, Any]:
    await wellbeing.check_in(session, person=home.elder, via="tv")
    return frame.said(home, frame.t(home, "check_in.done"))


ROUTES = (
    Route("POST", "/callback", callback),
    Route("GET", "/knowledge", topics),
    Route("GET", "/knowledge/{topic}", topic),
    Route("POST", "/knowledge/{article_id}/ask", ask_person),
    Route("GET", "/help", help),
    Route("POST", "/help", ask_help),
    Route("POST", "/help/{request_id:int}/done", help_done),
    Route("GET", "/check-in", check_in_due),
    Route("POST", "/check-in", check_in),
)
