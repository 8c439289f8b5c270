"""The channel's HTTP face: the HLS loop for the head-end, the XMLTV guide and the JSON feed
for set-top-box middleware. All of it is what the channel broadcasts anyway (the community's
notices, menu, events and public numbers): no sign-in, nothing personal."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response

from backend.bulletin import service as bulletin
from backend.bulletin.models import Announcement, CommunityEvent
from backend.commerce import service as commerce
from backend.community.models import Community
from backend.db import utcnow
from backend.parts import Parts
from tv_channel.guide import guide
from tv_channel.loop import ChannelLoops, Loop
from tv_channel.pages import CHANNEL_LOCALE
from tv_channel.portal import api as portal_api
from tv_channel.portal import live as portal_live
from tv_channel.portal import page as portal_page

PLAYLIST = "application/vnd.apple.mpegurl"
SEGMENT = "video/mp2t"


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _on_air(loop: Loop | None, base: str) -> dict[str, Any] | None:
    if loop is None:
        return None
    return {
        "name": loop.name,
        "playlist": f"{base}/tv/channels/{loop.community_id}/index.m3u8",
        "version": loop.version,
        "onAirAt": loop.on_air_at.isoformat(),
        "loopSeconds": loop.seconds,
        "pages": [
            {"kind": p.kind, "title": p.title, "description": p.description, "startS": p.start_s, "seconds": p.seconds}
            for p in loop.pages
        ],
    }


def router(parts: Parts) -> APIRouter:
    """The channel's routes, and the portal's (its page, its screens' data, its live stream)."""
    everything = APIRouter(include_in_schema=False)
    turns = asyncio.Semaphore(parts.settings.tv_portal_concurrency)
    everything.include_router(channel_router(parts))
    everything.include_router(portal_api.routes(parts, turns))
    everything.include_router(portal_live.router(parts, portal_live.Boxes(parts), turns))
    everything.include_router(portal_page.router(parts))
    return everything


def channel_router(parts: Parts) -> APIRouter:
    loops = ChannelLoops(parts.settings, parts.synthesizer)
    base = parts.settings.public_base_url
    api = APIRouter(prefix="/tv", include_in_schema=False)

    def on_air(community_id: int) -> Loop:
        loop = loops.current(community_id)
        if loop is None:
            raise HTTPException(404, "no loop on air for this channel yet")
        return loop

    @api.get("/channels/{community_id}/index.m3u8")
    async def playlist(community_id: int) -> FileResponse:
        # Asked again every few seconds by the head-end: a rebuild shows at the next ask.
        return FileResponse(
            loops.playlist(on_air(community_id)), media_type=PLAYLIST, headers={"Cache-Control": "no-cache"}
        )

    @api.get("/channels/{community_id}/{version}/{name}")
    async def segment(community_id: int, version: str, name: str) -> FileResponse:
        path = loops.segment(community_id, version, name)
        if path is None:
            raise HTTPException(404, "no such segment")
        return FileResponse(path, media_type=SEGMENT, headers={"Cache-Control": "public, max-age=86400, immutable"})

    @api.get("/guide.xml")
    async def programme_guide() -> Response:
        body = guide(
            loops.all_current(),
            now=utcnow(),
            hours=parts.settings.tv_guide_hours,
            zone=parts.settings.zone,
            base_url=base,
            genres=parts.catalog.section(CHANNEL_LOCALE, "tv.channel.genres"),
        )
        return Response(body, media_type="application/xml", headers={"Cache-Control": "max-age=60"})

    @api.get("/channels/{community_id}/feed.json")
    async def feed(community_id: int) -> JSONResponse:
        """What the channel shows, as data: the middleware draws its own screens from it."""
        body = await _feed(parts, loops, community_id)
        if body is None:
            raise HTTPException(404, "no such community")
        return JSONResponse(body, headers={"Cache-Control": "max-age=30"})

    return api


async def _feed(parts: Parts, loops: ChannelLoops, community_id: int) -> dict[str, Any] | None:
    now = utcnow()
    base = parts.settings.public_base_url
    async with parts.factory() as session:
        community = await session.get(Community, community_id)
        if community is None:
            return None
        notices = await bulletin.for_channel(session, community.id, now)
        events = await bulletin.upcoming(session, community.id, now)
        taken = await bulletin.taken(session, [e.id for e in events])
        contacts = await bulletin.contacts(session, community.id)
        meals = await commerce.community_menu(
            session, parts.settings, community, texts=parts.catalog, locale=CHANNEL_LOCALE
        )
    return {
        "community": {"id": community.id, "code": community.code, "name": community.name},
        "generatedAt": now.isoformat(),
        "onAir": _on_air(loops.current(community.id), base),
        "guide": f"{base}/tv/guide.xml",
        "announcements": [_announcement(a) for a in notices],
        "events": [_event(e, max(0, e.capacity - taken[e.id][0])) for e in events],
        "menu": [_meal(m) for m in meals],
        "contacts": [{"kind": c.kind.value, "name": c.name, "phone": c.phone, "hours": c.hours} for c in contacts],
    }


def _announcement(a: Announcement) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "title": a.title,
        "plainText": a.plain,
        "body": a.body,
        "audience": a.audience.value,
        "minAge": a.min_age,
        "from": a.starts_at.isoformat(),
        "until": _iso(a.ends_at),
    }


def _event(e: CommunityEvent, places_left: int) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "title": e.title,
        "plainText": e.plain,
        "place": e.place,
        "startsAt": e.starts_at.isoformat(),
        "endsAt": e.ends_at.isoformat(),
        "capacity": e.capacity,
        "placesLeft": places_left,
    }


def _meal(m: commerce.Meal) -> dict[str, Any]:
    return {
        "canteen": m.merchant_name,
        "meal": m.meal,
        "mealName": m.meal_name,
        "orderBefore": m.order_before,
        "dishes": [{"name": d.name, "priceFen": d.price_fen} for d in m.dishes],
    }
