"""What Mandarin is read aloud from: numbers as people say them, polyphones by phrase, and
espeak-ng's `cmn-latn-pinyin` voice speaking Mandarin phonemes for every text Linli has (no
switch into English-spoken pinyin, as the `cmn` voice does)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.config import REPO_ROOT
from speech.pronounce import number, numbers_said, pronounce
from speech.tts import VOICES, Synthesizer

MANDARIN = VOICES["zh-CN"]
CJK = re.compile(r"[\u4e00-\u9fff]")
OTHER_LOCALES = {"yue", "ko"}


def phonemes(text: str, voice: str = MANDARIN) -> str:
    return subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", voice, text], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("请拨打13800138000", "请拨打幺三八零零幺三八零零零"),
        ("+86 138 0013 8000", "幺三八零零幺三八零零零"),
        ("服务中心029-88880001", "服务中心零二九八八八八零零零幺"),
        ("有危险请拨打120或110。", "有危险请拨打幺二零或幺幺零。"),
        ("尾号138****8000", "尾号八零零零"),
        ("打给138****8000", "打给尾号八零零零"),
        ("共12.5元", "共十二元五角"),
        ("共12.05元", "共十二元零五分"),
        ("还差0.5元", "还差五角"),
        ("共30元", "共三十元"),
        ("10:00前预订", "上午十点前预订"),
        ("15:30开始", "下午三点半开始"),
        ("下午3:05到", "下午三点零五分到"),
        ("1号楼2单元101室", "一号楼二单元幺零幺室"),
        ("上门码4821", "上门码四八二幺"),
        ("今天走了8000步", "今天走了八千步"),
        ("2026年12月8日", "二零二六年十二月八日"),
        ("还剩3份", "还剩三份"),
        ("已经105岁了", "已经一百零五岁了"),
        ("体温36.8度", "体温三十六点八度"),
        ("血氧92%", "血氧百分之九十二"),
    ],
)
def test_numbers_are_said_as_people_say_them(text: str, said: str) -> None:
    assert numbers_said(text) == said


@pytest.mark.parametrize(
    ("n", "said"), [(0, "零"), (10, "十"), (12, "十二"), (110, "一百一十"), (1010, "一千零一十"), (10005, "一万零五")]
)
def test_quantities(n: int, said: str) -> None:
    assert number(n) == said


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("长者食堂", "zhang3 zhe3 shi2 tang2"),  # not chang2
        ("到银行办", "dao4 yin2 hang2 ban4"),  # not xing2
        ("请重新输入", "qing3 chong2 xin1 shu1 ru4"),  # not zhong4
        ("还剩三份", "hai2 sheng4 san1 fen4"),
        ("您好，黎文华！", "nin2 hao3, li2 wen2 hua2!"),
    ],
)
def test_polyphones_are_read_by_phrase(text: str, pinyin: str) -> None:
    assert pronounce(text, "zh-CN") == pinyin


def test_the_mandarin_voice_speaks_mandarin_where_the_old_one_spoke_english() -> None:
    # espeak-ng's `cmn` voice turns 紧急呼叫 into English-spoken pinyin ("jin-three ji-two...")
    assert "(en)" in phonemes("紧急呼叫", "cmn")
    said = phonemes(pronounce("紧急呼叫", "zh-CN"))
    assert "(en)" not in said and re.search(r"\d\d", said)  # tone contours, as Mandarin has


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        if CJK.search(node):
            yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in OTHER_LOCALES and key not in ("note", "_about"):  # for whoever edits the file
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def mandarin_texts() -> list[str]:
    """Every Mandarin text Linli may read aloud: the locale, the phone line's pack, the home,
    the knowledge base, the service and canteen catalogues, the call and SMS templates."""
    content = REPO_ROOT / "content"
    files = [p for p in content.rglob("*.json") if not ({"yue", "ko"} & {p.stem, p.parent.name})]
    texts = {text for path in files for text in _strings(json.loads(path.read_text("utf-8")))}
    return sorted({re.sub(r"\{[^}]*\}", "3", text) for text in texts})  # a value: a number


def test_every_mandarin_text_is_read_in_mandarin() -> None:
    texts = mandarin_texts()
    assert len(texts) > 500
    spoken = [pronounce(text, "zh-CN") for text in texts]
    assert not [s for s in spoken if CJK.search(s)], "every character has its pinyin"
    if "(" in phonemes("\n".join(spoken)):  # a switch of language: find which texts
        switched = [text for text, said in zip(texts, spoken, strict=True) if "(" in phonemes(said)]
        pytest.fail(f"read in another language: {switched[:20]}")


async def test_the_wav_for_a_text_is_the_synthesis_of_its_pronunciation(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path)
    try:
        price = await synth.wav("共12.5元", MANDARIN, 165)
        assert price == await synth.wav("共十二元五角", MANDARIN, 165)  # one pronunciation, one WAV
        assert price == synth.path_for(pronounce("共12.5元", "zh-CN"), MANDARIN, 165)
        assert price.stat().st_size > 8000  # a second and more of speech
        # Korean is read as written
        assert await synth.wav("안녕하세요", "ko", 165) == synth.path_for("안녕하세요", "ko", 165)
    finally:
        synth.close()
