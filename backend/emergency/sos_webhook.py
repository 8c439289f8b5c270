"""Wearable SOS bands: the vendor's cloud calls POST /integrations/sos, signed per vendor.

Headers: X-Linli-Vendor and the signature of backend.signed_requests, with that vendor's
secret. Body:
{"device_id": "...", "event_id": "...", "kind": "sos" | "fall" | "low_battery" | "offline"
| "heart_rate" | "blood_oxygen", "value": 130, "location": {"lat", "lon", "accuracy_m"}}
(kind sos when absent). sos and fall raise the alarm of the wearer (a fall says 疑似跌倒); the
same event_id sent twice raises one alarm; their location is kept for the alarm only with the
elder's location consent, and a location that makes no sense is dropped, never the alarm.
heart_rate and blood_oxygen (`value` required) are judged only with the elder's vitals
consent: outside the limits, by the community's policy, a wellbeing alert (once a day per
sign) or an alarm (backend/health/band.py). low_battery and offline tell the wearer and the
family receiving alerts to charge it, once a day, and staff see bands offline for a day. An
unknown vendor, device or kind, a bad signature, or a timestamp more than 5 minutes off is
refused and logged; nothing else happens.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend import events, http_body
from backend.access.rules import raiser_of
from backend.access.subject import Actor, Subject
from backend.community.models import Community, Device, DeviceKind, Membership, Person, Role
from backend.db import transaction
from backend.emergency import band_health, service
from backend.emergency.models import AlertSource
from backend.health import band
from backend.parts import Parts
from backend.signed_requests import refusal, refuse

KINDS = ("sos", "fall", "low_battery", "offline", *band.KINDS)
ALARMS = ("sos", "fall")
log = logging.getLogger(__name__)


def _location(data: Any) -> tuple[float, float, int | None] | None:
    """(lat, lon, accuracy in metres) if the band sent a location that makes sense."""
    if not isinstance(data, dict):
        return None
    try:
        lat, lon = float(data["lat"]), float(data["lon"])
        accuracy = data.get("accuracy_m")
        accuracy_m = None if accuracy is None else int(accuracy)
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon, accuracy_m


def router(rt: Parts) -> APIRouter:
    api = APIRouter()

    @api.post("/integrations/sos", include_in_schema=False)
    async def sos(request: Request) -> JSONResponse:
        vendor = request.headers.get("x-linli-vendor", "")
        body = await request.body()
        why = refusal(rt.settings.sos_vendor_secrets, vendor, request, body)
        if why is not None:
            return refuse("SOS", 401, why, vendor=vendor[:50])
        try:
            data = http_body.json_body(body)
            device_id, event_id = str(data["device_id"]), str(data["event_id"])
            kind = str(data.get("kind", "sos"))
            if kind not in KINDS:
                raise ValueError(kind)
            value = data.get("value")
            if kind in band.KINDS and not (
                isinstance(value, int) and not isinstance(value, bool) and band.plausible(kind, value)
            ):
                raise ValueError("value")
        except (ValueError, KeyError, TypeError):
            return refuse("SOS", 400, "malformed body", vendor=vendor)
        async with rt.factory() as session:  # reads only; the desk writes
            device = (
                await session.execute(
                    select(Device).where(
                        Device.kind == DeviceKind.SOS_BAND, Device.identifier == device_id, Device.vendor == vendor
                    )
                )
            ).scalar_one_or_none()
            person = await session.get(Person, device.person_id) if device and device.person_id else None
            if person is None:
                return refuse("SOS", 404, "unknown device", vendor=vendor, device=device_id[:50])
            community_id = await session.scalar(
                select(Membership.community_id)
                .where(Membership.person_id == person.id, Membership.role == Role.RESIDENT)
                .order_by(Membership.id)
                .limit(1)
            )
            if community_id is None:
                return refuse("SOS", 404, "device wearer has no community", vendor=vendor)
        assert device is not None
        alarm = kind in ALARMS
        async with transaction(rt.factory) as session:
            await band_health.heard(session, rt, device_id=device.id, kind=kind)
            if kind in band.KINDS:  # the community's policy only for a reading, not on a press's path
                community = await session.get(Community, community_id)
                policy = band.policy_for(rt.settings.content_dir, community.code if community else "")
                sign = await band.take_vital(session, person.id, kind, int(value), policy.defaults)
                if isinstance(sign, str):  # no consent (nothing judged), or within limits
                    return JSONResponse({"accepted": True, "judged": sign == band.IN_RANGE, "outOfRange": False})
                if policy.out_of_range == band.WELLBEING:
                    events.emit(session, band.OUT_OF_RANGE, {"person_id": person.id, "sign_id": sign.id})
                    return JSONResponse({"accepted": True, "judged": True, "outOfRange": True})
                alarm = True
        if not alarm:
            return JSONResponse({"accepted": True})
        # Stored by the alarm desk (its own transaction, grouped with other presses).
        source = {"fall": AlertSource.FALL, "sos": AlertSource.BAND}.get(kind, AlertSource.VITALS)
        raiser = raiser_of(Subject.partner(Actor(person, ()), community_id))
        assert raiser is not None  # a wearer with a community
        pressed = await rt.alarm_desk.press(service.press_by(raiser, f"band:{vendor}:{event_id}"[:100], source))
        where = _location(data.get("location"))
        if where is None and data.get("location") is not None:
            log.warning("band location dropped: not a place", extra={"vendor": vendor})
        if where is not None and pressed.new:
            async with transaction(rt.factory) as session:
                await band.take_fix(
                    session,
                    person.id,
                    service.alert_ref(pressed.alert.id),
                    lat=where[0],
                    lon=where[1],
                    accuracy_m=where[2],
                )
        return JSONResponse({"accepted": True, "alert_id": pressed.alert.id, "new": pressed.new})

    return api
