"""Speech to text: Vosk, one model per language loaded once per process and shared by every
call; one recognizer per call, restricted to the phrases the call's dialog expects now.

A model takes seconds and hundreds of MB to load, so it is loaded once (on first use, or at
start) and shared: Vosk's models are safe to share between recognizers in many threads. A
recognizer is one call's: it keeps the call's audio state and is fed by one thread at a time.
Vosk's C calls release the GIL, so recognizers of different calls run on both cores.

A grammar (a list of phrases) is many times faster and more accurate than dictation, but it
forces any speech onto its words: callers of `Recognizer` accept only a result that is one
whole phrase of the grammar, and give each grammar words that catch other speech.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class NoModel(LookupError):
    """No recognition model for this language (none configured, or none exists)."""


@dataclass(frozen=True)
class Heard:
    text: str  # the words recognized, space separated; "" for nothing
    confidence: float  # the lowest word confidence (0 when nothing was heard)


def _vosk() -> Any:
    import vosk

    vosk.SetLogLevel(-1)  # Kaldi's log lines would carry what callers said
    return vosk


class SpeechModels:
    """The Vosk model of each language, by locale, loaded at most once."""

    def __init__(self, paths: Mapping[str, Path | None]) -> None:
        self._paths = dict(paths)
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def has(self, locale: str) -> bool:
        path = self._paths.get(locale)
        return path is not None and path.is_dir()

    def model(self, locale: str) -> Any:
        """The loaded model (loading it now if this is the first use): NoModel without one."""
        found = self._models.get(locale)
        if found is not None:
            return found
        if not self.has(locale):
            raise NoModel(locale)
        with self._lock:
            if locale not in self._models:
                log.info("loading the speech model", extra={"locale": locale})
                self._models[locale] = _vosk().Model(str(self._paths[locale]))
            return self._models[locale]

    def missing_words(self, locale: str, phrases: Iterable[str]) -> list[str]:
        """Words of these phrases the model does not know (Vosk drops them silently)."""
        model = self.model(locale)
        words = sorted({w for p in phrases for w in p.split()})
        return [w for w in words if model.vosk_model_find_word(w) < 0]

    def recognizer(self, locale: str, sample_rate: int, phrases: list[str]) -> Recognizer:
        return Recognizer(self.model(locale), sample_rate, phrases)


class Recognizer:
    """One call's recognizer. Not thread-safe: feed it from one thread at a time."""

    def __init__(self, model: Any, sample_rate: int, phrases: list[str]) -> None:
        self._rec = _vosk().KaldiRecognizer(model, sample_rate, json.dumps(phrases, ensure_ascii=False))
        self._rec.SetWords(True)
        # Parts of the utterance Vosk itself ended at a pause (an elder pausing mid-phrase):
        # the utterance is all of them, up to our own end of speech.
        self._done: list[dict[str, Any]] = []

    def listen_for(self, phrases: list[str] | None) -> None:
        """Start afresh (what was heard but not finished is dropped), with a new grammar if
        given. Vosk aborts the whole process when a grammar is set on a recognizer in the
        middle of an utterance, so it is reset first."""
        self._rec.Reset()
        if phrases is not None:
            self._rec.SetGrammar(json.dumps(phrases, ensure_ascii=False))
        self._done = []

    def accept(self, pcm: bytes) -> None:
        """Feed audio (signed 16-bit little-endian mono at the recognizer's rate)."""
        if self._rec.AcceptWaveform(pcm):
            self._done.append(json.loads(self._rec.Result()))

    def finish(self) -> Heard:
        """What was said since the last finish: the whole utterance, with its confidence."""
        parts = [*self._done, json.loads(self._rec.FinalResult())]
        self._done = []
        words = [w for part in parts for w in part.get("result") or []]
        text = " ".join(t for t in (str(part.get("text", "")).strip() for part in parts) if t)
        confidence = min((float(w.get("conf", 0.0)) for w in words), default=0.0) if text else 0.0
        return Heard(text, confidence)
