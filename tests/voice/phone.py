"""The exchange's side of a call, as Asterisk plays it: the dialplan registers the call with a
signed request, then AudioSocket carries the audio both ways at real-time pacing, silence
when the caller says nothing, keys as DTMF messages. What the line says back is collected
with the time each frame arrived."""

from __future__ import annotations

import asyncio
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.voice.caller import FRAME, frames_of, speak, speech_seconds, trimmed
from voice.signing import sign

SECRET = "test-line-secret"
SILENCE = b"\x00" * FRAME


async def register(client: Any, call_id: str, caller: str, called: str = "", secret: str = SECRET) -> Any:
    ts = str(int(time.time()))
    return await client.post(
        "/voice/calls",
        data={
            "uuid": call_id,
            "caller": caller,
            "called": called,
            "ts": ts,
            "sig": sign(secret, call_id, caller, called, ts),
        },
    )


@dataclass
class Reply:
    pcm: bytes
    first_frame_at: float  # monotonic time the first frame arrived

    @property
    def speech_s(self) -> float:
        return speech_seconds(self.pcm)


@dataclass
class AudioSocketCall:
    """One call over AudioSocket, from the exchange's side."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    locale: str = "ko"
    _out: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)  # caller audio waiting to be sent
    _heard: list[tuple[float, bytes]] = field(default_factory=list)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    hung_up_by_line: bool = False
    speech_ended_at: float | None = None  # when the last frame of the caller's words went out

    @classmethod
    async def dial(cls, port: int, call_id: str, locale: str = "ko") -> AudioSocketCall:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        call = cls(reader, writer, locale)
        writer.write(struct.pack(">BH", 0x01, 16) + uuid.UUID(call_id).bytes)
        await writer.drain()
        call._tasks = [asyncio.create_task(call._send_audio()), asyncio.create_task(call._receive())]
        return call

    async def _send_audio(self) -> None:
        """A frame every 20 ms, as a phone line does: the caller's words, else silence."""
        next_at = time.monotonic()
        while True:
            frame = SILENCE
            spoke = False
            if not self._out.empty():
                frame, spoke = self._out.get_nowait(), True
            self.writer.write(struct.pack(">BH", 0x10, len(frame)) + frame)
            await self.writer.drain()
            if spoke and self._out.empty():
                self.speech_ended_at = time.monotonic()
            next_at += 0.02
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _receive(self) -> None:
        try:
            while True:
                kind, length = struct.unpack(">BH", await self.reader.readexactly(3))
                payload = await self.reader.readexactly(length)
                if kind == 0x10:
                    self._heard.append((time.monotonic(), payload))
                elif kind == 0x00:
                    self.hung_up_by_line = True
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            self.hung_up_by_line = True

    async def say(self, text: str, rate: int = 150) -> None:
        """Speak the words (espeak-ng), in real time; returns when the last word has gone out."""
        self.speech_ended_at = None
        for frame in frames_of(trimmed(speak(text, self.locale, rate))):
            self._out.put_nowait(frame)
        while self.speech_ended_at is None:
            await asyncio.sleep(0.01)

    async def press(self, digit: str) -> None:
        self.writer.write(struct.pack(">BH", 0x03, 1) + digit.encode())
        await self.writer.drain()

    def heard_since(self, since: float) -> Reply:
        frames = [(t, f) for t, f in self._heard if t >= since]
        return Reply(b"".join(f for _, f in frames), frames[0][0] if frames else 0.0)

    async def hear(self, since: float | None = None, *, quiet_s: float = 1.0, within_s: float = 60.0) -> Reply:
        """What the line says from `since` (default: now) until it has been quiet for `quiet_s`."""
        since = time.monotonic() if since is None else since
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            frames = [t for t, _ in self._heard if t >= since]
            if frames and time.monotonic() - frames[-1] > quiet_s:
                return self.heard_since(since)
            if self.hung_up_by_line and (not frames or time.monotonic() - frames[-1] > 0.1):
                return self.heard_since(since)
            await asyncio.sleep(0.05)
        raise AssertionError("the line kept talking, or never spoke")

    async def hear_for(self, seconds: float, *, within_s: float = 30.0) -> Reply:
        """The first `seconds` of what the line says from now (a caller listening a little,
        then talking over the rest)."""
        since = time.monotonic()
        deadline = since + within_s
        while time.monotonic() < deadline:
            heard = self.heard_since(since)
            if len(heard.pcm) >= seconds * 16000:
                return heard
            await asyncio.sleep(0.02)
        raise AssertionError("the line did not speak")

    async def hang_up(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            self.writer.write(struct.pack(">BH", 0x00, 0))
            await self.writer.drain()
        except ConnectionError:
            pass
        self.writer.close()
