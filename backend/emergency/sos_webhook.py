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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BandEvent:
    vendor: str
    device_id: str
    event_id: str
    kind: str
    value: int | None
    location: Any


def _event(vendor: str, body: bytes) -> BandEvent | None:
    """The vendor's event, or None for a body that is not one (refused before anything)."""
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
        return None
    return BandEvent(vendor, device_id, event_id, kind, value if kind in band.KINDS else None, data.get("location"))


async def _wearer(parts: Parts, event: BandEvent) -> tuple[Device, Person, int] | JSONResponse:
    """The band, whom it is worn by and her community; else the refusal (reads only)."""
    async with parts.factory() as session:
        device = (
            await session.execute(
                select(Device).where(
                    Device.kind == DeviceKind.SOS_BAND,
                    Device.identifier == event.device_id,
                    Device.vendor == event.vendor,
                )
            )
        ).scalar_one_or_none()
        person = await session.get(Person, device.person_id) if device and device.person_id else None
        if device is None or person is None:
            return refuse("SOS", 404, "unknown device", vendor=event.vendor, device=event.device_id[:50])
        community_id = await session.scalar(
            select(Membership.community_id)
            .where(Membership.person_id == person.id, Membership.role == Role.RESIDENT)
            .order_by(Membership.id)
            .limit(1)
        )
        if community_id is None:
            return refuse("SOS", 404, "device wearer has no community", vendor=event.vendor)
        return device, person, community_id


async def _heard(
    parts: Parts, event: BandEvent, device: Device, person: Person, community_id: int
) -> JSONResponse | None:
    """The band was heard; a reading is judged. The answer when that is all there is to do;
    None when the event is an alarm (a press, a fall, or a reading the policy makes one)."""
    async with transaction(parts.factory) as session:
        await band_health.heard(session, parts, device_id=device.id, kind=event.kind)
        if event.kind in ALARMS:
            return None
        if event.value is None:  # low battery, offline: told once a day by band_health
            return JSONResponse({"accepted": True})
        # The community's policy only for a reading, not on a press's path.
        community = await session.get(Community, community_id)
        policy = band.policy_for(parts.settings.content_dir, community.code if community else "")
        sign = await band.take_vital(session, person.id, event.kind, event.value, policy.defaults)
        if isinstance(sign, str):  # no consent (nothing judged), or within limits
            return JSONResponse({"accepted": True, "judged": sign == band.IN_RANGE, "outOfRange": False})
        if policy.out_of_range == band.WELLBEING:
            events.emit(session, band.OUT_OF_RANGE, {"person_id": person.id, "sign_id": sign.id})
            return JSONResponse({"accepted": True, "judged": True, "outOfRange": True})
        return None


async def _alarm(parts: Parts, event: BandEvent, person: Person, community_id: int) -> JSONResponse:
    """The wearer's alarm through the alarm desk (its own transaction, grouped with other
    presses); where she is, kept for the alarm when it makes sense and she consented."""
    source = {"fall": AlertSource.FALL, "sos": AlertSource.BAND}.get(event.kind, AlertSource.VITALS)
    raiser = raiser_of(Subject.partner(Actor(person, ()), community_id))
    assert raiser is not None  # a wearer with a community
    key = f"band:{event.vendor}:{event.event_id}"[:100]
    pressed: service.Pressed = await parts.alarm_desk.press(service.press_by(raiser, key, source))
    where = _location(event.location)
    if where is None and event.location is not None:
        log.warning("band location dropped: not a place", extra={"vendor": event.vendor})
    if where is not None and pressed.new:
        async with transaction(parts.factory) as session:
            ref = service.alert_ref(pressed.alert.id)
            await band.take_fix(session, person.id, ref, lat=where[0], lon=where[1], accuracy_m=where[2])
    return JSONResponse({"accepted": True, "alert_id": pressed.alert.id, "new": pressed.new})


def router(rt: Parts) -> APIRouter:
    api = APIRouter()

    @api.post("/integrations/sos", include_in_schema=False)
    async def sos(request: Request) -> JSONResponse:
        vendor = request.headers.get("x-linli-vendor", "")
        body = await request.body()
        why = refusal(rt.settings.sos_vendor_secrets, vendor, request, body)
        if why is not None:
            return refuse("SOS", 401, why, vendor=vendor[:50])
        event = _event(vendor, body)
        if event is None:
            return refuse("SOS", 400, "malformed body", vendor=vendor)
        found = await _wearer(rt, event)
        if isinstance(found, JSONResponse):
            return found
        device, person, community_id = found
        answered = await _heard(rt, event, device, person, community_id)
        return answered if answered is not None else await _alarm(rt, event, person, community_id)

    return api
