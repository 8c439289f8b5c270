"""The channel loop is rebuilt by durable jobs, never on request: soon after what it shows
changes (a burst of edits rebuilds it once), when something it shows begins or ends by
itself, and every night for the new day's menu and events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.bulletin import service as bulletin
from backend.community.models import Community
from backend.db import utcnow
from backend.events import Event, consumer
from backend.jobs import Job, JobRun, JobStatus
from backend.parts import Parts
from backend.safety import service as safety
from tv_channel.loop import ChannelLoops
from tv_channel.pages import channel_for

REBUILD = "tv.rebuild"
NIGHTLY = "tv.nightly"
NIGHTLY_AT = dt.time(0, 1)  # local time: a new day's menu and events
jobs.standing(NIGHTLY)


def rebuild_key(community_id: int) -> str:
    return f"tv:rebuild:{community_id}"


async def rebuild_at(session: AsyncSession, community_id: int, at: dt.datetime) -> None:
    """A rebuild at `at`, or sooner if one is already waiting: edits in a burst share one."""
    pending = await session.scalar(
        select(Job).where(Job.dedupe_key == rebuild_key(community_id), Job.status == JobStatus.PENDING)
    )
    if pending is not None and pending.run_at <= at:
        return
    await jobs.schedule(session, REBUILD, at, {"community_id": community_id}, key=rebuild_key(community_id))


@consumer(bulletin.CHANGED, name="tv.rebuild_soon")
async def rebuild_soon(session: AsyncSession, event: Event, parts: Parts) -> None:
    delay = dt.timedelta(seconds=parts.settings.tv_rebuild_delay_s)
    await rebuild_at(session, int(event.payload["community_id"]), utcnow() + delay)


@consumer(safety.CHANGED, name="tv.rebuild_for_warnings")
async def rebuild_for_warnings(session: AsyncSession, event: Event, parts: Parts) -> None:
    """A warning on or off the channel: at once (the boxes already show it)."""
    await rebuild_at(session, int(event.payload["community_id"]), utcnow())


@jobs.long_job_handler(REBUILD, waits=True)
async def rebuild(session: AsyncSession, run: JobRun, parts: Parts) -> jobs.Then | None:
    """Reads what the channel shows, encodes it with no write lock held (seconds of ffmpeg),
    then schedules the next rebuild for when something shown begins or ends by itself."""
    community = await session.get(Community, int(run.payload["community_id"]))
    if community is None:
        return None
    now = utcnow()
    channel = await channel_for(session, parts.settings, parts.catalog, community, now)
    changes = [
        at
        for at in (
            await bulletin.next_change(session, community.id, now),
            await safety.next_end(session, community.id, now),
        )
        if at is not None
    ]
    community_id = community.id
    await session.rollback()  # nothing held open while the loop is encoded
    await ChannelLoops(parts.settings, parts.synthesizer).build(channel)
    if not changes:
        return None
    at = min(changes) + dt.timedelta(seconds=1)

    async def then(write: AsyncSession) -> None:
        await rebuild_at(write, community_id, at)

    return then


@jobs.job_handler(NIGHTLY)
async def nightly(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """Every community's loop for the new day (and, the first time workers start, the first)."""
    now = utcnow()
    for community_id in (await session.scalars(select(Community.id).order_by(Community.id))).all():
        await rebuild_at(session, community_id, now)
    zone = parts.settings.zone
    tomorrow = now.astimezone(zone).date() + dt.timedelta(days=1)
    at = dt.datetime.combine(tomorrow, NIGHTLY_AT, tzinfo=zone).astimezone(dt.UTC)
    await jobs.schedule(session, NIGHTLY, at, key=jobs.standing_key(NIGHTLY))
