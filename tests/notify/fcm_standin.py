"""A local stand-in for FCM (this machine cannot reach Google): the OAuth token endpoint
named by the service account's token_uri, and v1/projects/<id>/messages:send.

What a token is answered depends on its prefix: ok-* (delivered), gone-* (UNREGISTERED),
busy-N-* (429 the first N times), down-N-* (503 the first N times), slow-* (answers late).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.standin_http import answer_json, serve

PROJECT = "linli-test"


def fcm_error(status: int, code: str, fcm_code: str | None = None) -> dict[str, Any]:
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}] if fcm_code else []
    )
    return {"error": {"code": status, "message": f"stand-in says {code}", "status": code, "details": details}}


class FcmStandIn:
    def __init__(self, slow_s: float = 3.0) -> None:
        self.slow_s = slow_s
        self.sent: list[dict[str, Any]] = []
        self.arrivals: list[tuple[float, dict[str, Any]]] = []  # (unix time, message) for benchmarks
        self.tries: Counter[str] = Counter()
        self.token_requests = 0
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                answer_json(self, status, body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path == "/token":
                    with standin.lock:
                        standin.token_requests += 1
                    self._answer(200, {"access_token": "stand-in-token", "expires_in": 3600, "token_type": "Bearer"})
                    return
                if self.path != f"/v1/projects/{PROJECT}/messages:send":
                    self._answer(404, fcm_error(404, "NOT_FOUND"))
                    return
                if self.headers.get("Authorization") != "Bearer stand-in-token":
                    self._answer(401, fcm_error(401, "UNAUTHENTICATED"))
                    return
                message = json.loads(body)["message"]
                token = message["token"]
                with standin.lock:
                    standin.tries[token] += 1
                    tries = standin.tries[token]
                kind, _, rest = token.partition("-")
                if kind in ("busy", "down") and tries <= int(rest.split("-")[0]):
                    if kind == "busy":
                        self._answer(429, fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"))
                    else:
                        self._answer(503, fcm_error(503, "UNAVAILABLE", "UNAVAILABLE"))
                    return
                if kind == "gone":
                    self._answer(404, fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
                    return
                if kind == "slow":
                    time.sleep(standin.slow_s)
                with standin.lock:
                    standin.sent.append(message)
                    standin.arrivals.append((time.time(), message))
                    n = len(standin.sent)
                self._answer(200, {"name": f"projects/{PROJECT}/messages/{n}"})

        self.server, self.url, self.thread = serve(Handler)  # a 500-message batch connects all at once

    def __enter__(self) -> FcmStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def service_account(self, path: Path) -> Path:
        """A generated service-account file whose token_uri is this stand-in."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": PROJECT,
                    "private_key_id": "stand-in",
                    "private_key": pem,
                    "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        return path
