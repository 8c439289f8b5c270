"""The portal's frame: the box's token to its home, the elder's words and read-aloud, and the
routes each face of the house offers on the TV (`home`, `shop`, `noticeboard`, `asking`)
made into HTTP with one way of reading, acting and refusing.

Every route takes the box's token (`Authorization: Bearer`); a box unpaired since gets 401
and shows the pairing screen again. Expected failures come back as 409 with the code and a
message the elder can act on; nothing is half done (each action is one transaction)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from backend import http_body
from backend.community import service as community
from backend.db import transaction
from backend.emergency import service as emergency
from backend.errors import DomainError, NotFound
from backend.gql.errors import message_for
from backend.parts import Parts
from tv_channel.portal.household import TvHome, bearer, tv_home


class Unpaired(Exception):
    pass


class Frame:
    """What every face of the portal uses: the box's home, the elder's words and their sound."""

    def __init__(self, parts: Parts, turns: asyncio.Semaphore) -> None:
        self.parts = parts
        self.settings = parts.settings
        self.texts = parts.catalog
        self.turns = turns  # the boxes' turns at the database (shared with the live connection)

    async def home_of(self, session: AsyncSession, request: Request, *, roles: bool = True) -> TvHome:
        token = bearer(request.headers.get("authorization"))
        home = await tv_home(session, self.settings, self.parts.tokens, token, with_roles=roles)
        if home is None:
            raise Unpaired()
        return home

    def t(self, home: TvHome, key: str, **params: object) -> str:
        return self.texts.text(home.locale, f"tv.portal.{key}", **params)

    def said(self, home: TvHome, text: str, *, shared: bool = False) -> dict[str, str]:
        """A text and where to hear it, in the elder's language and pace."""
        url = self.parts.read_aloud.url(text, locale=home.locale, slow=home.slow, shared=shared)
        return {"text": text, "readAloudUrl": url}

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.settings.zone)

    def when(self, home: TvHome, at: dt.datetime) -> str:
        local = self.local(at)
        weekday = self.texts.section(home.locale, "tv.portal.services").get("weekdays", [""] * 7)[local.weekday()]
        return self.t(home, "services.slot", month=local.month, day=local.day, weekday=weekday, time=f"{local:%H:%M}")

    def refused(self, home: TvHome | None, error: DomainError, status: int = 409) -> JSONResponse:
        locale = home.locale if home is not None else None
        message = message_for(error, locale, self.texts)
        body: dict[str, Any] = {"code": error.code, "message": message}
        if home is not None:
            body |= {"readAloudUrl": self.said(home, message)["readAloudUrl"]}
        return JSONResponse(body, status_code=status)

    async def read(self, request: Request, route: Route) -> JSONResponse:
        home = None
        try:
            async with self.turns, self.parts.factory() as session:  # reads only: no write turn
                home = await self.home_of(session, request, roles=route.roles)
                return JSONResponse(await route.handler(self, session, home, **request.path_params))
        except Unpaired:
            return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        except DomainError as exc:
            return self.refused(home, exc, 404 if isinstance(exc, NotFound) else 409)

    async def act(self, request: Request, route: Route) -> JSONResponse:
        body = await _body(request)
        if body is None:
            return JSONResponse({"code": "INVALID_INPUT"}, status_code=400)
        home = None
        try:
            async with self.turns, transaction(self.parts.factory) as session:
                home = await self.home_of(session, request)
                answer = await route.handler(self, session, home, body, **request.path_params)
                community.sign_of_life(session, person_id=home.elder.id, household_id=home.household.id, door="tv")
                return JSONResponse(answer)
        except Unpaired:
            return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        except DomainError as exc:
            return self.refused(home, exc)

    async def alarm(self, request: Request) -> JSONResponse:
        """The red key: through the alarm desk like every door, stored before this answers,
        without waiting behind other boxes' screens."""
        body = await _body(request)
        if body is None:
            return JSONResponse({"code": "INVALID_INPUT"}, status_code=400)
        async with self.parts.factory() as session:
            try:
                home = await self.home_of(session, request, roles=False)
            except Unpaired:
                return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        key = str(body.get("key", ""))
        try:
            emergency.check_key(key or None)
            pressed: emergency.Pressed = await self.parts.alarm_desk.press(emergency.press_by(home.raiser, key or None))
        except DomainError as exc:
            return self.refused(home, exc)
        return JSONResponse(reply_to_alarm(self, home, pressed))


@dataclass(frozen=True)
class Route:
    """One thing a face offers the box. GET: a screen, `handler(frame, session, home, **path)`
    read without a write turn; POST: an action, `handler(frame, session, home, body, **path)`
    in one transaction, a sign of life. `roles`: the screen asks the services as the elder
    (her menu, her orders), which needs her roles; the others do not load them."""

    method: str
    path: str
    handler: Callable[..., Awaitable[dict[str, Any]]]
    roles: bool = False


async def _body(request: Request) -> dict[str, Any] | None:
    """An action's JSON object; None for a body nobody sent in good faith: not JSON, not an
    object, nested too deep."""
    try:
        return http_body.json_object(await request.body())
    except http_body.BadBody:
        return None


def router(frame: Frame, faces: Sequence[Sequence[Route]]) -> APIRouter:
    api = APIRouter(prefix="/tv/portal/api")
    for face in faces:
        for route in face:
            api.add_api_route(route.path, _endpoint(frame, route), methods=[route.method])
    api.add_api_route("/alarm", frame.alarm, methods=["POST"])
    return api


def _endpoint(frame: Frame, route: Route) -> Callable[[Request], Awaitable[JSONResponse]]:
    run = frame.read if route.method == "GET" else frame.act

    async def answer(request: Request) -> JSONResponse:
        return await run(request, route)

    return answer


def reply_to_alarm(frame: Frame, home: TvHome, pressed: emergency.Pressed) -> dict[str, Any]:
    """What happened to her alarm, in her words: after the red key, and each time the box asks."""
    text = emergency.reply_text(frame.texts, home.locale, pressed)
    return {"alertId": pressed.alert.id, "status": pressed.alert.status.value, **frame.said(home, text)}
