"""The media stream over a WebSocket (/voice/stream), in the JSON event shape telephony
gateways widely use: `connected`, `start` (the call id, the stream id and custom parameters),
`media` (base64 μ-law at 8 kHz), `dtmf`, `mark`, `stop`. We send `media`, a `mark` after each
prompt, and `clear` to stop what the gateway is still playing (barge-in).

The caller's number comes in `start.customParameters` with the gateway's signature of it
(voice/signing.py); a stream without a good signature is closed before anything is said.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from backend import http_body
from voice.audio import pcm_to_ulaw, ulaw_to_pcm
from voice.wire import Audio, BridgedLine

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024  # a media message carries a few frames; nothing real is larger
MAX_MEDIA_BYTES = 4 * 160  # μ-law: 160 bytes per 20 ms
START_WITHIN_S = 5.0


class StreamRefused(Exception):
    pass


class StreamLine(BridgedLine):
    def __init__(self, ws: WebSocket, stream_sid: str) -> None:
        super().__init__()
        self.ws = ws
        self.stream_sid = stream_sid
        self._marks = 0

    async def _read(self) -> None:
        try:
            while True:
                event = parse(await self.ws.receive_text())
                kind = event.get("event")
                if kind == "media":
                    payload = _payload(event)
                    if payload is not None:
                        self.inbox.put(Audio(ulaw_to_pcm(payload)))
                elif kind == "dtmf":
                    self.key(str((event.get("dtmf") or {}).get("digit", "")))
                elif kind == "stop":
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        except StreamRefused as exc:
            log.warning("media stream closed: %s", exc)

    async def send(self, frame: bytes) -> None:
        if self.closed:
            return
        payload = base64.b64encode(pcm_to_ulaw(frame)).decode()
        await self._send({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}})

    async def mark(self) -> None:
        self._marks += 1
        await self._send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": f"prompt-{self._marks}"}})

    async def clear(self) -> None:
        await self._send({"event": "clear", "streamSid": self.stream_sid})

    async def _send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            await self.ws.send_text(json.dumps(message))
        except (WebSocketDisconnect, RuntimeError):
            self.closed = True

    async def close(self) -> None:
        await self.stop_reading()
        try:
            await self.ws.close()
        except RuntimeError:
            pass


def parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_MESSAGE_BYTES:
        raise StreamRefused("message too large")
    try:
        event = http_body.json_body(text)
    except ValueError as exc:
        raise StreamRefused("not JSON") from exc
    if not isinstance(event, dict):
        raise StreamRefused("not an event")
    return event


def _payload(event: dict[str, Any]) -> bytes | None:
    media = event.get("media")
    raw = media.get("payload") if isinstance(media, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        payload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StreamRefused("media is not base64") from exc
    if len(payload) > MAX_MEDIA_BYTES:
        raise StreamRefused("media frame too large")
    return payload


Start = dict[str, Any]
Handler = Callable[[Start, StreamLine], Awaitable[object]]


async def serve_stream(ws: WebSocket, handle: Handler) -> None:
    """Accept, wait for `start`, hand the call over."""
    await ws.accept()
    try:
        start: dict[str, Any] | None = None
        while start is None:
            event = parse(await asyncio.wait_for(ws.receive_text(), START_WITHIN_S))
            if event.get("event") == "start" and isinstance(event.get("start"), dict):
                start = event["start"]
            elif event.get("event") not in ("connected",):
                raise StreamRefused("no start")
    except (TimeoutError, StreamRefused, WebSocketDisconnect, RuntimeError) as exc:
        log.warning("media stream refused: %s", exc)
        try:
            await ws.close(code=1008)
        except RuntimeError:
            pass
        return
    line = StreamLine(ws, str(start.get("streamSid", "")))
    line.start()
    try:
        await handle(start, line)
    finally:
        await line.close()
