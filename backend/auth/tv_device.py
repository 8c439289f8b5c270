"""TV set-top boxes sign in with a device grant (RFC 8628 style).

The box asks for a code (POST /tv/device/code), shows the short user code on screen, and
polls (POST /tv/device/token). A resident, or a family member with manage_settings for an
elder, types the code into the app (`approveTvDevice`); the box is bound to that household
and its next poll receives a device token.

A serial is what a box says about itself, not a secret: a new grant never moves a box that is
already paired with another home. Its household (or staff of its community) unpairs it first
(`unpairTvDevice`); a token issued before the box was last paired no longer opens anything.

A device code is redeemed only for the pairing it approved: the box must still be paired with
that home, by that approval (approving or unpairing voids the box's other grants), within the
grant's time. Codes asked for and wrong codes typed are limited per address and per account.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import http_body, live
from backend.access import rules
from backend.access.subject import Actor, paired_at
from backend.auth import repository
from backend.auth.errors import InvalidDeviceCode, NoHousehold, TvPairedElsewhere
from backend.auth.models import GrantStatus, TvCodeTry, TvDeviceGrant
from backend.auth.service import HOUR, retry_after
from backend.community.models import Device, DeviceKind
from backend.config import Settings
from backend.db import transaction, utcnow
from backend.errors import InvalidInput, NotFound, RateLimited
from backend.family.models import Scope
from backend.tokens import Tokens

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
TV_TOKEN_TTL = dt.timedelta(days=365)


@dataclass(frozen=True)
class StartedGrant:
    device_code: str
    user_code: str
    expires_in_s: int
    interval_s: int


def display_code(user_code: str) -> str:
    return f"{user_code[:4]} {user_code[4:]}"


async def start(session: AsyncSession, *, settings: Settings, tokens: Tokens, serial: str, ip: str) -> StartedGrant:
    serial = serial.strip()
    if not serial or len(serial) > 100:
        raise InvalidInput("serial")
    now = utcnow()
    # Each code holds a place in the space of codes a guess could hit: an address asking for
    # many fills it.
    wait = retry_after(
        await repository.grants_since(session, ip=ip, since=now - HOUR), settings.tv_codes_per_ip_per_hour, HOUR, now
    )
    if wait is not None:
        raise RateLimited(wait)
    for _ in range(20):
        # Eight digits: easy to read off a TV and type on a phone keypad.
        user_code = f"{secrets.randbelow(10**8):08d}"
        if not await repository.user_code_in_use(session, user_code, now):
            break
    device_code = tokens.new_opaque()
    session.add(
        TvDeviceGrant(
            device_code_hash=tokens.hash_opaque(device_code),
            user_code=user_code,
            serial=serial,
            expires_at=now + dt.timedelta(seconds=settings.tv_grant_ttl_s),
            ip=ip[:64],
            created_at=now,
        )
    )
    return StartedGrant(device_code, user_code, settings.tv_grant_ttl_s, settings.tv_grant_poll_interval_s)


async def approve(
    session: AsyncSession, actor: Actor, *, settings: Settings, user_code: str, elder_id: int | None, ip: str
) -> Device:
    now = utcnow()
    since = now - HOUR
    for tries, limit in (
        (
            await repository.wrong_codes_since(session, person_id=actor.id, since=since),
            settings.tv_wrong_codes_per_person_per_hour,
        ),
        (await repository.wrong_codes_since(session, ip=ip, since=since), settings.tv_wrong_codes_per_ip_per_hour),
    ):
        wait = retry_after(tries, limit, HOUR, now)
        if wait is not None:
            raise RateLimited(wait)
    code = "".join(ch for ch in user_code if ch.isdigit())
    grant = await repository.pending_grant_by_user_code(session, code, now) if len(code) == 8 else None
    if grant is None:
        session.add(TvCodeTry(person_id=actor.id, ip=ip[:64], at=now))
        raise InvalidDeviceCode()
    if elder_id is None or elder_id == actor.id:
        household_id = actor.person.household_id
    else:
        # A family member sets up the TV in their parent's home.
        elder = await rules.acting_for(session, actor, elder_id, Scope.MANAGE_SETTINGS, staff_may=False)
        household_id = elder.person.household_id
    if household_id is None:
        raise NoHousehold()
    device = await repository.device(session, DeviceKind.TV, grant.serial)
    if device is None:
        device = Device(kind=DeviceKind.TV, identifier=grant.serial)
        session.add(device)
    elif device.household_id is not None and device.household_id != household_id:
        raise TvPairedElsewhere()
    device.household_id = household_id
    device.person_id = None
    # Tokens of an earlier pairing stop here (see tv_token_current).
    pairing = now.replace(microsecond=now.microsecond // 1000 * 1000)  # tokens carry milliseconds
    device.details = {**(device.details or {}), "approved_by": actor.id, "paired_at": pairing.isoformat()}
    await session.flush()
    await repository.void_grants(session, grant.serial, keep_id=grant.id)
    grant.status = GrantStatus.APPROVED
    grant.approved_by_id = actor.id
    grant.approved_at = pairing
    # The box collects its token at its next poll: a few seconds, not the rest of the code's life.
    grant.expires_at = now + dt.timedelta(seconds=settings.tv_grant_ttl_s)
    grant.household_id = household_id
    grant.device_id = device.id
    return device


async def tv_devices(session: AsyncSession, actor: Actor, *, person_id: int | None) -> list[Device]:
    """The boxes paired with the home of `person_id` (me, an elder I manage, a resident I serve)."""
    household = await rules.home_managed_by(session, actor, person_id)
    if household is None:
        raise NoHousehold()
    return list(await repository.devices_of_household(session, DeviceKind.TV, household.id))


async def unpair(session: AsyncSession, actor: Actor, *, device_id: int) -> Device:
    """The box's own household, family with manage_settings for someone living there, or staff
    of its community free a box; someone else gets NOT_FOUND, as for a box that does not exist."""
    device = await session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.TV or device.household_id is None:
        raise NotFound()
    if not await rules.manages_home(session, actor, device.household_id):
        raise NotFound()
    now = utcnow()
    device.household_id = None
    details = {k: v for k, v in (device.details or {}).items() if k != "paired_at"}
    device.details = {**details, "unpaired_by": actor.id, "unpaired_at": now.isoformat()}
    await repository.void_grants(session, device.identifier)
    live.sessions_end(session, f"tv:{device.id}", before=now)
    return device


def redeemable(grant: TvDeviceGrant, device: Device | None, now: dt.datetime) -> bool:
    """An approved grant gives a token only for the pairing it made: the box still paired with
    the grant's home since this very approval, and the grant not yet expired."""
    if device is None or grant.approved_at is None or grant.expires_at <= now:
        return False
    since = paired_at(device)
    return (
        device.household_id is not None
        and device.household_id == grant.household_id
        and since is not None
        and since <= grant.approved_at
    )


