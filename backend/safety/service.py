"""Official warnings: a CAP message from the warning-release system is stored, matched to the
communities it covers, and shown where it is at or above the community's threshold, on every
box of the area at once, on the channel, in the apps and on the voice path. An Update
replaces what it references, a Cancel ends it, and its expiry takes it off by itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs, live
from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import Community
from backend.content.read_aloud import ReadAloud
from backend.db import utcnow
from backend.errors import InvalidInput
from backend.safety import cap
from backend.safety.models import OfficialWarning, Severity, WarningArea, WarningPolicy

ISSUED = "safety.warning_issued"  # payload: {"warning_id", "community_ids"}: tell people, maybe a roll-call
CHANGED = "safety.warnings_changed"  # payload: {"community_id"}: the channel shows warnings in force
EXPIRE = "safety.warning_expires"  # job: the warning's time is up
CAP_LOCALE = "zh-CN"  # the warning-release system writes in Mandarin: read it so


def boxes_channel(community_id: int) -> str:
    """Every set-top box of a community: a warning goes to all of them at once."""
    return f"community:{community_id}:boxes"


@dataclass(frozen=True)
class Received:
    warning: OfficialWarning
    new: bool
    shown_in: tuple[int, ...]  # communities where it shows now
    ended: tuple[int, ...]  # warnings it replaced or called off


def _severity(value: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        return Severity.UNKNOWN


async def policies(session: AsyncSession, community_ids: Sequence[int]) -> dict[int, WarningPolicy]:
    rows = await session.scalars(select(WarningPolicy).where(WarningPolicy.community_id.in_(list(community_ids))))
    found = {p.community_id: p for p in rows}
    return {
        cid: found.get(cid) or WarningPolicy(community_id=cid, show_from=Severity.MODERATE, roll_call_minutes=60)
        for cid in community_ids
    }


def in_force(w: OfficialWarning, now: dt.datetime) -> bool:
    return (
        w.status == "Actual"
        and w.msg_type in ("Alert", "Update")
        and w.ended_at is None
        and (w.expires is None or w.expires > now)
        and (w.effective is None or w.effective <= now)
    )


async def receive(session: AsyncSession, *, sender: str, body: bytes, read_aloud: ReadAloud) -> Received:
    """Store a CAP message and act on it. The same message twice does nothing more."""
    message = cap.parse(body)
    if message.sender != sender:
        raise InvalidInput("sender")
    existing = await session.scalar(
        select(OfficialWarning).where(
            OfficialWarning.sender == message.sender, OfficialWarning.identifier == message.identifier
        )
    )
    if existing is not None:
        where = await session.scalars(
            select(WarningArea.community_id).where(WarningArea.warning_id == existing.id, WarningArea.shown)
        )
        return Received(existing, False, tuple(where), ())
    now = utcnow()
    warning = _stored(message)
    session.add(warning)
    await session.flush()
    ended = await _end_referenced(session, message, warning, now)
    touched = await _ended_areas(session, ended)
    shown_in: list[int] = []
    if message.msg_type in ("Alert", "Update"):
        shown_in = await _show(session, message, warning, now, touched, read_aloud)
    for cid in sorted(touched):
        events.emit(session, CHANGED, {"community_id": cid})
    return Received(warning, True, tuple(shown_in), tuple(w.id for w in ended))


def _stored(message: cap.Message) -> OfficialWarning:
    return OfficialWarning(
        sender=message.sender,
        identifier=message.identifier,
        sent=message.sent,
        msg_type=message.msg_type,
        status=message.status,
        event=message.event[:200],
        severity=_severity(message.severity),
        urgency=message.urgency or "Unknown",
        certainty=message.certainty or "Unknown",
        headline=(message.headline or message.event)[:300],
        description=message.description,
        instruction=message.instruction,
        effective=message.effective,
        expires=message.expires,
        area=[a.as_json() for a in message.areas],
        references=list(message.references),
    )


async def _end_referenced(
    session: AsyncSession, message: cap.Message, warning: OfficialWarning, now: dt.datetime
) -> list[OfficialWarning]:
    """An Update or a Cancel ends what it refers to (only the same sender's)."""
    ended: list[OfficialWarning] = []
    if message.msg_type not in ("Update", "Cancel") or message.status != "Actual":
        return ended
    for ref in message.references:
        pair = cap.reference(ref)
        if pair is None or pair[0] != message.sender:
            continue
        old = await session.scalar(
            select(OfficialWarning).where(OfficialWarning.sender == pair[0], OfficialWarning.identifier == pair[1])
        )
        if old is not None and old.ended_at is None:
            old.ended_at, old.ended_by_id = now, warning.id
            ended.append(old)
    return ended


async def _ended_areas(session: AsyncSession, ended: list[OfficialWarning]) -> set[int]:
    """The communities the ended warnings were for; the boxes that showed one take it down."""
    touched: set[int] = set()
    for old in ended:
        areas = await session.scalars(select(WarningArea).where(WarningArea.warning_id == old.id))
        for a in areas:
            touched.add(a.community_id)
            if a.shown:
                live.after_commit(session, [(boxes_channel(a.community_id), {"kind": "warning_ended", "id": old.id})])
    return touched


async def _show(
    session: AsyncSession,
    message: cap.Message,
    warning: OfficialWarning,
    now: dt.datetime,
    touched: set[int],
    read_aloud: ReadAloud,
) -> list[int]:
    """The communities the warning's areas cover, each shown it when it is in force and severe
    enough for the community's policy: the ids it is shown in."""
    communities = (await session.scalars(select(Community))).all()
    covered = [
        c
        for c in communities
        if any(cap.covers(a, area_code=c.area_code, lat=c.latitude, lon=c.longitude) for a in message.areas)
    ]
    rules_of = await policies(session, [c.id for c in covered])
    showing = in_force(warning, now)
    shown_in: list[int] = []
    for c in covered:
        shown = showing and warning.severity.rank >= rules_of[c.id].show_from.rank
        session.add(WarningArea(warning_id=warning.id, community_id=c.id, shown=shown))
        touched.add(c.id)
        if shown:
            shown_in.append(c.id)
    await session.flush()
    if shown_in:
        # Straight to every box of the area once this commits: nothing on the way.
        overlay = overlay_of(warning, read_aloud)
        live.after_commit(session, [(boxes_channel(cid), overlay) for cid in shown_in])
        events.emit(session, ISSUED, {"warning_id": warning.id, "community_ids": shown_in})
        if warning.expires is not None:
            await jobs.schedule(
                session, EXPIRE, warning.expires, {"warning_id": warning.id}, key=f"warning:{warning.id}"
            )
    return shown_in


def words(w: OfficialWarning) -> str:
    return "。".join(part for part in (w.headline, w.description, w.instruction) if part)


def overlay_of(w: OfficialWarning, read_aloud: ReadAloud) -> dict[str, object]:
    return {
        "kind": "warning",
        "id": w.id,
        "title": w.headline or w.event,
        "body": "\n".join(part for part in (w.description, w.instruction) if part),
        "severity": w.severity.value,
        "expires": w.expires.isoformat() if w.expires else None,
        "readAloudUrl": read_aloud.url(words(w), locale=CAP_LOCALE, slow=True, shared=True),
    }


async def shown_now(session: AsyncSession, community_id: int, now: dt.datetime) -> list[OfficialWarning]:
    """The warnings a community's screens show now, most severe first."""
    rows = await session.scalars(
        select(OfficialWarning)
        .join(WarningArea, WarningArea.warning_id == OfficialWarning.id)
        .where(WarningArea.community_id == community_id, WarningArea.shown, OfficialWarning.ended_at.is_(None))
        .order_by(OfficialWarning.sent.desc())
    )
    found = [w for w in rows if in_force(w, now)]
    return sorted(found, key=lambda w: -w.severity.rank)


async def next_end(session: AsyncSession, community_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the soonest warning shown now expires: the channel takes it off then."""
    ends = [w.expires for w in await shown_now(session, community_id, now) if w.expires is not None]
    return min(ends) if ends else None


async def expired(session: AsyncSession, warning_id: int) -> list[int]:
    """The warning's time is up: the communities whose screens take it off."""
    areas = (
        await session.scalars(select(WarningArea).where(WarningArea.warning_id == warning_id, WarningArea.shown))
    ).all()
    live.after_commit(
        session, [(boxes_channel(a.community_id), {"kind": "warning_ended", "id": warning_id}) for a in areas]
    )
    for a in areas:
        events.emit(session, CHANGED, {"community_id": a.community_id})
    return [a.community_id for a in areas]


async def set_policy(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    show_from: Severity,
    roll_call_from: Severity | None,
    roll_call_minutes: int,
) -> WarningPolicy:
    rules.require_staff_of(actor, community_id)
    if not 10 <= roll_call_minutes <= 24 * 60:
        raise InvalidInput("rollCallMinutes", field="rollCallMinutes")
    row = await session.get(WarningPolicy, community_id, with_for_update=True)
    if row is None:
        row = WarningPolicy(community_id=community_id)
        session.add(row)
    row.show_from, row.roll_call_from, row.roll_call_minutes = show_from, roll_call_from, roll_call_minutes
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    await session.flush()
    return row
