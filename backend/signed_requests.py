"""Calls from partners' systems (SOS bands, garbage-sorting stations, volunteer platforms),
signed per sender with a shared secret.

Headers: X-Linli-Timestamp (unix seconds) and X-Linli-Signature: hex HMAC-SHA256 of
"<timestamp>.<raw body>". A sender without a secret, a bad signature or a timestamp more than
5 minutes off is refused before the body is read; the body's own event id makes replays
within the window harmless."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)
MAX_SKEW_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def refusal(secrets: Mapping[str, str], sender: str, request: Request, body: bytes) -> str | None:
    """Why the request must be refused, or None when `sender` really signed it just now."""
    secret = secrets.get(sender)
    if secret is None:
        return "unknown sender"
    timestamp = request.headers.get("x-linli-timestamp", "")
    if not hmac.compare_digest(sign(secret, timestamp, body), request.headers.get("x-linli-signature", "")):
        return "bad signature"
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return "stale or replayed timestamp"
    return None


def refuse(webhook: str, status: int, reason: str, **fields: object) -> JSONResponse:
    """The partner's answer when nothing was done, and a log line saying why."""
    log.warning("%s webhook refused: %s", webhook, reason, extra=fields)
    return JSONResponse({"accepted": False, "error": reason}, status_code=status)
