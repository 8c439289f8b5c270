"""The phone-app installations a person can be pushed to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Actor
from backend.community.models import Device, DeviceKind
from backend.db import utcnow
from backend.errors import InvalidInput

PLATFORMS = ("android", "ios", "harmony")
# Who delivers to the installation: FCM outside the mainland, JPush (through the phone
# vendor's own channel) inside it. Kept in the device's `vendor`.
SERVICES = ("fcm", "jpush")


async def register(session: AsyncSession, actor: Actor, *, token: str, platform: str, service: str = "fcm") -> Device:
    """Idempotent; a token seen under another person moves to this one (the phone changed hands)."""
    token = token.strip()
    if not token or len(token) > 300:
        raise InvalidInput("token", field="token")
    if platform not in PLATFORMS:
        raise InvalidInput(f"platform: {'/'.join(PLATFORMS)}", field="platform")
    if service not in SERVICES:
        raise InvalidInput(f"service: {'/'.join(SERVICES)}", field="service")
    device = (
        await session.execute(select(Device).where(Device.kind == DeviceKind.APP, Device.identifier == token))
    ).scalar_one_or_none()
    if device is None:
        device = Device(kind=DeviceKind.APP, identifier=token)
        session.add(device)
    device.person_id, device.platform, device.last_seen_at = actor.id, platform, utcnow()
    device.vendor = service
    await session.flush()
    return device


async def unregister(session: AsyncSession, actor: Actor, *, token: str) -> bool:
    result = await session.execute(
        delete(Device).where(
            Device.kind == DeviceKind.APP, Device.identifier == token.strip(), Device.person_id == actor.id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def tokens_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Each person's app installations: (token, the push service that reaches it)."""
    rows = await session.execute(
        select(Device.person_id, Device.identifier, Device.vendor)
        .where(Device.kind == DeviceKind.APP, Device.person_id.in_(person_ids))
        .order_by(Device.id)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for person_id, token, service in rows.all():
        if person_id is not None:
            found.setdefault(person_id, []).append((token, service or "fcm"))
    return found


async def prune(session: AsyncSession, tokens: Sequence[str]) -> int:
    """Forget tokens the push service says are no longer registered (the app was uninstalled)."""
    if not tokens:
        return 0
    result = await session.execute(
        delete(Device).where(Device.kind == DeviceKind.APP, Device.identifier.in_(list(tokens)))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
