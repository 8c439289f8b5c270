"""What the exchange gives a call, whatever bridge carries it (AudioSocket, a media stream):
audio frames, keys and the hang-up, queued in the call's inbox; and what the conversation
asks of the line in return (send a frame, stop playing, mark the end of a prompt)."""

from __future__ import annotations

import abc
import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # one frame or more of slin16 at 8 kHz


@dataclass(frozen=True)
class Key:
    digit: str


@dataclass(frozen=True)
class Hangup:
    pass


Incoming = Audio | Key | Hangup


class Line(Protocol):
    """A bridge's side of one call."""

    async def receive(self) -> Incoming: ...

    def poll(self) -> Incoming | None:
        """What has arrived already, without waiting (most frames are there when asked for)."""

    async def send(self, frame: bytes) -> None:
        """One 20 ms frame of slin16 at 8 kHz; the conversation paces them."""

    async def clear(self) -> None:
        """Stop what the far end may still be playing (barge-in)."""

    async def mark(self) -> None:
        """A prompt has been sent whole (the media stream tells the gateway; AudioSocket has no need)."""


class Inbox:
    """What a bridge has received for the conversation, bounded: a conversation that falls
    behind loses old audio, never a key or the hang-up, and never grows memory."""

    def __init__(self, size: int = 500) -> None:  # 500 frames: 10 s of audio
        self._queue: asyncio.Queue[Incoming] = asyncio.Queue(maxsize=size)

    def put(self, event: Incoming) -> None:
        if self._queue.full():
            if isinstance(event, Audio):
                return  # old audio is worth less than keeping up
            self._keep_only_keys()
        self._queue.put_nowait(event)

    def hang_up(self) -> None:
        self._keep_only_keys()
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(Hangup())

    def _keep_only_keys(self) -> None:
        kept = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if not isinstance(event, Audio):
                kept.append(event)
        for event in kept:
            self._queue.put_nowait(event)

    async def receive(self) -> Incoming:
        return await self._queue.get()

    def poll(self) -> Incoming | None:
        return None if self._queue.empty() else self._queue.get_nowait()


KEYS = "0123456789*#"


class BridgedLine(abc.ABC):
    """What both bridges share: a task of their own reads the exchange's messages into the
    inbox; whatever ends the reading (a hang-up, a broken connection, bad input) hangs up."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.closed = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._reading())

    async def _reading(self) -> None:
        try:
            await self._read()
        finally:
            self.closed = True
            self.inbox.hang_up()

    @abc.abstractmethod
    async def _read(self) -> None:
        """Put what arrives into the inbox until the call ends."""

    def key(self, raw: str) -> None:
        """A keypad digit as the exchange sent it; anything else is not a key."""
        digit = raw[:1]
        if digit and digit in KEYS:
            self.inbox.put(Key(digit))

    async def receive(self) -> Incoming:
        return await self.inbox.receive()

    def poll(self) -> Incoming | None:
        return self.inbox.poll()

    async def stop_reading(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
