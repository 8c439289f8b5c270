"""The home every door shows (`community.screens.choices`), as the phone line says it: each
entry's label and key, in the home's order, with the words the line listens for when the pack
has some (the pack's `menu_entry_said`). The line keeps no menu of its own, so an elder who
knows 1 for meals and 9 for help on the TV finds them on the phone too. An entry the line has
no errand for is read out when its room has a screen (the registry's, `parts.screens`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from backend.community.screens import Choice
from voice.packs import ALARM, PERSON, Pack
from voice.questions import KEYS_EVERYWHERE

# What the line does for each entry it offers: the errand the menu's key starts.
ERRANDS = {
    "meals": "meal",
    "services": "book",
    "orders": "orders",
    "notices": "notices",
    "consult": "consult",
    "mutual_help": "help",
}
READ = "read:"  # an answer that reads the room's screen of the entry after it
# Entries the line hears in every question, on keys it cannot move (conversation.py).
EVERY_QUESTION = {"sos": ALARM, "callback": PERSON}
_KEY_OF = {answer: digit for digit, answer in KEYS_EVERYWHERE.items()}


@dataclass(frozen=True)
class Menu:
    prompt: str
    keys: dict[str, str]  # digit -> errand


def menu_of(pack: Pack, choices: Sequence[Choice], *, listening: bool, readable: Collection[str] = ()) -> Menu:
    """The spoken menu and its keys; the words to say only when the line can hear them (a
    language without a recognition model is keypad only). `readable`: the entries with a
    room's screen. An entry the home offers on the phone that the line can neither do nor
    read, or on another key than the line hears, is a content mistake: it fails here."""
    said, keys = [], {}
    for choice in choices:
        if choice.key in EVERY_QUESTION:
            answer = EVERY_QUESTION[choice.key]
            digit = _KEY_OF[answer]
            if choice.digit != digit:
                raise ValueError(f"the phone line hears {choice.key!r} on {digit}, not {choice.digit}")
        elif choice.key in ERRANDS and choice.digit is not None:
            digit, answer = choice.digit, ERRANDS[choice.key]
            keys[digit] = answer
        elif choice.key in readable and choice.digit is not None:
            digit, answer = choice.digit, READ + choice.key
            keys[digit] = answer
        else:
            raise ValueError(f"the phone line cannot offer {choice.key!r} (no errand, no screen, or no key)")
        words = (pack.listen.get("menu", {}).get(answer) or pack.everywhere.get(answer)) if listening else None
        if words:
            said.append(pack.say("menu_entry_said", label=choice.label, words=words[0], digit=digit))
        else:
            said.append(pack.say("menu_entry", label=choice.label, digit=digit))
    said.append(pack.say("menu_end"))
    return Menu(" ".join(said), keys)
