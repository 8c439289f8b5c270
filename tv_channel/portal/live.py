"""The box's one live connection (server-sent events): messages to show (the tv delivery
path), news of the home's alarm, and the end of the pairing. A box that is connected is marked
seen in the database in batches, so the tv path knows which boxes are on.

EventSource cannot send a header, so the box first trades its token for a ticket (a minute's
life) and opens `/tv/portal/events?ticket=`: the long-lived token never appears in a URL, and
the ticket, which does, opens this stream only (no screen, no action, no new ticket)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import update

from backend.community.models import Device
from backend.db import transaction, utcnow
from backend.live import SESSIONS_ENDED, box_channel, person_channel, session_channel
from backend.parts import Parts
from backend.safety.service import boxes_channel
from tv_channel.portal.household import TvHome, bearer, tv_home

log = logging.getLogger(__name__)

TICKET_TTL = dt.timedelta(seconds=60)
HEARTBEAT_S = 15.0  # a comment line now and then keeps proxies from closing a quiet stream
SEEN_EVERY_S = 30.0  # well inside notify.paths.BOX_SEEN_WITHIN


class Boxes:
    """The boxes connected to this process, marked seen together: one UPDATE for all of them
    every half minute, and soon after one connects."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.connected: Counter[int] = Counter()
        self._fresh: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def connect(self, device_id: int) -> None:
        self.connected[device_id] += 1
        self._fresh.add(device_id)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._mark_seen())

    def disconnect(self, device_id: int) -> None:
        self.connected[device_id] -= 1
        if self.connected[device_id] <= 0:
            del self.connected[device_id]

    async def _mark_seen(self) -> None:
        while self.connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SEEN_EVERY_S)
            await asyncio.sleep(0.2)  # boxes connecting together are marked together
            self._wake.clear()
            ids = sorted(set(self.connected) | self._fresh)
            self._fresh.clear()
            if not ids:
                continue
            try:
                async with transaction(self.parts.factory) as session:
                    await session.execute(update(Device).where(Device.id.in_(ids)).values(last_seen_at=utcnow()))
            except Exception:
                log.exception("marking TV boxes seen failed")


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def router(parts: Parts, boxes: Boxes, turns: asyncio.Semaphore) -> APIRouter:
    api = APIRouter(prefix="/tv/portal")

    @api.post("/api/ticket")
    async def ticket(request: Request) -> JSONResponse:
        async with turns, parts.factory() as session:
            home = await tv_home(session, parts.settings, parts.tokens, bearer(request.headers.get("authorization")))
        if home is None:
            return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        return JSONResponse({"ticket": parts.tokens.ticket(f"tv:{home.device_id}", ttl=TICKET_TTL)})

    @api.get("/events")
    async def events(request: Request, ticket: str = "") -> Any:
        async with turns, parts.factory() as session:
            home = await tv_home(session, parts.settings, parts.tokens, ticket or None, ticket=True)
        if home is None:
            return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        return StreamingResponse(
            _stream(parts, boxes, home),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return api


async def _stream(parts: Parts, boxes: Boxes, home: TvHome) -> AsyncIterator[str]:
    """The box's events until it goes or is unpaired: its home's changes, its residents'
    messages, the community's warnings and roll-calls, a heartbeat when nothing happens."""
    device_id, paired_at = home.device_id, home.claims.issued_at
    messages = parts.live.subscribe(
        box_channel(device_id),
        session_channel(f"tv:{device_id}"),
        boxes_channel(home.community.id),
        *(person_channel(p.id) for p in home.residents),
    )
    next_message = asyncio.ensure_future(anext(messages))
    boxes.connect(device_id)
    try:
        yield _event("hello", {"device": device_id})
        while True:
            done, _ = await asyncio.wait({next_message}, timeout=HEARTBEAT_S)
            if not done:
                yield ": still here\n\n"
                continue
            message = next_message.result()
            next_message = asyncio.ensure_future(anext(messages))
            said, unpaired = _said(message, paired_at)
            if said is not None:
                yield said
            if unpaired:
                return
    finally:
        boxes.disconnect(device_id)
        next_message.cancel()
        with contextlib.suppress(BaseException):
            await next_message
        await messages.aclose()


def _said(message: dict[str, Any], paired_at: dt.datetime) -> tuple[str | None, bool]:
    """What the box hears of a live message (None: nothing), and whether it was unpaired (the
    stream ends)."""
    kind = message.get("kind")
    if kind == SESSIONS_ENDED:
        before = message.get("before")
        unpaired = before is None or paired_at < dt.datetime.fromisoformat(before)
        return (_event("unpaired", {}) if unpaired else None), unpaired
    if kind == "notification" and "title" in message:
        return _event("notification", message), False  # the tv path: show it
    if kind in ("warning", "warning_ended", "roll_call", "roll_call_over"):
        return _event(kind, message), False  # to every box of the community
    return _event("changed", {"kind": kind}), False  # something of the home's moved
