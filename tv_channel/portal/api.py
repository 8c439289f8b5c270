"""What the portal asks of the server: each screen's data and each action, in the elder's
words with a read-aloud URL, through the same services as the app and the phone line. The
frame (`frame.py`) makes HTTP of what each face offers."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from backend.parts import Parts
from tv_channel.portal import asking, home, noticeboard, shop
from tv_channel.portal.frame import Frame, router

FACES = (home.ROUTES, shop.ROUTES, noticeboard.ROUTES, asking.ROUTES)


def routes(parts: Parts, turns: asyncio.Semaphore) -> APIRouter:
    return router(Frame(parts, turns), FACES)
