"""Wearable SOS bands: the vendor's cloud calls POST /integrations/sos, signed per vendor.

Headers: X-Linli-Vendor and the signature of backend.signed_requests, with that vendor's
secret. Body:
{"device_id": "...", "event_id": "...", "kind": "sos" | "fall" | "low_battery" | "offline"}
(kind sos when absent). sos and fall raise the alarm of the wearer (a fall says 疑似跌倒); the
same event_id sent twice raises one alarm. low_battery and offline tell the wearer and the
family receiving alerts to charge it, once a day, and staff see bands offline for a day. An
unknown vendor, device or kind, a bad signature, or a timestamp more than 5 minutes off is
refused and logged; nothing else happens.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend.community.models import Device, DeviceKind, Membership, Person, Role
from backend.db import transaction
from backend.emergency import band_health, service
from backend.emergency.models import AlertSource
from backend.parts import Parts
from backend.signed_requests import refusal, refuse

KINDS = ("sos", "fall", "low_battery", "offline")
ALARMS = ("sos", "fall")


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
            data = json.loads(body)
            device_id, event_id = str(data["device_id"]), str(data["event_id"])
            kind = str(data.get("kind", "sos"))
            if kind not in KINDS:
                raise ValueError(kind)
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
        async with transaction(rt.factory) as session:
            await band_health.heard(session, rt, device_id=device.id, kind=kind)
        if kind not in ALARMS:
            return JSONResponse({"accepted": True})
        # Stored by the alarm desk (its own transaction, grouped with other presses).
        source = AlertSource.FALL if kind == "fall" else AlertSource.BAND
        pressed = await rt.alarm_desk.press(
            service.Press(person.id, person.household_id, community_id, source, f"band:{vendor}:{event_id}"[:100])
        )
        return JSONResponse({"accepted": True, "alert_id": pressed.alert.id, "new": pressed.new})

    return api
