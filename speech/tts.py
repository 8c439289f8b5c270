"""Text to speech: pyttsx3 driving espeak-ng, in a worker process with a time limit.

pyttsx3 initialises espeak-ng once per process and can hang, so synthesis never runs in
the serving process: long-lived workers (speech.tts_worker) each take one job at a time over a
pipe; a job that overruns the limit kills its worker (a fresh one starts on the next job).
WAVs are cached by (text, voice, rate), so a text is synthesised once. The phone line plays
8 kHz audio: `line_pcm` converts a cached WAV once with sox, whose filter keeps the words
clear (a plain sample-rate change would fold the high voice into the band).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import queue
import re
import select
import subprocess
import sys
from pathlib import Path

from speech.pronounce import pronounce

log = logging.getLogger(__name__)

# espeak-ng voice per locale: Mandarin (from pinyin: `cmn` would read it as English-spoken
# pinyin), Cantonese, Korean. What each is given is `speech.pronounce`'s.
VOICES = {"zh-CN": "cmn-latn-pinyin", "yue": "yue", "ko": "ko"}
DEFAULT_VOICE = VOICES["zh-CN"]
LOCALE_OF_VOICE = {voice: locale for locale, voice in VOICES.items()}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class TtsError(RuntimeError):
    pass


class TtsTimeout(TtsError):
    pass


def clean_text(text: str, max_chars: int) -> str:
    """Plain text to be read as text: no control characters, capped length."""
    text = _CONTROL.sub(" ", text).strip()
    text = re.sub(r"\s+", " ", text)
    return text[:max_chars]


def voice_for(locale: str | None) -> str:
    return VOICES.get(locale or "", DEFAULT_VOICE)


def cache_key(text: str, voice: str, rate: int) -> str:
    return hashlib.sha256(f"{voice}\x1f{rate}\x1f{text}".encode()).hexdigest()


LINE_RATE = 8000  # the phone line: signed 16-bit little-endian mono at 8 kHz


class _Worker:
    """One speech worker process, used by one job at a time."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def ensure(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self.proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [sys.executable, "-m", "speech.tts_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        return self.proc

    def kill(self) -> None:
        # Taken first: closing the synthesizer may kill a worker another thread is using.
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=5)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


class Synthesizer:
    def __init__(self, cache_dir: Path, *, timeout_s: float = 10.0, max_chars: int = 300, workers: int = 1) -> None:
        self.cache_dir = cache_dir
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self._all = [_Worker() for _ in range(max(1, workers))]
        self._free: queue.Queue[_Worker] = queue.Queue()
        for worker in self._all:
            self._free.put(worker)
        cache_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, spoken: str, voice: str, rate: int) -> Path:
        return self.cache_dir / f"{cache_key(spoken, voice, rate)}.wav"

    async def wav(self, text: str, voice: str, rate: int) -> Path:
        """The text read aloud: what espeak-ng is given is its pronunciation (`pronounce`),
        and the WAV is cached under that, so one pronunciation is synthesised once."""
        text = clean_text(text, self.max_chars)
        if not text:
            raise TtsError("nothing to read")
        spoken = pronounce(text, LOCALE_OF_VOICE.get(voice, ""))
        path = self.path_for(spoken, voice, rate)
        if path.exists():
            return path
        return await asyncio.to_thread(self._synthesize, spoken, voice, rate, path)

    async def line_pcm(self, text: str, voice: str, rate: int) -> bytes:
        """The text spoken as the phone line plays it (8 kHz signed 16-bit mono, no header)."""
        wav = await self.wav(text, voice, rate)
        pcm = wav.with_suffix(".slin8k")
        if not pcm.exists():
            tmp = pcm.with_suffix(f".{id(pcm)}.tmp")
            proc = await asyncio.create_subprocess_exec(
                "sox", str(wav), "-t", "raw", "-r", str(LINE_RATE), "-e", "signed", "-b", "16", "-c", "1", str(tmp),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                code = await asyncio.wait_for(proc.wait(), self.timeout_s)
            except TimeoutError:
                proc.kill()
                raise TtsTimeout("sox did not convert in time") from None
            if code != 0:
                tmp.unlink(missing_ok=True)
                raise TtsError(f"sox exited {code}")
            tmp.replace(pcm)
        return await asyncio.to_thread(pcm.read_bytes)

    def _synthesize(self, text: str, voice: str, rate: int, path: Path) -> Path:
        worker = self._free.get()  # one job at a time per worker
        try:
            if path.exists():
                return path
            return self._run(worker, text, voice, rate, path)
        finally:
            self._free.put(worker)

    def _run(self, worker: _Worker, text: str, voice: str, rate: int, path: Path) -> Path:
        proc = worker.ensure()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            job = {"text": text, "voice": voice, "rate": rate, "path": str(path)}
            proc.stdin.write(json.dumps(job, ensure_ascii=False) + "\n")
            proc.stdin.flush()
        except OSError as exc:
            worker.kill()
            raise TtsError("speech worker is gone") from exc
        ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
        if not ready:
            log.error("speech synthesis timed out; restarting the worker")
            worker.kill()
            raise TtsTimeout(f"no audio within {self.timeout_s}s")
        line = proc.stdout.readline()
        if not line:
            worker.kill()
            raise TtsError("speech worker died")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise TtsError(answer.get("error", "synthesis failed"))
        return path

    def close(self) -> None:
        for worker in self._all:
            worker.kill()
