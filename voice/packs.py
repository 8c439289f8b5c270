"""Language packs of the phone line (content/voice/<locale>/pack.json): what the line says and
the phrases it listens for. The dialog knows no language: a pack is data.

A pack's `listen` maps each kind of question to its answers and their phrases; `everywhere`
holds the phrases heard in every question (the alarm words above all); `background` words
catch other speech, which a grammar would otherwise force onto one of its phrases.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What the keypad and the words heard in every question mean.
ALARM, REPEAT, SLOWER, PERSON = "alarm", "repeat", "slower", "person"
EVERYWHERE = (ALARM, REPEAT, SLOWER, PERSON)


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"a prompt needs {key!r}")


@dataclass(frozen=True)
class Pack:
    locale: str
    prompts: Mapping[str, str]
    listen: Mapping[str, Mapping[str, tuple[str, ...]]]
    everywhere: Mapping[str, tuple[str, ...]]
    background: tuple[str, ...]
    model: Mapping[str, str] = field(default_factory=dict)  # {"setting": name} or {"package": module}

    def say(self, key: str, **params: Any) -> str:
        return self.prompts[key].format_map(_Params(params))

    def answers(self, kind: str, extra: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, str]:
        """phrase -> answer for one kind of question (with phrases of its own, such as dish
        names), the words heard everywhere included."""
        found: dict[str, str] = {}
        for answers in (self.everywhere, self.listen.get(kind, {}), extra or {}):
            for answer, phrases in answers.items():
                for phrase in phrases:
                    found.setdefault(phrase, answer)
        return found

    def grammar(self, phrases: Mapping[str, str]) -> list[str]:
        """What the recognizer may hear: the phrases, and the background that catches the rest."""
        return [*phrases, *self.background]

    def all_phrases(self) -> list[str]:
        return sorted({p for kind in self.listen for p in self.answers(kind)})


def load_pack(content_dir: Path, locale: str) -> Pack:
    raw: dict[str, Any] = json.loads((content_dir / "voice" / locale / "pack.json").read_text("utf-8"))

    def phrases(node: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        return {str(k): tuple(str(p) for p in v) for k, v in node.items()}

    everywhere = phrases(raw.get("everywhere", {}))
    unknown = set(everywhere) - set(EVERYWHERE)
    if unknown:
        raise ValueError(f"voice pack {locale}: unknown 'everywhere' answers {sorted(unknown)}")
    return Pack(
        locale=locale,
        prompts={str(k): str(v) for k, v in raw["prompts"].items()},
        listen={str(kind): phrases(node) for kind, node in raw.get("listen", {}).items()},
        everywhere=everywhere,
        background=tuple(raw.get("background", [])),
        model=raw.get("model") or {},
    )


def load_packs(content_dir: Path) -> dict[str, Pack]:
    root = content_dir / "voice"
    return {d.name: load_pack(content_dir, d.name) for d in sorted(root.iterdir()) if (d / "pack.json").exists()}


def model_paths(packs: Mapping[str, Pack], settings: Mapping[str, Path | None]) -> dict[str, Path | None]:
    """Where each pack's recognition model is: a directory named by a setting (the Mandarin
    model, installed by the deployment), a model shipped in a Python package, or none (the
    keypad leads)."""
    found: dict[str, Path | None] = {}
    for locale, pack in packs.items():
        if "setting" in pack.model:
            found[locale] = settings.get(pack.model["setting"])
        elif "package" in pack.model:
            spec = importlib.util.find_spec(pack.model["package"])
            origin = spec.origin if spec is not None else None
            found[locale] = Path(origin).parent / "model" if origin else None
        else:
            found[locale] = None
    return found
