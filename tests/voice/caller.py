"""The caller's side of a phone call: words spoken by espeak-ng as a telephone carries them
(8 kHz, signed 16-bit mono), and what came back measured as speech or silence."""

from __future__ import annotations

import audioop
import ctypes
import ctypes.util
import functools
import subprocess

from voice.audio import from_first_sound

LINE_RATE = 8000
FRAME = 320  # 20 ms of 8 kHz signed 16-bit audio
VOICES = {"ko": "ko", "zh-CN": "cmn", "yue": "yue"}


@functools.cache
def speak(text: str, locale: str = "ko", rate: int = 150) -> bytes:
    """`text` said by espeak-ng, resampled with sox's filter to the line's 8 kHz."""
    wav = subprocess.run(
        ["espeak-ng", "-v", VOICES[locale], "-s", str(rate), "--stdout", text], capture_output=True, check=True
    ).stdout
    return subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(LINE_RATE), "-e", "signed", "-b", "16", "-c", "1", "-"],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout


def trimmed(pcm: bytes, threshold: int = 30) -> bytes:
    """The words without the silence espeak-ng leaves after them: the caller stops talking
    where the words stop (the start is left as spoken, soft onset and all)."""
    frames = [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]
    loud = [i for i, f in enumerate(frames) if audioop.rms(f, 2) > threshold]
    return b"".join(frames[: loud[-1] + 1]) if loud else b""


def frames_of(pcm: bytes) -> list[bytes]:
    """Whole 20 ms frames (the last one padded with silence)."""
    pcm += b"\x00" * (-len(pcm) % FRAME)
    return [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]


def speech_seconds(pcm: bytes, threshold: int = 300) -> float:
    """How much of `pcm` is sound rather than silence."""
    return sum(1 for f in frames_of(pcm) if audioop.rms(f, 2) > threshold) * 0.02


def as_the_line_hears(pcm: bytes) -> list[bytes]:
    """The words as the line's recognizer gets them (voice.audio.from_first_sound, after some
    silence on the line), then the pause that ends them, 100 ms at a time."""
    frames = from_first_sound([b"\x00" * FRAME] * 10 + frames_of(trimmed(pcm)), quiet=30)
    audio = b"".join(frames) + b"\x00" * 8000
    return [audio[i : i + 1600] for i in range(0, len(audio), 1600)]


_LIBC = ctypes.CDLL(ctypes.util.find_library("c"))


def seed_dither(seed: int) -> None:
    """Kaldi dithers the audio with the C library's rand(): seeded, a recognition does not
    depend on what ran before it in the process (an unseeded run once lost "예" in the
    middle of the full suite and never alone)."""
    _LIBC.srand(seed)
