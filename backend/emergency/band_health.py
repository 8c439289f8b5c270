"""A band's own health, as its vendor reports it: when it was last heard from, a low battery,
gone offline. The wearer and the family receiving alerts are told to charge it (once a day
each); staff see the bands offline for a day, since a band that is off raises no alarm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.access.subject import Actor
from backend.community import repository as community_repository
from backend.community.models import Device, DeviceKind, Membership, Person, Role
from backend.db import utcnow
from backend.errors import NotFound
from backend.notify import service as notify
from backend.parts import Parts

OFFLINE_FOR = dt.timedelta(days=1)


async def heard(session: AsyncSession, parts: Parts, *, device_id: int, kind: str) -> None:
    device = await session.get(Device, device_id, with_for_update=True)
    if device is None or device.person_id is None:
        return
    now = utcnow()
    details = dict(device.details or {})
    if kind == "offline":
        details.setdefault("offline_since", now.isoformat())
    else:
        details.pop("offline_since", None)
        device.last_seen_at = now
    if kind in ("low_battery", "offline"):
        day = now.astimezone(parts.settings.zone).date().isoformat()
        if details.get(f"told_{kind}") != day:
            details[f"told_{kind}"] = day
            await _tell(session, parts, device.person_id, kind)
    device.details = details


async def _tell(session: AsyncSession, parts: Parts, wearer_id: int, kind: str) -> None:
    wearer = await session.get(Person, wearer_id)
    if wearer is None:
        return
    family = await rules.family_receiving_alerts(session, wearer.id)
    people = await community_repository.people_by_ids(session, [wearer.id, *family])
    catalog = parts.catalog
    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind="band",
                title=catalog.text(p.locale, "emergency.band.title"),
                body=catalog.text(
                    p.locale, f"emergency.band.{kind}_{'self' if p.id == wearer.id else 'family'}", name=wearer.name
                ),
                data={"kind": "band", "personId": str(wearer.id)},
            )
            for p in people
        ],
    )


async def offline(
    session: AsyncSession, actor: Actor, *, community_id: int
) -> Sequence[tuple[Device, Person, dt.datetime]]:
    """Staff: the bands of the community's residents not heard from for a day, or gone offline
    a day ago, the longest first."""
    if not actor.is_staff_of(community_id):
        raise NotFound()
    rows = await session.execute(
        select(Device, Person)
        .join(Person, Person.id == Device.person_id)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Device.kind == DeviceKind.SOS_BAND,
            Membership.community_id == community_id,
            Membership.role == Role.RESIDENT,
            await rules.in_view(session, actor, community_id, Person.id),  # a grid worker: her grids'
        )
    )
    cutoff = utcnow() - OFFLINE_FOR
    found = []
    for device, person in rows.all():
        since_text = (device.details or {}).get("offline_since")
        since = dt.datetime.fromisoformat(since_text) if isinstance(since_text, str) else device.last_seen_at
        if since is not None and since <= cutoff:
            found.append((device, person, since))
    return sorted(found, key=lambda row: row[2])
