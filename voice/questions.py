"""What the dialog and the conversation say to each other: a question and its answer, the
ways a question ends other than an answer, and prompts cut into sentences."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from voice.packs import ALARM, PERSON, REPEAT, SLOWER


class HungUp(Exception):
    pass


class Interrupted(Exception):
    """The caller asked for the alarm or a person, whatever the question was."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class Silent(Exception):
    """Nothing heard twice in a row: the dialog says goodbye and arranges a call back."""


class TooLong(Exception):
    """The call has lasted longer than a call may."""


@dataclass(frozen=True)
class Question:
    kind: str  # which of the pack's `listen` sets the answers come from
    prompt: str
    keys: Mapping[str, str]  # digit -> answer
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # answer -> phrases of its own
    digits: int = 1  # more than 1: collect digits (a PIN); 9 and 0 are digits then


@dataclass(frozen=True)
class Answer:
    value: str
    by: str  # "key" or "speech"
    heard: str | None = None


def sentences(text: str) -> list[str]:
    """Speech in pieces: the first is spoken while the rest are synthesised."""
    parts = [p.strip() for p in re.split(r"(?<=[。！？!?；;.])\s*", text)]
    return [p for p in parts if p]


# Keys that mean the same in every question: repeat, slower, the alarm, a person.
KEYS_EVERYWHERE = {"*": REPEAT, "#": SLOWER, "9": ALARM, "0": PERSON}


def key_answer(question: Question, digit: str) -> Answer | None:
    """What one key answers (None: nothing in this question)."""
    if digit in KEYS_EVERYWHERE:
        return Answer(KEYS_EVERYWHERE[digit], "key")
    if digit in question.keys:
        return Answer(question.keys[digit], "key")
    return None
