"""The dialog's turns: who is on the line and what they may do, choosing by number, times and
money in the caller's words, and one idempotency key per thing done on the call."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from backend.access.subject import Act
from backend.content.catalog import Catalog
from backend.phone.service import Caller
from voice.actions import Actions
from voice.conversation import Conversation
from voice.packs import Pack
from voice.questions import Question

T = TypeVar("T")

YES_NO = {"1": "yes", "2": "no"}
MAX_CHOICES = 8  # dishes read out and chosen by one key
MAX_PIN_TRIES = 3
MAX_SLOTS = 5  # the next open times read aloud
MAX_READ = 5  # a screen's lines read out at a time: the rest are on the TV


class NotChosen(Exception):
    """Nothing understood after a few tries: back to the menu."""


class Turns:
    """What every flow of a call uses."""

    def __init__(
        self,
        conv: Conversation,
        actions: Actions,
        caller: Caller,
        pack: Pack,
        catalog: Catalog,
        *,
        updates: asyncio.Queue[dict[str, Any]] | None = None,
        hold_reassure_s: float = 30.0,
        zone: ZoneInfo | None = None,
    ) -> None:
        self.conv = conv
        self.actions = actions
        self.caller = caller
        self.pack = pack
        self.catalog = catalog
        self.locale = pack.locale
        # The caller's live channel, listened to from the start of the call: an alarm's news
        # as it happens, none missed between the press and the listening.
        self._updates = updates
        self.hold_reassure_s = hold_reassure_s
        self.zone = zone or ZoneInfo("Asia/Shanghai")
        self._steps = 0  # things done on this call, each with a key of its own

    @property
    def known(self) -> bool:
        return self.caller.actor is not None

    async def act(self, name: str, work: Awaitable[T]) -> T:
        """The pipeline's action stage, timed on the turn that asked for it."""
        began = time.monotonic()
        try:
            return await work
        finally:
            self.conv.acted(name, time.monotonic() - began)

    async def _choose(self, prompt: str, count: int, names: dict[str, tuple[str, ...]] | None = None) -> int:
        """An index into `count` things read out with numbers (or said by `names`, per
        number); NotChosen if none was."""
        keys = {str(n): str(n) for n in range(1, count + 1)}
        while True:
            answer = await self.conv.ask(Question("number", prompt, keys, extra=names or {}))
            if answer is None:
                raise NotChosen()
            if answer.value in keys:
                return int(answer.value) - 1
            self.conv.say(self.pack.say("not_understood"))

    def _when(self, at: dt.datetime) -> str:
        local = at.astimezone(self.zone)
        key = "when" if local.minute == 0 else "when_minutes"
        return self.pack.say(key, month=local.month, day=local.day, hour=local.hour, minute=local.minute)

    async def _may(self, act: Act) -> bool:
        """Whether the caller may do this on this call. A number alone can be borrowed or
        forged: the first time their own data or money is asked for, so is their voice PIN,
        and once keyed it holds for the rest of the call."""
        if self.caller.subject.may(act):
            return True
        person = self.caller.person
        if person is None:
            self.conv.say(self.pack.say("needs_known_number"))
            return False
        if person.voice_pin_hash is None:
            self.conv.say(self.pack.say("needs_pin"))
            return False
        for _ in range(MAX_PIN_TRIES):
            answer = await self.conv.ask(Question("pin", self.pack.say("pin"), {}, digits=4))
            if answer is None:
                return False
            ok = await self.act("check_pin", self.actions.check_pin(person.id, answer.value))
            if ok:
                self.caller = self.caller.with_pin()
                return self.caller.subject.may(act)
            if ok is None:
                self.conv.say(self.pack.say("pin_locked"))
                return False
            self.conv.say(self.pack.say("pin_wrong"))
        return False

    def _money(self, fen: int) -> str:
        yuan = f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"
        return self.catalog.text(self.locale, "commerce.total_money", yuan=yuan)

    def _key(self, what: str) -> str:
        """An idempotency key per thing done on this call: a retried step does it once."""
        self._steps += 1
        return f"voice:{self.caller.call.call_ref}:{what}:{self._steps}"[:100]
