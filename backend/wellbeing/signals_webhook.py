"""Smart meters and door sensors report a home's use: POST /integrations/home-signals,
signed per source (backend.signed_requests; X-Linli-Source names it; secrets in
LINLI_HOME_SIGNAL_SECRETS). Body: {"readings": [{"device": "...", "at": "ISO 8601",
"value": 0.3}, ...]} (or one reading as the body), at most 500 at once (and within the
request body limit, LINLI_MAX_BODY_BYTES: about 80 bytes a reading). Readings of devices
no home has, or outside the time kept, are counted as unknown and kept nowhere."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from backend import http_body
from backend.db import transaction
from backend.parts import Parts
from backend.signed_requests import refusal, refuse
from backend.wellbeing import quiet_home

MOST_AT_ONCE = 500
MOST_VALUE = 1_000_000.0  # far above any home's use in one interval


def _value(raw: Any) -> float:
    """A reading is a finite number a meter or sensor can report: use in the interval (kWh,
    litres) or a door's openings, never negative, never NaN or infinite, never true/false; a
    broken meter must not keep a quiet home looking lived in."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError("a reading's value is a number")
    value = float(raw)
    if not math.isfinite(value) or not 0 <= value <= MOST_VALUE:
        raise ValueError("a reading's value is out of range")
    return value


def _reading(item: Any) -> quiet_home.Reading:
    at = dt.datetime.fromisoformat(str(item["at"]))
    if at.tzinfo is None:
        raise ValueError("a reading's time says its zone")
    return quiet_home.Reading(device=str(item["device"])[:100], at=at, value=_value(item["value"]))


def router(rt: Parts) -> APIRouter:
    api = APIRouter()

    @api.post("/integrations/home-signals", include_in_schema=False)
    async def report(request: Request) -> JSONResponse:
        source = request.headers.get("x-linli-source", "")[:60]
        body = await request.body()
        why = refusal(rt.settings.home_signal_secrets, source, request, body)
        if why is not None:
            return refuse("home-signals", 401, why, source=source)
        try:
            data: Any = http_body.json_body(body)
            items = data["readings"] if isinstance(data, dict) and "readings" in data else [data]
            if not isinstance(items, list) or not 1 <= len(items) <= MOST_AT_ONCE:
                raise ValueError("1 to 500 readings")
            readings = [_reading(item) for item in items]
        except (ValueError, KeyError, TypeError):
            return refuse("home-signals", 400, "malformed body", source=source)
        async with transaction(rt.factory) as session:
            taken = await quiet_home.take(
                session,
                source=source,
                readings=readings,
                zone=rt.settings.zone,
                retention_days=rt.settings.home_readings_retention_days,
            )
        return JSONResponse({"accepted": taken.accepted, "unknown": taken.unknown})

    return api
