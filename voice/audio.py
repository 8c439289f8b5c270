"""Telephone audio: 8 kHz signed 16-bit little-endian mono in 20 ms frames (320 bytes), μ-law
for the media stream, and where a caller's speech starts and ends."""

from __future__ import annotations

import collections
import sys
from dataclasses import dataclass, field

from speech.stt import Heard

if sys.version_info >= (3, 13):
    import audioop  # audioop-lts
else:
    import audioop

RATE = 8000
FRAME_BYTES = 320  # 20 ms of slin16 at 8 kHz
FRAME_MS = 20
SILENT_FRAME = b"\x00" * FRAME_BYTES


def ulaw_to_pcm(data: bytes) -> bytes:
    return audioop.ulaw2lin(data, 2)


def pcm_to_ulaw(pcm: bytes) -> bytes:
    return audioop.lin2ulaw(pcm, 2)


def level(frame: bytes) -> int:
    """Loudness of a frame (RMS of its samples)."""
    return int(audioop.rms(frame, 2)) if len(frame) >= 2 else 0


def frames(pcm: bytes) -> list[bytes]:
    """Whole 20 ms frames, the last padded with silence."""
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    pcm += b"\x00" * (-len(pcm) % FRAME_BYTES)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


LEAD_FRAMES = 2


def from_first_sound(frames: list[bytes], quiet: float) -> list[bytes]:
    """An utterance as the recognizer should get it: from 40 ms before its first sound (padded
    with silence when nothing came before). The small models are touchy about the lead-in:
    over every Korean pack phrase, none or 60 ms and more of silence before the words lost
    words (with 100 ms, "예" came back empty), 20 to 40 ms lost none."""
    first = next((i for i, f in enumerate(frames) if level(f) > quiet), len(frames))
    lead = frames[max(0, first - LEAD_FRAMES) : first]
    return [SILENT_FRAME] * (LEAD_FRAMES - len(lead)) + lead + frames[first:]


@dataclass
class Endpointer:
    """Speech and its end, from frame loudness. Elders speak slowly and pause mid-phrase:
    after `quick_ms` of silence the conversation looks at what was said, and takes it if it
    is a whole phrase the question expects; otherwise the speech has ended only after
    `long_ms`."""

    quick_ms: int = 300
    long_ms: int = 1200
    start_frames: int = 3  # this many loud frames in a row: speech has begun
    min_level: int = 250
    floor: float = 60.0  # the line's noise, learnt from quiet frames
    speaking: bool = False
    silence_ms: int = 0
    _loud_run: int = 0

    def threshold(self) -> float:
        return max(self.min_level, self.floor * 4)

    def quiet_level(self) -> float:
        """Below this a frame holds nothing of the speech (line noise at most)."""
        return max(30.0, self.floor * 2)

    def hear(self, frame: bytes) -> bool:
        """Feed one frame; True when speech has just begun."""
        loud = level(frame) > self.threshold()
        if not loud and not self.speaking:
            self.floor = 0.95 * self.floor + 0.05 * level(frame)
        if self.speaking:
            self.silence_ms = 0 if loud else self.silence_ms + FRAME_MS
            return False
        self._loud_run = self._loud_run + 1 if loud else 0
        if self._loud_run >= self.start_frames:
            self.speaking, self.silence_ms, self._loud_run = True, 0, 0
            return True
        return False

    def ended(self) -> bool:
        """Has the speech ended, whatever was said?"""
        return self.speaking and self.silence_ms >= self.long_ms

    def reset(self) -> None:
        self.speaking, self.silence_ms, self._loud_run = False, 0, 0


PREROLL_FRAMES = 10  # speech starts before it is loud enough to be sure: keep up to 200 ms of it


@dataclass
class Utterance:
    """What the caller is saying in one question, as it comes."""

    endpointer: Endpointer
    preroll: collections.deque[bytes] = field(default_factory=lambda: collections.deque(maxlen=PREROLL_FRAMES))
    unfed: list[bytes] = field(default_factory=list)  # heard, not yet given to the recognizer
    utterance: list[bytes] = field(default_factory=list)  # since the speech began: heard again if they go on
    tentative: tuple[Heard, float] | None = None  # what a pause heard (and how long that took)
    last_loud: float = 0.0
