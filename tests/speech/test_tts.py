"""Speech synthesis with the real espeak-ng engine, in its worker process."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from speech.tts import Synthesizer, TtsError, TtsTimeout, clean_text


@pytest.fixture
def synth(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Synthesizer(tmp_path / "cache", timeout_s=20, max_chars=50)
    yield s
    s.close()


def seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


async def test_mandarin_korean_and_cantonese_voices_speak(synth: Synthesizer) -> None:
    for text, voice in (("您好，请保持电话畅通", "cmn"), ("안녕하세요", "ko"), ("你好，請保持電話暢通", "yue")):
        path = await synth.wav(text, voice, 165)
        assert path.read_bytes()[:4] == b"RIFF" and seconds(path) > 0.5


async def test_slower_speech_takes_longer(synth: Synthesizer) -> None:
    text = "已通知您的家人和网格员"
    assert seconds(await synth.wav(text, "cmn", 110)) > seconds(await synth.wav(text, "cmn", 200)) * 1.3


async def test_each_text_is_synthesised_once(synth: Synthesizer) -> None:
    first = await synth.wav("助餐", "cmn", 165)
    mtime = first.stat().st_mtime_ns
    synth.close()  # even with no worker running, the cached file answers
    second = await synth.wav("助餐", "cmn", 165)
    assert second == first and second.stat().st_mtime_ns == mtime


async def test_text_is_read_as_text_and_capped(synth: Synthesizer) -> None:
    # A leading dash is words to read, not an option to the engine.
    path = await synth.wav("-v en --help 测试", "cmn", 165)
    assert seconds(path) > 0.5
    assert clean_text("a\x00b\x1bc" + "长" * 100, 50) == "a b c" + "长" * 45


async def test_a_stuck_engine_is_killed_and_the_next_request_works(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path / "cache", timeout_s=0.001, max_chars=300)
    try:
        with pytest.raises(TtsTimeout):
            await synth.wav("这句话来不及说完", "cmn", 165)
        synth.timeout_s = 20
        path = await synth.wav("这句话可以说完", "cmn", 165)
        assert seconds(path) > 0.5
    finally:
        synth.close()


async def test_nothing_to_say_is_an_error(synth: Synthesizer) -> None:
    with pytest.raises(TtsError):
        await synth.wav("  \n ", "cmn", 165)
