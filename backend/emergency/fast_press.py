"""The app's emergency button, answered without the general GraphQL machinery.

When a thousand elders press at once (a power cut, an earthquake) every press must be
answered within a second, on two cores. Through strawberry each press costs milliseconds of
one core (dependency solving, a session and two queries for the caller, parsing, validation,
execution, extensions) before the alarm desk sees it. This door recognises exactly one
request, the app's trusted `TriggerEmergency` document sent with a person's token, hands the
press to the desk (which looks up the callers of a whole group in one transaction) and
writes the same JSON strawberry would (tests compare the two).

Anything else, and anything unusual about this request (a TV's token, a signed-out token, a
bad idempotency key, a key someone else used, a failure), goes on to /graphql unchanged with
nothing stored, so the general path gives the answer and the error.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import http_body
from backend.emergency import service
from backend.emergency.desk import SignedPress
from backend.emergency.models import AlertSource
from backend.gql.extensions import document_hash
from backend.parts import Parts
from backend.tokens import TokenError

log = logging.getLogger(__name__)

DOCUMENT = "app/TriggerEmergency.graphql"
PATH = "/graphql"
_VARIABLES = {"idempotencyKey", "source"}

PRESSES = Counter(
    "linli_fast_presses_total", "App emergency presses at the fast door", ["outcome"]
)  # outcome: answered | handed_on (to the general /graphql path)


class FastPress:
    def __init__(self, app: ASGIApp, rt: Parts) -> None:
        self.app = app
        self.rt = rt
        self.query = (rt.settings.operations_dir / DOCUMENT).read_text("utf-8")
        self.document_id = document_hash(self.query)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None or not _is_json(scope):
            # The same rules as /graphql: only application/json is a GraphQL request there.
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        press = self._press_in(token, body) if not more else None
        answer = await self._press(press) if press is not None else None
        if answer is None:
            if press is not None:
                PRESSES.labels("handed_on").inc()
            await self.app(scope, _replaying(body, more, receive), send)
            return
        PRESSES.labels("answered").inc()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _press_in(self, token: str, body: bytes) -> SignedPress | None:
        """The press this request asks for, if it is the plain app press; else None."""
        try:
            data = http_body.json_body(body)
        except ValueError:
            return None
        if not isinstance(data, dict) or not self._is_trigger_document(data):
            return None
        variables = data.get("variables") or {}
        if not isinstance(variables, dict) or not set(variables) <= _VARIABLES:
            return None
        key = variables.get("idempotencyKey")
        source = variables.get("source", "APP")
        if (key is not None and not isinstance(key, str)) or source not in AlertSource.__members__:
            return None
        try:
            claims = self.rt.tokens.decode_access(token)
        except TokenError:
            return None
        if not claims.subject.startswith("person:"):
            return None  # a TV's red key: the household's elder is found on the general path
        return SignedPress(claims, AlertSource[source], key)

    def _is_trigger_document(self, data: dict[str, Any]) -> bool:
        if data.get("operationName") not in (None, "TriggerEmergency"):
            return False
        if data.get("query") is not None:
            return bool(data["query"] == self.query)
        if not self.rt.settings.trusted_documents_only:
            return False  # document ids are understood only where the general path does too
        persisted = (data.get("extensions") or {}).get("persistedQuery") or {}
        sent = data.get("documentId") or (persisted.get("sha256Hash") if isinstance(persisted, dict) else None)
        return isinstance(sent, str) and sent.removeprefix("sha256:") == self.document_id

    async def _press(self, press: SignedPress) -> bytes | None:
        try:
            stored = await self.rt.alarm_desk.press_signed(press)
        except Exception:
            # Refused (a bad key) or failed: nothing was stored; the general path answers.
            log.info("fast press handed on to /graphql", exc_info=True)
            return None
        if stored is None:
            return None
        pressed, actor = stored
        alert, new = pressed.alert, pressed.new
        locale = actor.person.locale
        text = service.reply_text(self.rt.catalog, locale, pressed)
        url = self.rt.read_aloud.url(text, locale=locale, slow=actor.person.slow_speech, shared=True)
        payload = {
            "data": {
                "triggerEmergency": {
                    "__typename": "EmergencyRaised",
                    "new": new,
                    "reply": {"text": text, "readAloudUrl": url},
                    "emergency": {"id": str(alert.id), "status": alert.status.name, "presses": alert.presses},
                }
            }
        }
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower() == "application/json"
    return False


async def _read_body(receive: Receive, limit: int = 4096) -> tuple[bytes, bool]:
    """The body, up to `limit` bytes (a press is a few hundred); True if more follows."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if size > limit:
            return b"".join(chunks), True


def _replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    """What the general path reads: the bytes already taken, then the rest of the stream."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay
