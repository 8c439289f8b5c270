"""What the local stand-ins of outside services share: a threaded HTTP server on a free port
that answers JSON."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def answer_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


class StandInServer(ThreadingHTTPServer):
    request_queue_size = 1024  # a burst connects all at once
    daemon_threads = True


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[StandInServer, str, threading.Thread]:
    """A server on 127.0.0.1 and a free port, its base URL, and the thread to start it on."""
    server = StandInServer(("127.0.0.1", 0), handler)
    return (
        server,
        f"http://127.0.0.1:{server.server_address[1]}",
        threading.Thread(target=server.serve_forever, daemon=True),
    )
