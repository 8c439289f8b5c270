"""A local stand-in for JPush (this machine cannot reach api.jpush.cn), speaking its REST
API v3: `POST /v3/push` with HTTP Basic (app key : master secret) and a JSON push document;
answers `{"sendno": "0", "msg_id": ...}`, or `{"error": {"code": ..., "message": ...}}` with
JPush's documented codes: 401 and 1004 for a wrong secret, 1011 for a registration id no
device has (the app was uninstalled).

A registration id starting with "gone-" has no device."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from tests.notify.sms_standins import _StandIn

APP_KEY = "jpush-standin-app-key"
MASTER_SECRET = "jpush-standin-master-secret"


class JPushStandIn(_StandIn):
    """`sent` holds the push documents; `down` answers 503."""

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        lower = {k.lower(): v for k, v in headers.items()}
        expected = "Basic " + base64.b64encode(f"{APP_KEY}:{MASTER_SECRET}".encode()).decode()
        if lower.get("authorization") != expected:
            return 401, {"error": {"code": 1004, "message": "appkey or master secret invalid"}}
        if path != "/v3/push":
            return 404, {"error": {"code": 1003, "message": "no such api"}}
        push = json.loads(body)
        ids = push.get("audience", {}).get("registration_id", [])
        if not ids or not push.get("notification"):
            return 400, {"error": {"code": 1003, "message": "missing audience or notification"}}
        if all(i.startswith("gone-") for i in ids):
            return 400, {"error": {"code": 1011, "message": "cannot find user by this audience"}}
        self.keep(push)
        return 200, {"sendno": "0", "msg_id": str(uuid.uuid4().int % 10**12)}

    @property
    def pushes(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.sent)

    def to(self, registration_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.sent if registration_id in p["audience"]["registration_id"]]
