"""Sign-in by phone and one-time code, sessions, the voice PIN, caller id."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend import live
from backend.access import rules
from backend.access.subject import Actor
from backend.auth import repository
from backend.auth.errors import (
    CodeExpired,
    InvalidCode,
    InvalidPin,
    InvalidRefreshToken,
    SmsNotSent,
    TooManyAttempts,
)
from backend.auth.models import LoginCode, RefreshToken
from backend.community.models import Person
from backend.config import Settings
from backend.db import utcnow
from backend.errors import NotFound, RateLimited
from backend.gateways.sms import Sms, SmsSender, SmsUnavailable
from backend.phones import InvalidPhone, normalize_caller_id, normalize_phone
from backend.tokens import Tokens, check_pin, hash_pin

HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_in_s: int
    resend_after_s: int


@dataclass(frozen=True)
class IssuedSession:
    person: Person
    access_token: str
    refresh_token: str
    access_expires_in_s: int


def _phone_or_error(raw: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise InvalidPhone()
    return phone


def retry_after(times: list[dt.datetime], limit: int, window: dt.timedelta, now: dt.datetime) -> int | None:
    """Seconds until one more is allowed, or None if allowed now."""
    if len(times) < limit:
        return None
    return int((times[len(times) - limit] + window - now).total_seconds()) + 1


class Sending(Protocol):
    """What sending a sign-in code needs of the process: the runtime's parts (or a test's)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def tokens(self) -> Tokens: ...
    @property
    def sms(self) -> SmsSender: ...


async def request_login_code(session: AsyncSession, parts: Sending, *, raw_phone: str, ip: str) -> CodeSent:
    settings, tokens, sms = parts.settings, parts.tokens, parts.sms
    phone = _phone_or_error(raw_phone)
    now = utcnow()
    by_phone = await repository.codes_since(session, phone=phone, since=now - HOUR)
    if by_phone:
        wait = int((by_phone[-1] + dt.timedelta(seconds=settings.login_code_resend_after_s) - now).total_seconds())
        if wait > 0:
            raise RateLimited(wait + 1)
    for times, limit in (
        (by_phone, settings.login_codes_per_phone_per_hour),
        (await repository.codes_since(session, ip=ip, since=now - HOUR), settings.login_codes_per_ip_per_hour),
    ):
        wait_s = retry_after(times, limit, HOUR, now)
        if wait_s is not None:
            raise RateLimited(wait_s)

    await repository.retire_open_codes(session, phone, now)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        LoginCode(
            phone=phone,
            ip=ip,
            code_hash=tokens.hash_short(phone, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.login_code_ttl_s),
        )
    )
    await session.flush()
    person = await repository.person_by_phone(session, phone)
    if person is not None and person.deleted_at is not None:
        person = None  # deleted: as if never registered
    try:
        if person is not None:
            await sms.send(phone, Sms("login_code", {"code": code}, person.locale))
        else:
            # Tell the phone's owner, not the asker, that the number is unknown.
            await sms.send(phone, Sms("not_registered"))
    except SmsUnavailable as exc:
        raise SmsNotSent() from exc  # the code is not kept: nobody could receive it
    return CodeSent(phone, settings.login_code_ttl_s, settings.login_code_resend_after_s)


async def _issue(
    session: AsyncSession, tokens: Tokens, person: Person, *, family: str | None, client: str | None
) -> IssuedSession:
    family = family or uuid.uuid4().hex
    refresh = tokens.new_opaque()
    session.add(
        RefreshToken(
            person_id=person.id,
            family=family,
            token_hash=tokens.hash_opaque(refresh),
            expires_at=utcnow() + tokens.refresh_ttl,
            client=client,
        )
    )
    return IssuedSession(
        person=person,
        access_token=tokens.access_token(f"person:{person.id}", family=family),
        refresh_token=refresh,
        access_expires_in_s=int(tokens.access_ttl.total_seconds()),
    )


