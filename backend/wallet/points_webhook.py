"""Garbage-sorting stations and the volunteer platform report what residents did:
POST /integrations/points, signed per source (backend.signed_requests; X-Linli-Source names
the source). Body: {"event_id": "...", "kind": "garbage_sorting" | "volunteer_hours",
"card": "<community card>" or "phone": "+86...", "quantity": 1}. The answer says how many
points the event earned (0 past the day's cap) and the resident's balance; the same event
sent again earns nothing more. Anything unproven or malformed is refused and changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import http_body
from backend.community.models import Person, card_digits
from backend.db import transaction
from backend.errors import DomainError
from backend.parts import Parts
from backend.signed_requests import refusal, refuse
from backend.wallet import points


def router(rt: Parts) -> APIRouter:
    api = APIRouter()

    @api.post("/integrations/points", include_in_schema=False)
    async def report(request: Request) -> JSONResponse:
        source = request.headers.get("x-linli-source", "")[:60]
        body = await request.body()
        why = refusal(rt.settings.points_source_secrets, source, request, body)
        if why is not None:
            return refuse("points", 401, why, source=source)
        try:
            data: Any = http_body.json_body(body)  # size and nesting limited
            event_id, kind = str(data["event_id"])[:100], str(data["kind"])
            quantity = int(data.get("quantity", 1))
            card = card_digits(str(data["card"])) if data.get("card") else None
            phone = str(data["phone"]) if data.get("phone") and not card else None
        except (ValueError, KeyError, TypeError):
            return refuse("points", 400, "malformed body", source=source)
        if not event_id or not (card or phone):
            return refuse("points", 400, "malformed body", source=source)
        who = Person.community_card == card if card else Person.phone == phone
        for attempt in range(2):  # the same event sent twice at once: the loser reads the winner's award
            try:
                async with transaction(rt.factory) as session:
                    person = await session.scalar(select(Person).where(who))
                    if person is None:
                        return refuse("points", 404, "unknown resident", source=source)
                    earned = await points.earn(
                        session,
                        rt.settings.content_dir,
                        rt.settings.default_timezone,
                        source_code=source,
                        event_id=event_id,
                        kind=kind,
                        person=person,
                        quantity=quantity,
                    )
                    answer = {
                        "accepted": True,
                        "new": earned.new,
                        "points": earned.event.points,
                        "balance": earned.balance,
                    }
                return JSONResponse(answer)
            except IntegrityError:
                if attempt:
                    raise
            except DomainError as error:
                return refuse("points", 404 if error.code == "NOT_FOUND" else 422, error.code.lower(), source=source)
        raise AssertionError("unreachable")

    return api
