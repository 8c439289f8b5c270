"""How the exchange vouches for a call's numbers. The caller's number is believed only from
the exchange: it signs the call id, the caller's and the called number and the time with the
line's shared secret (LINLI_VOICE_SECRET).

The signature is the hex SHA-1 of "<call id>:<caller>:<called>:<unix time>:<secret>", because
that is what an Asterisk dialplan can compute (SHA1() exists there, HMAC does not); the secret
comes last, so the message cannot be lengthened behind a signature it already has, and each
field is checked for its shape before the signature is."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

MAX_SKEW_S = 300
_NUMBER = re.compile(r"\+?[0-9-]{0,20}")


def sign(secret: str, call_id: str, caller: str, called: str, ts: str) -> str:
    return hashlib.sha1(f"{call_id}:{caller}:{called}:{ts}:{secret}".encode()).hexdigest()  # noqa: S324


def refusal(secret: str, call_id: str, caller: str, called: str, ts: str, sig: str) -> str | None:
    """Why the exchange's word must not be taken, or None."""
    if not secret:
        return "the line is not configured"
    if not (_NUMBER.fullmatch(caller) and _NUMBER.fullmatch(called) and ts.isdigit()):
        return "malformed"
    if not hmac.compare_digest(sign(secret, call_id, caller, called, ts), sig):
        return "bad signature"
    if abs(time.time() - int(ts)) > MAX_SKEW_S:
        return "stale"
    return None
