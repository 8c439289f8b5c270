"""POST /integrations/cap: the local warning-release system sends CAP 1.2 messages here,
signed per sender like every partner's call (backend/signed_requests.py, header
X-Linli-Sender). The answer says what was done: stored, where it shows, what it ended."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from backend.db import transaction, utcnow
from backend.errors import InvalidInput
from backend.parts import Parts
from backend.safety import service
from backend.safety.cap import InvalidCap
from backend.signed_requests import refusal, refuse


def router(rt: Parts) -> APIRouter:
    api = APIRouter()

    @api.post("/integrations/cap", include_in_schema=False)
    async def cap(request: Request) -> JSONResponse:
        sender = request.headers.get("x-linli-sender", "")
        body = await request.body()
        why = refusal(rt.settings.cap_sender_secrets, sender, request, body)
        if why is not None:
            return refuse("CAP", 401, why, sender=sender[:80])
        try:
            async with transaction(rt.factory) as session:
                received = await service.receive(session, sender=sender, body=body, read_aloud=rt.read_aloud)
        except InvalidCap as exc:
            return refuse("CAP", 400, str(exc)[:300], sender=sender[:80])
        except InvalidInput:
            return refuse("CAP", 400, "the message's <sender> is not the signing sender", sender=sender[:80])
        except IntegrityError:  # the same message twice at once: the other one stored it
            return JSONResponse({"accepted": True, "new": False})
        w = received.warning
        return JSONResponse(
            {
                "accepted": True,
                "new": received.new,
                "warningId": w.id,
                "msgType": w.msg_type,
                "shownIn": list(received.shown_in),
                "ended": list(received.ended),
                "expired": w.expires is not None and w.expires <= utcnow(),
            }
        )

    return api
