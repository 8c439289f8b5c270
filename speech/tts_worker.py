"""The speech worker process: `python -m speech.tts_worker`, one JSON job per line on stdin.

Runs apart from the server because pyttsx3/espeak-ng initialise once per process and can
hang; the server kills this process if a job overruns its time limit.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

# Longer than any text we allow takes to synthesise; the server's own limit is the real guard.
WAIT_FOR_FILE_S = 30.0


def _speak(engine: Any, text: str, voice: str, rate: int, path: str) -> bool:
    from pyttsx3.drivers import _espeak

    # pyttsx3's runAndWait ends its loop with espeak_Cancel whenever espeak-ng still has queued
    # commands, which silently drops a voice or rate set just before (seen under load: slow
    # speech came out at full speed). Set them on espeak-ng itself and wait until it has
    # applied them, so the engine's loop finds nothing to cancel.
    _espeak.SetVoiceByName(voice.encode())
    _espeak.SetParameter(_espeak.RATE, rate, 0)
    _espeak.Synchronize()
    engine.save_to_file(text, path)
    engine.runAndWait()
    # runAndWait can return while espeak-ng is still synthesising; the WAV is written by the
    # last callback. Synchronize returns once that callback has run.
    _espeak.Synchronize()
    deadline = time.monotonic() + WAIT_FOR_FILE_S
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.005)
    return os.path.exists(path) and os.path.getsize(path) > 44


def main() -> None:
    # Answers go on the original stdout; anything the engine prints goes to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    import pyttsx3

    engine = pyttsx3.init("espeak")
    for line in sys.stdin:
        job = json.loads(line)
        path, tmp = job["path"], f"{job['path']}.{os.getpid()}.tmp.wav"
        try:
            if not _speak(engine, job["text"], job["voice"], int(job["rate"]), tmp):
                raise RuntimeError("espeak-ng produced no audio")
            os.replace(tmp, path)
            answers.write(json.dumps({"ok": True}) + "\n")
        except Exception as exc:
            answers.write(json.dumps({"ok": False, "error": repr(exc)}) + "\n")


if __name__ == "__main__":
    main()
