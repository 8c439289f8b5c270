"""Asterisk's AudioSocket: a TCP stream of messages, each a 3-byte header (kind, big-endian
payload length) and its payload. Kinds: 0x00 hang-up, 0x01 the call's UUID (16 bytes, first),
0x03 a DTMF digit (one ASCII byte, Asterisk 20+), 0x10 audio (slin16, 8 kHz mono, 20 ms =
320 bytes), 0xff an error. We answer with 0x10 frames, paced at real time by the conversation.

Bad input closes this one connection and nothing else: an unknown kind, a payload longer than
any real message, audio of an odd length, audio arriving much faster than real time, no UUID
first, a UUID the exchange never registered.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
import uuid
from collections.abc import Awaitable, Callable

from voice.audio import FRAME_BYTES, RATE
from voice.wire import Audio, BridgedLine

log = logging.getLogger(__name__)

HANGUP, UUID, DTMF, AUDIO, ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
MAX_PAYLOAD = 4 * FRAME_BYTES  # Asterisk sends 20 ms frames; a few at once is the most
FIRST_MESSAGE_S = 5.0
# Audio may arrive in bursts, but not faster than this many seconds ahead of real time.
AHEAD_ALLOWED_S = 2.0


class ProtocolError(Exception):
    pass


def message(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack(">BH", kind, len(payload)) + payload


async def read_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(3)
    kind, length = struct.unpack(">BH", header)
    if kind not in (HANGUP, UUID, DTMF, AUDIO, ERROR):
        raise ProtocolError(f"unknown kind {kind:#04x}")
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {length} bytes")
    return kind, await reader.readexactly(length)


class AudioSocketLine(BridgedLine):
    """One call's AudioSocket connection as the conversation's Line."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__()
        self._reader = reader
        self._writer = writer
        # Real time counts from the connection: audio sent while we were busy answering it is
        # not a caller running ahead.
        self._began = time.monotonic()

    async def _read(self) -> None:
        audio_bytes = 0
        try:
            while True:
                kind, payload = await read_message(self._reader)
                if kind in (HANGUP, ERROR):
                    break
                if kind == DTMF:
                    self.key(payload.decode("ascii", "replace"))
                elif kind == AUDIO:
                    if len(payload) % 2:
                        raise ProtocolError("audio of odd length")
                    audio_bytes += len(payload)
                    ahead = audio_bytes / (2 * RATE) - (time.monotonic() - self._began)
                    if ahead > AHEAD_ALLOWED_S:
                        raise ProtocolError("audio faster than real time")
                    self.inbox.put(Audio(payload))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            log.warning("audiosocket call refused: %s", exc)

    async def send(self, frame: bytes) -> None:
        if self.closed:
            return
        self._writer.write(message(AUDIO, frame))
        await self._writer.drain()

    async def clear(self) -> None:
        """Nothing is buffered at the far end: we stopped sending, the prompt stopped."""

    async def mark(self) -> None:
        """AudioSocket has no marks: frames are played as they arrive."""

    async def close(self) -> None:
        if not self.closed:
            try:
                self._writer.write(message(HANGUP))
                await self._writer.drain()
            except ConnectionError:
                pass
        await self.stop_reading()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except ConnectionError:
            pass


Handler = Callable[[str, AudioSocketLine], Awaitable[object]]


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handle: Handler) -> None:
    """One connection: the call's UUID first, then the call."""
    line = AudioSocketLine(reader, writer)
    try:
        kind, payload = await asyncio.wait_for(read_message(reader), FIRST_MESSAGE_S)
        if kind != UUID or len(payload) != 16:
            raise ProtocolError("the first message is not the call's UUID")
        call_ref = str(uuid.UUID(bytes=payload))
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
        log.warning("audiosocket connection refused: %s", exc)
        await line.close()
        return
    line.start()
    try:
        await handle(call_ref, line)
    except asyncio.CancelledError:
        pass  # the line is shutting down; the call's own record says so
    finally:
        await line.close()
