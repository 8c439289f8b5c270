"""The exchange's side of a call. Asterisk: the dialplan registers the call with a signed
request, then AudioSocket carries the audio both ways. A gateway's media stream: a WebSocket
with the JSON events, the signed numbers in `start`. Either way the caller's audio goes at
real-time pacing (silence when they say nothing, keys as DTMF), and what the line says back
is collected with the time each frame arrived."""

from __future__ import annotations

import abc
import asyncio
import audioop
import base64
import json
import struct
import time
import uuid
from dataclasses import dataclass
from typing import Any

import websockets

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


class Call(abc.ABC):
    """What both bridges share: the caller's audio paced at real time, and what came back."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._out: asyncio.Queue[bytes] = asyncio.Queue()
        self._heard: list[tuple[float, bytes]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.hung_up_by_line = False
        self.speech_ended_at: float | None = None  # when the last frame of the caller's words went out

    def _start(self) -> None:
        self._tasks = [asyncio.create_task(self._send_audio()), asyncio.create_task(self._receive())]

    @abc.abstractmethod
    async def _write_frame(self, frame: bytes) -> None: ...

    @abc.abstractmethod
    async def _receive(self) -> None: ...

    @abc.abstractmethod
    async def press(self, digit: str) -> None: ...

    @abc.abstractmethod
    async def hang_up(self) -> None: ...

    async def _send_audio(self) -> None:
        """A frame every 20 ms, as a phone line does: the caller's words, else silence."""
        try:
            await self._send_frames()
        except ConnectionError:
            self.hung_up_by_line = True

    async def _send_frames(self) -> None:
        next_at = time.monotonic()
        while True:
            frame, spoke = SILENCE, False
            if not self._out.empty():
                frame, spoke = self._out.get_nowait(), True
            await self._write_frame(frame)
            if spoke and self._out.empty():
                self.speech_ended_at = time.monotonic()
            next_at += 0.02
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def say(self, text: str, rate: int = 150) -> None:
        """Speak the words (espeak-ng), in real time; returns when the last word has gone out."""
        self.speech_ended_at = None
        for frame in frames_of(trimmed(speak(text, self.locale, rate))):
            self._out.put_nowait(frame)
        while self.speech_ended_at is None:
            if self.hung_up_by_line:
                raise ConnectionError("the line hung up")
            await asyncio.sleep(0.01)

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

    async def hear_said(self, *, quiet_s: float = 2.0, within_s: float = 60.0) -> Reply:
        """From now until the line has spoken and then said nothing for `quiet_s`, as after a
        question it waits for its answer (the line's silence is frames too, so `hear` cannot
        tell)."""
        since = time.monotonic()
        deadline = since + within_s
        while time.monotonic() < deadline:
            loud = [t for t, f in self._heard if t >= since and speech_seconds(f) > 0]
            if loud and time.monotonic() - loud[-1] > quiet_s:
                return self.heard_since(since)
            await asyncio.sleep(0.05)
        raise AssertionError("the line kept talking, or never spoke")

    async def hear_speech(self, seconds: float, *, within_s: float = 30.0) -> Reply:
        """From now until the line has said at least `seconds` of words. A reply is said
        sentence by sentence, and a busy machine can leave a pause between two: a pause is not
        the end of what the caller is told."""
        since = time.monotonic()
        deadline = since + within_s
        while time.monotonic() < deadline:
            heard = self.heard_since(since)
            if heard.speech_s >= seconds:
                return heard
            await asyncio.sleep(0.05)
        raise AssertionError(f"the line said {self.heard_since(since).speech_s:.2f} s of words, not {seconds} s")

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

    async def until_hung_up(self, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        while not self.hung_up_by_line:
            assert time.monotonic() < deadline, "the line did not hang up"
            await asyncio.sleep(0.05)

    async def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class AudioSocketCall(Call):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, locale: str) -> None:
        super().__init__(locale)
        self.reader = reader
        self.writer = writer

    @classmethod
    async def dial(cls, port: int, call_id: str, locale: str = "ko") -> AudioSocketCall:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        call = cls(reader, writer, locale)
        writer.write(struct.pack(">BH", 0x01, 16) + uuid.UUID(call_id).bytes)
        await writer.drain()
        call._start()
        return call

    async def _write_frame(self, frame: bytes) -> None:
        self.writer.write(struct.pack(">BH", 0x10, len(frame)) + frame)
        await self.writer.drain()

    async def _receive(self) -> None:
        try:
            while True:
                kind, length = struct.unpack(">BH", await self.reader.readexactly(3))
                payload = await self.reader.readexactly(length)
                if kind == 0x10:
                    self._heard.append((time.monotonic(), payload))
                elif kind == 0x00:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.hung_up_by_line = True

    async def press(self, digit: str) -> None:
        self.writer.write(struct.pack(">BH", 0x03, 1) + digit.encode())
        await self.writer.drain()

    async def hang_up(self) -> None:
        await self._stop_tasks()
        try:
            self.writer.write(struct.pack(">BH", 0x00, 0))
            await self.writer.drain()
        except ConnectionError:
            pass
        self.writer.close()


class StreamCall(Call):
    """A gateway's media stream: μ-law both ways, in JSON events."""

    def __init__(self, ws: Any, stream_sid: str, locale: str) -> None:
        super().__init__(locale)
        self.ws = ws
        self.stream_sid = stream_sid
        self.events: list[tuple[float, str]] = []  # ("clear", "mark", ...) as they came

    @classmethod
    async def dial(
        cls, base: str, call_id: str, caller: str, called: str, *, locale: str = "zh-CN", secret: str = SECRET
    ) -> StreamCall:
        ws = await websockets.connect(base.replace("http://", "ws://") + "/voice/stream")
        stream_sid = "MZ" + uuid.uuid4().hex
        ts = str(int(time.time()))
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(
            json.dumps(
                {
                    "event": "start",
                    "sequenceNumber": "1",
                    "streamSid": stream_sid,
                    "start": {
                        "streamSid": stream_sid,
                        "callSid": call_id,
                        "tracks": ["inbound"],
                        "customParameters": {
                            "caller": caller,
                            "called": called,
                            "ts": ts,
                            "sig": sign(secret, call_id, caller, called, ts),
                        },
                        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    },
                }
            )
        )
        call = cls(ws, stream_sid, locale)
        call._start()
        return call

    async def _write_frame(self, frame: bytes) -> None:
        payload = base64.b64encode(audioop.lin2ulaw(frame, 2)).decode()
        await self.ws.send(json.dumps({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}}))

    async def _receive(self) -> None:
        try:
            async for raw in self.ws:
                event = json.loads(raw)
                if event["event"] == "media":
                    pcm = audioop.ulaw2lin(base64.b64decode(event["media"]["payload"]), 2)
                    self._heard.append((time.monotonic(), pcm))
                else:
                    self.events.append((time.monotonic(), event["event"]))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.hung_up_by_line = True

    async def press(self, digit: str) -> None:
        await self.ws.send(
            json.dumps(
                {"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"track": "inbound_track", "digit": digit}}
            )
        )

    async def hang_up(self) -> None:
        await self._stop_tasks()
        try:
            await self.ws.send(json.dumps({"event": "stop", "streamSid": self.stream_sid}))
        except websockets.ConnectionClosed:
            pass
        await self.ws.close()
