"""A local stand-in for JPush (this machine cannot reach api.jpush.cn), speaking its REST
API v3: `POST /v3/push` with HTTP Basic (app key : master secret) and a JSON push document;
answers `{"sendno": "0", "msg_id": ...}`, or `{"error": {"code": ..., "message": ...}}` with
JPush's documented codes: 401 and 1004 for a wrong secret, 1011 for a registration id no
device has (the app was uninstalled).

A registration id starting with "gone-" has no device; `down` answers 503."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.standin_http import answer_json, serve

APP_KEY = "jpush-standin-app-key"
MASTER_SECRET = "jpush-standin-master-secret"


class JPushStandIn:
    def __init__(self) -> None:
        self.pushes: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.down = False
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer_json(self, *standin.handle(self.path, self.headers.get("Authorization", ""), body))

        self.server, self.url, self.thread = serve(Handler)

    def handle(self, path: str, authorization: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if self.down:
            return 503, {"error": {"code": 1030, "message": "internal service timeout"}}
        expected = "Basic " + base64.b64encode(f"{APP_KEY}:{MASTER_SECRET}".encode()).decode()
        if authorization != expected:
            return 401, {"error": {"code": 1004, "message": "appkey or master secret invalid"}}
        if path != "/v3/push":
            return 404, {"error": {"code": 1003, "message": "no such api"}}
        push = json.loads(body)
        ids = push.get("audience", {}).get("registration_id", [])
        if not ids or not push.get("notification"):
            return 400, {"error": {"code": 1003, "message": "missing audience or notification"}}
        if all(i.startswith("gone-") for i in ids):
            return 400, {"error": {"code": 1011, "message": "cannot find user by this audience"}}
        with self.lock:
            self.pushes.append(push)
            self.arrivals.append(time.time())
            msg_id = str(len(self.pushes))
        return 200, {"sendno": "0", "msg_id": msg_id}

    def to(self, registration_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.pushes if registration_id in p["audience"]["registration_id"]]

    def __enter__(self) -> JPushStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
