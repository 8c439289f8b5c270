"""Recognition with the real Vosk engine and the Korean model from PyPI."""

from __future__ import annotations

import subprocess
import sys

from backend.config import REPO_ROOT
from speech.stt import SpeechModels
from tests.voice.caller import speak
from voice.packs import load_packs, model_paths

PACKS = load_packs(REPO_ROOT / "content")


def test_a_model_is_loaded_once_and_shared_by_every_recognizer() -> None:
    models = SpeechModels(model_paths(PACKS, {}))
    first = models.model("ko")
    models.recognizer("ko", 8000, ["예", "아니요"])
    assert models.model("ko") is first
    assert not models.has("zh-CN")  # no Mandarin model configured: the keypad leads
    assert models.missing_words("ko", ["예 아니요", "없는단어입니다"]) == ["없는단어입니다"]


def test_changing_the_grammar_in_the_middle_of_an_utterance_does_not_abort_the_process() -> None:
    # Vosk aborts the process (a Kaldi fatal error) when a grammar is set on a running
    # recognizer: a key pressed mid-sentence, then the next question, used to do it.
    script = """
from backend.config import REPO_ROOT
from speech.stt import SpeechModels
from tests.voice.caller import speak
from voice.packs import load_packs, model_paths
packs = load_packs(REPO_ROOT / "content")
pack = packs["ko"]
recognizer = SpeechModels(model_paths(packs, {})).recognizer("ko", 8000, pack.grammar(pack.answers("menu")))
recognizer.accept(speak("오늘 메뉴")[:8000])
recognizer.listen_for(pack.grammar(pack.answers("yes_no")))
recognizer.accept(speak("네") + bytes(8000))
print(recognizer.finish().text)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "네"


def test_an_elder_pausing_mid_phrase_is_heard_as_one_utterance() -> None:
    models = SpeechModels(model_paths(PACKS, {}))
    recognizer = models.recognizer("ko", 8000, PACKS["ko"].grammar(PACKS["ko"].answers("menu")))
    # Vosk ends an utterance of its own after half a second of silence; the line's own end of
    # speech waits longer, and the parts are one answer.
    recognizer.accept(speak("방문 서비스") + bytes(16000) + speak("예약") + bytes(8000))
    assert recognizer.finish().text == "방문 서비스 예약"