def _oauth_error(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


async def _form(request: Request) -> dict[str, str] | None:
    try:
        return http_body.fields(await request.body(), request.headers.get("content-type", ""))
    except http_body.BadBody:
        return None


async def redeem(
    session: AsyncSession, settings: Settings, tokens: Tokens, *, device_code: str
) -> tuple[str | None, str | None]:
    """The box polls with its device code: its token once the home approved it (and it is
    still paired there), else the OAuth error to answer (RFC 8628): pending, slow down,
    expired, or invalid."""
    now = utcnow()
    grant = await repository.grant_by_device_code(session, tokens.hash_opaque(device_code))
    if grant is None or grant.status in (GrantStatus.ISSUED, GrantStatus.VOID):
        return None, "invalid_grant"
    if grant.status == GrantStatus.PENDING:
        if grant.expires_at <= now:
            return None, "expired_token"
        too_soon = grant.last_polled_at is not None and (now - grant.last_polled_at) < dt.timedelta(
            seconds=settings.tv_grant_poll_interval_s - 1
        )
        grant.last_polled_at = now
        return None, "slow_down" if too_soon else "authorization_pending"
    device = await session.get(Device, grant.device_id) if grant.device_id is not None else None
    if not redeemable(grant, device, now):
        grant.status = GrantStatus.VOID
        return None, "expired_token" if grant.expires_at <= now else "invalid_grant"
    grant.status = GrantStatus.ISSUED
    return tokens.access_token(f"tv:{grant.device_id}", ttl=TV_TOKEN_TTL), None


def _code_answer(settings: Settings, grant: StartedGrant) -> dict[str, Any]:
    base = settings.public_base_url.rstrip("/")
    return {
        "device_code": grant.device_code,
        "user_code": display_code(grant.user_code),
        "verification_uri": f"{base}/app/tv",
        # What the TV's QR code opens: the same page with the code filled in.
        "verification_uri_complete": f"{base}/app/tv?code={grant.user_code}",
        "expires_in": grant.expires_in_s,
        "interval": grant.interval_s,
    }


def router(factory: async_sessionmaker[AsyncSession], settings: Settings, tokens: Tokens) -> APIRouter:
    api = APIRouter(prefix="/tv/device", tags=["tv"])

    @api.post("/code")
    async def device_code(request: Request) -> JSONResponse:
        form = await _form(request)
        if form is None:
            return _oauth_error("invalid_request")
        ip = request.client.host if request.client else "unknown"
        try:
            async with transaction(factory) as session:
                grant = await start(session, settings=settings, tokens=tokens, serial=form.get("serial", ""), ip=ip)
        except InvalidInput:
            return _oauth_error("invalid_request")
        except RateLimited as exc:
            seconds = str(exc.params["seconds"])
            return JSONResponse(
                {"error": "slow_down", "retry_after": int(seconds)},
                status_code=429,
                headers={"Cache-Control": "no-store", "Retry-After": seconds},
            )
        return JSONResponse(_code_answer(settings, grant), headers={"Cache-Control": "no-store"})

    @api.post("/token")
    async def device_token(request: Request) -> JSONResponse:
        form = await _form(request)
        if form is None:
            return _oauth_error("invalid_request")
        if form.get("grant_type") != GRANT_TYPE:
            return _oauth_error("unsupported_grant_type")
        async with transaction(factory) as session:
            token, error = await redeem(session, settings, tokens, device_code=form.get("device_code", ""))
        if token is None:
            return _oauth_error(error or "invalid_grant")
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": int(TV_TOKEN_TTL.total_seconds())},
            headers={"Cache-Control": "no-store"},
        )

    return api
