"""Text to speech: pyttsx3 driving espeak-ng, in a worker process with a time limit.

pyttsx3 initialises espeak-ng once per process and can hang, so synthesis never runs in
the serving process: a long-lived worker (speech.tts_worker) takes one job at a time over a pipe; a
job that overruns the limit kills the worker (a fresh one starts on the next job). WAVs
are cached by (text, voice, rate), so a text is synthesised once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import select
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# espeak-ng voice per locale: Mandarin, Cantonese, Korean.
VOICES = {"zh-CN": "cmn", "yue": "yue", "ko": "ko"}
DEFAULT_VOICE = "cmn"

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


class Synthesizer:
    def __init__(self, cache_dir: Path, *, timeout_s: float = 10.0, max_chars: int = 300) -> None:
        self.cache_dir = cache_dir
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        cache_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, text: str, voice: str, rate: int) -> Path:
        return self.cache_dir / f"{cache_key(text, voice, rate)}.wav"

    async def wav(self, text: str, voice: str, rate: int) -> Path:
        text = clean_text(text, self.max_chars)
        if not text:
            raise TtsError("nothing to read")
        path = self.path_for(text, voice, rate)
        if path.exists():
            return path
        return await asyncio.to_thread(self._synthesize, text, voice, rate, path)

    def _synthesize(self, text: str, voice: str, rate: int, path: Path) -> Path:
        with self._lock:  # one job at a time per worker
            if path.exists():
                return path
            proc = self._ensure_worker()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                job = {"text": text, "voice": voice, "rate": rate, "path": str(path)}
                proc.stdin.write(json.dumps(job, ensure_ascii=False) + "\n")
                proc.stdin.flush()
            except OSError as exc:
                self._kill_worker()
                raise TtsError("speech worker is gone") from exc
            ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
            if not ready:
                log.error("speech synthesis timed out; restarting the worker")
                self._kill_worker()
                raise TtsTimeout(f"no audio within {self.timeout_s}s")
            line = proc.stdout.readline()
            if not line:
                self._kill_worker()
                raise TtsError("speech worker died")
            answer = json.loads(line)
            if not answer.get("ok"):
                raise TtsError(answer.get("error", "synthesis failed"))
            return path

    def _ensure_worker(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._kill_worker()
            self._proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [sys.executable, "-m", "speech.tts_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        return self._proc

    def _kill_worker(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=5)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
        self._proc = None

    def close(self) -> None:
        with self._lock:
            self._kill_worker()
