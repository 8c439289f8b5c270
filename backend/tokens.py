"""JWT access tokens, opaque refresh tokens, and keyed hashes for short secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from backend.config import Settings
from backend.db import utcnow

ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    subject: str  # "person:<id>" or "tv:<device id>"
    issued_at: dt.datetime
    session_family: str | None
    expires_at: dt.datetime | None = None


class TokenError(Exception):
    pass


class Tokens:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret
        self._pepper = hashlib.sha256(b"linli-pepper\x00" + settings.jwt_secret.encode()).digest()
        self.access_ttl = dt.timedelta(seconds=settings.access_token_ttl_s)
        self.refresh_ttl = dt.timedelta(seconds=settings.refresh_token_ttl_s)

    def access_token(
        self, subject: str, *, family: str | None = None, ttl: dt.timedelta | None = None, kind: str = "access"
    ) -> str:
        now = utcnow()
        claims: dict[str, Any] = {
            "sub": subject,
            # Millisecond precision: "sign out everywhere" must refuse a token from a moment before.
            "iat": math.floor(now.timestamp() * 1000) / 1000,
            "exp": int((now + (ttl or self.access_ttl)).timestamp()),
            "typ": kind,
        }
        if family:
            claims["sid"] = family
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def ticket(self, subject: str, *, ttl: dt.timedelta) -> str:
        """A short-lived ticket for a connection that cannot send a header (a TV's event
        stream): it travels in a URL, so it opens that stream only and buys nothing else."""
        return self.access_token(subject, ttl=ttl, kind="ticket")

    def decode_access(self, token: str) -> AccessClaims:
        return self._decode(token, "access")

    def decode_ticket(self, token: str) -> AccessClaims:
        return self._decode(token, "ticket")

    def _decode(self, token: str, kind: str) -> AccessClaims:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if claims.get("typ") != kind:
            raise TokenError(f"wanted a token of kind {kind}")
        return AccessClaims(
            subject=str(claims["sub"]),
            issued_at=dt.datetime.fromtimestamp(float(claims["iat"]), dt.UTC),
            session_family=claims.get("sid"),
            expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
        )

    @staticmethod
    def new_opaque() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_opaque(token: str) -> str:
        # Refresh tokens and device codes carry 256 bits: a plain hash is enough.
        return hashlib.sha256(token.encode()).hexdigest()

    def hash_short(self, *parts: str) -> str:
        """Keyed hash for short secrets (6-digit codes): a stolen table cannot be brute-forced offline."""
        return hmac.new(self._pepper, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    def check_short(self, expected_hash: str, *parts: str) -> bool:
        return hmac.compare_digest(expected_hash, self.hash_short(*parts))


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_pin(stored: str, pin: str) -> bool:
    try:
        _scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)
