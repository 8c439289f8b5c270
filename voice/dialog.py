"""What a caller can do on the line, whatever their language (the pack has the words): raise
the alarm and stay on to hear what happens, order today's meal, ask for a person to call back.
What a caller may do is the access kernel's rule (`Subject.may`): on caller id alone, raise the
alarm, ask for a call back and hear what the community tells everyone; their own orders,
messages, payments and decisions once they have keyed their voice PIN on the call."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import cached_property

from backend.access.subject import Door
from backend.community import screens
from backend.emergency import service as emergency
from backend.emergency.models import LIVE_STATUSES, AlertStatus
from backend.phone.models import CallbackFor, Direction
from backend.phone.service import ALARM as UNKNOWN_ALARM
from voice.errands import Errands
from voice.menu import READ, Menu, menu_of
from voice.packs import ALARM
from voice.questions import Interrupted, Question, Silent
from voice.turns import YES_NO, NotChosen

log = logging.getLogger(__name__)


class Dialog(Errands):
    """One call: the menu, a call out's message, the alarm held until she hangs up, a call back."""

    @cached_property
    def home(self) -> Menu:
        """The home every door shows, said: the same entries, words and keys as the TV's."""
        community = self.caller.community
        offered = screens.choices(self.catalog, community.code if community else None, self.locale, Door.PHONE)
        return menu_of(
            self.pack, offered, listening=self.conv.recognizer is not None, readable=self.actions.parts.screens
        )

    async def run(self) -> str:
        """Until the caller is done: how the call ended ("goodbye", "alarm", ...). HungUp and
        TooLong pass through to the line."""
        person = self.caller.person
        calling_out = self.caller.call.direction == Direction.OUT
        if not calling_out:
            self.conv.say(
                self.pack.say("welcome", name=person.name) if person is not None else self.pack.say("welcome_unknown")
            )
            if person is not None:
                await self.act("check_in", self.actions.check_in(person))
        asked_safe = False
        while True:
            try:
                if not asked_safe and not calling_out and person is not None:
                    asked_safe = True
                    await self._roll_calls()
                if calling_out:
                    calling_out = False
                    if await self._message():
                        self.conv.say(self.pack.say("goodbye"))
                        await self.conv.finish()
                        return "goodbye"
                elif await self._menu():
                    self.conv.say(self.pack.say("goodbye"))
                    await self.conv.finish()
                    return "goodbye"
            except Interrupted as wanted:
                if wanted.answer == ALARM:
                    return await self._alarm()
                await self._callback(asked=True)
            except Silent:
                await self._callback(asked=False)
                self.conv.say(self.pack.say("goodbye_silent"))
                await self.conv.finish()
                return "silent"

    async def _menu(self) -> bool:
        """One trip through the menu; True when the caller is done."""
        if self.known:
            answer = await self.conv.ask(Question("menu", self.home.prompt, self.home.keys))
        else:
            answer = await self.conv.ask(Question("menu", self.pack.say("menu_unknown"), {}))
        if answer is None:
            return False
        if not self.known:
            self.conv.say(self.pack.say("needs_known_number"))
            return False
        flows: dict[str, Callable[[], Awaitable[None]]] = {
            "meal": self._meal,
            "book": self._book,
            "orders": self._orders_today,
            "notices": self._notices,
            "consult": self._consult,
            "help": self._help,
        }
        try:
            if answer.value.startswith(READ):
                await self._read(answer.value.removeprefix(READ))
            else:
                await flows[answer.value]()
        except NotChosen:
            return False
        more = await self.conv.ask(Question("yes_no", self.pack.say("anything_else"), YES_NO))
        return more is not None and more.value == "no"

    async def _message(self) -> bool:
        """A call out: the message first, 1 confirms it (its other paths stop); True when the
        person is then done."""
        text = str((self.caller.call.message or {}).get("text", ""))
        heard = await self.conv.ask(Question("yes_no", self.pack.say("message", text=text), {"1": "yes"}))
        if heard is not None and heard.value == "yes" and self.caller.call.message_ref is not None:
            await self.act("confirm_message", self.actions.confirm_message(self.caller.call.message_ref))
            self.conv.say(self.pack.say("message_confirmed"))
        more = await self.conv.ask(Question("yes_no", self.pack.say("anything_else"), YES_NO))
        return more is None or more.value == "no"

    # --- the alarm ----------------------------------------------------------------------

    async def _alarm(self) -> str:
        """Raise it, say who was told, and stay on the line saying each change as it happens.
        Silence never ends this call: the caller may not be able to speak."""
        if not self.known:
            request = await self.act("alarm", self.actions.ask_callback(self.caller, CallbackFor.CENTRE, UNKNOWN_ALARM))
            if request is None:
                self.conv.say(self.pack.say("alarm_failed"))
                await self.conv.finish()
                return "alarm_failed"
            self.conv.say(self.pack.say("callback_made", who=self.pack.say("callback_centre")))
            self.conv.say(self.pack.say("alarm_stay"))
            await self._hold(None)
            return "alarm"
        try:
            pressed = await self.act("alarm", self.actions.raise_alarm(self.caller, self._key("alarm")))
        except Exception:
            log.exception("the alarm could not be stored")
            self.conv.say(self.pack.say("alarm_failed"))
            await self.conv.finish()
            return "alarm_failed"
        self.conv.say(emergency.reply_text(self.catalog, self.locale, pressed))
        self.conv.say(self.pack.say("alarm_stay"))
        await self._hold(pressed)
        return "alarm"

    async def _hold(self, pressed: emergency.Pressed | None) -> None:
        """Until the caller hangs up: news of the alarm as it comes; 9 presses again, * repeats."""
        last = emergency.reply_text(self.catalog, self.locale, pressed) if pressed is not None else None
        news: asyncio.Queue[str] = asyncio.Queue()
        watcher = asyncio.create_task(self._watch(pressed, news)) if pressed is not None else None
        try:
            while True:
                kind, value = await self.conv.hold(news, self.hold_reassure_s)
                if kind == "news" and value is not None:
                    last = value
                    self.conv.say(value)
                elif kind == "key" and value == "9" and pressed is not None:
                    pressed = await self.act("alarm", self.actions.raise_alarm(self.caller, self._key("alarm")))
                    last = emergency.reply_text(self.catalog, self.locale, pressed)
                    self.conv.say(last)
                elif kind == "key" and value == "*" and last is not None:
                    self.conv.say(last)
                elif kind == "quiet":
                    self.conv.say(self.pack.say("alarm_stay"))
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)

    async def _watch(self, pressed: emergency.Pressed, news: asyncio.Queue[str]) -> None:
        """Each change of the alarm, in the caller's words, when it differs from the last said."""
        if self._updates is None:
            return
        said = emergency.reply_text(self.catalog, self.locale, pressed)
        while True:
            message = await self._updates.get()
            if message.get("kind") != "emergency" or message.get("alert_id") != pressed.alert.id:
                continue
            now = await self.actions.alarm_now(pressed.alert.id)
            if now is None:
                continue
            words = (
                emergency.reply_text(self.catalog, self.locale, now)
                if now.alert.status in LIVE_STATUSES
                else self.catalog.text(self.locale, f"emergency.update.{now.alert.status.value}", outcome="")
                if now.alert.status != AlertStatus.RESOLVED
                else self.catalog.text(self.locale, "emergency.resolved")
            )
            if words != said:
                said = words
                await news.put(words)

    # --- call back ----------------------------------------------------------------------

    async def _callback(self, *, asked: bool) -> None:
        """Family (when the caller wants them and has any) or the service centre rings back."""
        asked_of = CallbackFor.CENTRE
        if asked and self.known:
            who = await self.conv.ask(Question("who", self.pack.say("who"), {"1": "family", "2": "centre"}))
            if who is None:
                return
            asked_of = CallbackFor(who.value)
        request = await self.act(
            "callback", self.actions.ask_callback(self.caller, asked_of, "asked" if asked else "silent")
        )
        if request is None:
            self.conv.say(self.pack.say("trouble"))
            return
        if asked_of == CallbackFor.FAMILY and request.asked_of != CallbackFor.FAMILY:
            self.conv.say(self.pack.say("callback_no_family"))
        elif asked:
            self.conv.say(self.pack.say("callback_made", who=self.pack.say(f"callback_{request.asked_of.value}")))