async def sign_in(
    session: AsyncSession,
    *,
    settings: Settings,
    tokens: Tokens,
    raw_phone: str,
    code: str,
    client: str | None = None,
) -> IssuedSession:
    phone = _phone_or_error(raw_phone)
    await consume_code(session, settings=settings, tokens=tokens, phone=phone, code=code)
    person = await repository.person_by_phone(session, phone)
    if person is None or person.deleted_at is not None:  # no code is sent to these: a guess
        raise CodeExpired()
    return await _issue(session, tokens, person, family=None, client=client)


async def consume_code(session: AsyncSession, *, settings: Settings, tokens: Tokens, phone: str, code: str) -> None:
    """The newest SMS code sent to `phone`, used up; a wrong one counts a try (the error keeps
    that change), five wrong ones kill it. Signing in and deleting an account both ask for one."""
    now = utcnow()
    row = await repository.latest_open_code(session, phone)
    if row is None or row.expires_at <= now:
        raise CodeExpired()
    if row.attempts >= settings.login_code_max_attempts:
        raise TooManyAttempts()
    code = code.strip()
    if not (len(code) == 6 and code.isdigit() and tokens.check_short(row.code_hash, phone, code)):
        row.attempts += 1
        remaining = settings.login_code_max_attempts - row.attempts
        if remaining <= 0:
            row.consumed_at = now  # dead: a new code must be asked for
            raise TooManyAttempts()
        raise InvalidCode(remaining)
    row.consumed_at = now


async def refresh_session(session: AsyncSession, *, tokens: Tokens, refresh_token: str) -> IssuedSession:
    now = utcnow()
    row = await repository.refresh_by_hash(session, tokens.hash_opaque(refresh_token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidRefreshToken()
    if row.used_at is not None:
        # A rotated token came back: someone copied it. End that whole chain.
        await repository.revoke_refresh(session, now, family=row.family)
        raise InvalidRefreshToken()
    row.used_at = now
    person = await session.get(Person, row.person_id)
    if person is None:
        raise InvalidRefreshToken()
    return await _issue(session, tokens, person, family=row.family, client=row.client)


async def sign_out(
    session: AsyncSession,
    actor: Actor,
    *,
    tokens: Tokens,
    refresh_token: str | None,
    everywhere: bool,
) -> None:
    now = utcnow()
    subject = f"person:{actor.id}"
    if everywhere:
        await repository.revoke_refresh(session, now, person_id=actor.id)
        actor.person.tokens_valid_after = now
        # Open sockets close too: a lost phone must stop receiving alarm notices at once.
        live.sessions_end(session, subject, before=now)
        return
    if refresh_token:
        row = await repository.refresh_by_hash(session, tokens.hash_opaque(refresh_token))
        if row is not None and row.person_id == actor.id:
            await repository.revoke_refresh(session, now, family=row.family)
            live.sessions_end(session, subject, family=row.family)


async def set_voice_pin(session: AsyncSession, actor: Actor, *, pin: str, person_id: int | None = None) -> Person:
    """One's own PIN; or, `person_id`, a resident's, set by staff of her community with her at
    the counter (an elder without a smartphone, or one whose PIN locked)."""
    if not (len(pin) == 4 and pin.isdigit()):
        raise InvalidPin()
    person = actor.person
    if person_id is not None and person_id != actor.id:
        found = await session.get(Person, person_id)
        if found is None or found.deleted_at is not None or not await rules.is_staff_for(session, actor, person_id):
            raise NotFound()
        person = found
    person.voice_pin_hash = hash_pin(pin)
    person.voice_pin_failures = 0
    return person


MAX_PIN_FAILURES = 5


def verify_voice_pin(person: Person, pin: str) -> bool:
    """For payments by phone. Five wrong PINs lock it until the person sets a new one."""
    if person.voice_pin_hash is None or person.voice_pin_failures >= MAX_PIN_FAILURES:
        return False
    if check_pin(person.voice_pin_hash, pin):
        person.voice_pin_failures = 0
        return True
    person.voice_pin_failures += 1
    return False


async def person_for_caller(session: AsyncSession, *, caller_id: str) -> Person | None:
    phone = normalize_caller_id(caller_id)
    return None if phone is None else await repository.person_for_caller(session, phone)
