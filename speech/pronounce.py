"""What is handed to espeak-ng for a text, per locale: the one stage before synthesis.

espeak-ng's `cmn` voice reads Chinese as English-spoken pinyin, and its dictionary misreads
the polyphones a community says all day (长者, 银行, 重新) and reads every run of digits as an
amount. Mandarin is therefore said by the `cmn-latn-pinyin` voice from tone-numbered pinyin
that pypinyin's phrase dictionary gives, after the numbers are put in words as people say
them: a phone number or a code digit by digit (1 as 幺), money in 元, 角 and 分, a time of day
as 下午三点半, a quantity, an age or a date as a number. Cantonese and Korean are read as
written for now. `espeak-ng -q -x -v cmn-latn-pinyin "$(pronounced text)"` shows the phonemes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

DIGITS = "零一二三四五六七八九"
DIALLED = "零幺二三四五六七八九"  # digits as said in a phone number, a code or a room
_UNITS = ("", "十", "百", "千")
_GROUPS = ("", "万", "亿", "万亿")

# Read as pinyin punctuation: a pause, as the Chinese mark is.
_PUNCTUATION = str.maketrans({"，": ",", "。": ".", "？": "?", "！": "!", "；": ";", "：": ",", "、": ",", "·": ","})

_MASKED = re.compile(r"\d{3}\*{4}(\d{4})")
_PHONE = re.compile(r"(?:\+?86[\s-]?)?(?:\d[\s-]?){6,}\d")
_MONEY = re.compile(r"(\d+)(?:\.(\d{1,2}))?\s*(?:元|块)")
_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
_SERVICE_NUMBER = re.compile(r"(?<![\d.])(110|119|120|122|12345|12349|96110)(?![\d.])")  # said as dialled
_YEAR = re.compile(r"(?<!\d)(\d{4})(?=年)")
_ROOM = re.compile(r"(\d+)(?=室|房|号房)")
# Four to six digits are a code (上门码4821) unless a measure word makes them a count (8000步).
_CODE = re.compile(r"(?<![\d.])\d{4,6}(?![\d.]|[份元块步人个米次秒岁年月日号天斤克位名条张件户栋楼])")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_NUMBER = re.compile(r"\d+")


def number(n: int) -> str:
    """An integer as a quantity is said: 12 十二, 105 一百零五, 10000 一万."""
    if n == 0:
        return DIGITS[0]
    groups = []
    while n:
        n, group = divmod(n, 10_000)
        groups.append(group)
    said, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = bool(said)
            continue
        if said and (zero or group < 1000):
            said += DIGITS[0]
        said += _group(group) + _GROUPS[index]
        zero = False
    return said.removeprefix("一") if said.startswith("一十") else said  # 十二, not 一十二


def _group(n: int) -> str:
    said, zero = "", False
    for place in range(3, -1, -1):
        digit = n // 10**place % 10
        if digit == 0:
            zero = bool(said)
            continue
        if zero:
            said += DIGITS[0]
            zero = False
        said += DIGITS[digit] + _UNITS[place]
    return said


def dialled(digits: str) -> str:
    return "".join(DIALLED[int(d)] for d in digits if d.isdigit())


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) == 13 and digits.startswith("86"):  # the country code is not said
        digits = digits[2:]
    return dialled(digits)


def _money(match: re.Match[str]) -> str:
    yuan, cents = int(match.group(1)), (match.group(2) or "").ljust(2, "0")
    jiao, fen = int(cents[0]), int(cents[1])
    said = number(yuan) + "元" if yuan or not (jiao or fen) else ""
    if jiao:
        said += DIGITS[jiao] + "角"
    if fen:
        said += ("零" if yuan and not jiao else "") + DIGITS[fen] + "分"
    return said


_PARTS_OF_DAY = ("凌晨", "早上", "上午", "中午", "下午", "傍晚", "晚上")


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    part = "凌晨" if hour < 6 else "上午" if hour < 12 else "中午" if hour < 13 else "下午" if hour < 18 else "晚上"
    if match.string[: match.start()].endswith(_PARTS_OF_DAY):  # 下午3:30 is said once
        part = ""
    twelve = hour if hour <= 12 else hour - 12
    said = part + ("两" if twelve == 2 else number(twelve)) + "点"
    if minute == 30:
        return said + "半"
    if minute:
        said += ("零" if minute < 10 else "") + number(minute) + "分"
    return said


# Latin letters as a Mandarin speaker spells them (邻里App, B超, TV): the pinyin voice would
# otherwise switch to English for them.
LETTERS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "ei1|bi4|xi1|di4|yi4|ai2 fu1|ji4|ai2 qi1|ai4|jie4|kai4|ai2 le5|ai2 mu5|en1|ou1|pi1|kiu1|a4|ai2 si1"
        "|ti4|you1|wei1|da2 bu5 liu3|ai2 ke4 si1|wai4|zei4".split("|"),
        strict=True,
    )
)
_LATIN = re.compile(r"[A-Za-z]+")


def _spelt(match: re.Match[str]) -> str:
    return " " + " ".join(LETTERS[c] for c in match.group(0).upper()) + " "


def numbers_said(text: str) -> str:
    """Every number in words, by what it is (the order matters: a phone number holds digits a
    code would take, a price holds a decimal point)."""
    text = _MASKED.sub(lambda m: ("" if m.string[: m.start()].endswith("尾号") else "尾号") + dialled(m.group(1)), text)
    text = _PHONE.sub(_phone, text)
    text = _MONEY.sub(_money, text)
    text = _TIME.sub(_time, text)
    text = _SERVICE_NUMBER.sub(lambda m: dialled(m.group(1)), text)
    text = _YEAR.sub(lambda m: "".join(DIGITS[int(d)] for d in m.group(1)), text)
    text = _ROOM.sub(lambda m: dialled(m.group(1)), text)
    text = _CODE.sub(lambda m: dialled(m.group(0)), text)
    text = _PERCENT.sub(lambda m: "百分之" + m.group(1), text)  # said before the number
    text = _DECIMAL.sub(lambda m: number(int(m.group(1))) + "点" + "".join(DIGITS[int(d)] for d in m.group(2)), text)
    return _NUMBER.sub(lambda m: number(int(m.group(0))), text)


@lru_cache(maxsize=4096)
def pronounce(text: str, locale: str) -> str:
    """Exactly what espeak-ng is given for `text` in `locale` (its voice: `speech.tts.VOICES`)."""
    if locale != "zh-CN":
        return text
    words = _LATIN.sub(_spelt, numbers_said(text).replace("/", "或").translate(_PUNCTUATION))
    syllables = lazy_pinyin(words, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=False)
    said = re.sub(r"\s+", " ", " ".join(s.strip() for s in syllables))
    return re.sub(r" ([,.?!;])", r"\1", said).strip()
