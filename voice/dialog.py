"""What a caller can do on the line, whatever their language (the pack has the words): raise
the alarm and stay on to hear what happens, order today's meal, ask for a person to call back.
What a caller may do is the access kernel's rule (`Subject.may`): on caller id alone, raise the
alarm, ask for a call back and hear what the community tells everyone; their own orders,
messages, payments and decisions once they have keyed their voice PIN on the call."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from backend.access.subject import Act
from backend.commerce.models import Fulfilment
from backend.commerce.service import Meal
from backend.consultation.knowledge import TOPICS
from backend.content.catalog import Catalog
from backend.emergency import service as emergency
from backend.emergency.models import LIVE_STATUSES, AlertStatus
from backend.errors import DomainError
from backend.gql.errors import message_for
from backend.mutual_help.models import HelpKind
from backend.phone.models import CallbackFor, Direction
from backend.phone.service import ALARM as UNKNOWN_ALARM
from backend.phone.service import Caller
from voice.actions import Actions
from voice.conversation import Conversation, Interrupted, Question, Silent
from voice.packs import ALARM, Pack

log = logging.getLogger(__name__)
T = TypeVar("T")

YES_NO = {"1": "yes", "2": "no"}
MENU_KEYS = {"1": "meal", "2": "book", "3": "orders", "4": "notices", "5": "consult", "6": "help"}
MAX_CHOICES = 8  # dishes read out and chosen by one key
MAX_PIN_TRIES = 3
MAX_SLOTS = 5  # the next open times read aloud


class NotChosen(Exception):
    """Nothing understood after a few tries: back to the menu."""


class Dialog:
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
        prompt = self.pack.say("menu" if self.known else "menu_unknown")
        answer = await self.conv.ask(Question("menu", prompt, MENU_KEYS if self.known else {}))
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

    # --- today's meal -------------------------------------------------------------------

    async def _meal(self) -> None:
        actor = self.caller.actor
        assert actor is not None
        meals = await self.act("menu", self.actions.menu(actor, self.locale))
        words, choices = self._menu_words(meals)
        if not choices:
            self.conv.say(" ".join([*words, self.pack.say("meal_none")]) if not words else " ".join(words))
            return
        names = {str(n): dish.spoken_as for n, (_, dish) in enumerate(choices, 1) if dish.spoken_as}
        meal, dish = choices[await self._choose(" ".join([*words, self.pack.say("meal_choose")]), len(choices), names)]
        quantity = await self.conv.ask(
            Question("quantity", self.pack.say("quantity"), {str(n): str(n) for n in range(1, 10)})
        )
        if quantity is None:
            return
        how = Fulfilment.DELIVERY if meal.delivers else Fulfilment.PICKUP
        if meal.delivers and meal.pick_up:
            answer = await self.conv.ask(
                Question("fulfilment", self.pack.say("fulfilment"), {"1": "delivery", "2": "pickup"})
            )
            if answer is None:
                return
            how = Fulfilment(answer.value)
        count = int(quantity.value)
        what = self.catalog.text(self.locale, "commerce.line", name=dish.name, quantity=count)
        total = self._money(dish.price_fen * count)
        sure = await self.conv.ask(
            Question(
                "yes_no",
                self.pack.say("confirm_order", what=what, how=self.pack.say(how.value), total=total),
                YES_NO,
            )
        )
        if sure is None or sure.value != "yes" or not await self._may(Act.PAY):
            self.conv.say(self.pack.say("not_ordered"))
            return
        try:
            order = await self.act(
                "order_meal",
                self.actions.order_meal(
                    actor, product_code=dish.product_code, quantity=count, fulfilment=how, key=self._key("meal")
                ),
            )
        except DomainError as error:
            self.conv.say(message_for(error, self.locale, self.catalog))
            return
        self.conv.say(self.pack.say("ordered", what=what, total=self._money(order.total_fen)))

    # --- a home service -----------------------------------------------------------------

    async def _book(self) -> None:
        """Which service, the next open times read aloud, confirm, the PIN, booked."""
        actor = self.caller.actor
        assert actor is not None
        offerings = (await self.act("offerings", self.actions.offerings(actor)))[:MAX_CHOICES]
        if not offerings:
            self.conv.say(self.pack.say("book_none"))
            return
        words = [
            self.pack.say("book_item", n=n, name=o.name(self.locale), price=self._money(o.price_fen))
            for n, o in enumerate(offerings, 1)
        ]
        offering = offerings[await self._choose(" ".join([*words, self.pack.say("book_choose")]), len(offerings))]
        slots = (await self.act("slots", self.actions.open_slots(actor, offering.code)))[:MAX_SLOTS]
        what = offering.name(self.locale)
        if not slots:
            self.conv.say(self.pack.say("slot_none", name=what))
            return
        words = [self.pack.say("slot_item", n=n, when=self._when(s)) for n, s in enumerate(slots, 1)]
        slot = slots[await self._choose(" ".join([*words, self.pack.say("slot_choose")]), len(slots))]
        when = self._when(slot)
        sure = await self.conv.ask(
            Question(
                "yes_no",
                self.pack.say("confirm_booking", what=what, when=when, total=self._money(offering.price_fen)),
                YES_NO,
            )
        )
        if sure is None or sure.value != "yes" or not await self._may(Act.PAY):
            self.conv.say(self.pack.say("not_booked"))
            return
        try:
            await self.act(
                "book",
                self.actions.book(actor, offering_code=offering.code, slot_start=slot, key=self._key("book")),
            )
        except DomainError as error:
            self.conv.say(message_for(error, self.locale, self.catalog))
            return
        self.conv.say(self.pack.say("booked", what=what, when=when))

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

    # --- today's orders and bookings ----------------------------------------------------

    async def _orders_today(self) -> None:
        """Each order and booking with where it stands; what family ordered may be declined."""
        if not await self._may(Act.PERSONAL):
            return
        actor = self.caller.actor
        assert actor is not None
        items = await self.act("todays", self.actions.todays(actor, self.locale))
        if not items:
            self.conv.say(self.pack.say("orders_none"))
            return
        for item in items:
            status = self.pack.say(f"status_{item.status}")
            what = (
                item.what
                if item.when is None
                else self.pack.say("booked_for", what=item.what, when=self._when(item.when))
            )
            if not item.declinable or item.by is None:
                self.conv.say(self.pack.say("order_line", what=what, status=status))
                continue
            answer = await self.conv.ask(
                Question(
                    "yes_no",
                    self.pack.say("by_family", by=item.by, what=what, status=status),
                    {"1": "yes", "2": "no"},
                )
            )
            if answer is not None and answer.value == "no" and await self._may(Act.FAMILY_DECISION):
                try:
                    await self.act("decline", self.actions.decline(actor, item))
                except DomainError as error:
                    self.conv.say(message_for(error, self.locale, self.catalog))
                    continue
                self.conv.say(self.pack.say("declined", by=item.by))

    # --- the knowledge base, and a person when it is not enough ----------------------------

    async def _consult(self) -> None:
        """A topic, its answers read by number, the chosen one's plain answer; 2 asks the
        desk that answers it to ring back."""
        names = [self.catalog.text(self.locale, f"consultation.topics.{t}") for t in TOPICS]
        words = [self.pack.say("topic_item", n=n, name=name) for n, name in enumerate(names, 1)]
        topic = TOPICS[await self._choose(" ".join([*words, self.pack.say("topic_choose")]), len(TOPICS))]
        articles = (await self.act("articles", self.actions.articles(self.locale, topic)))[:MAX_CHOICES]
        if not articles:
            self.conv.say(self.pack.say("articles_none"))
            return
        words = [self.pack.say("article_item", n=n, question=a.question) for n, a in enumerate(articles, 1)]
        article = articles[await self._choose(" ".join([*words, self.pack.say("article_choose")]), len(articles))]
        enough = await self.conv.ask(Question("yes_no", self.pack.say("article_answer", plain=article.plain), YES_NO))
        if enough is None or enough.value == "yes":
            return
        asked = await self.act("ask_desk", self.actions.ask_desk(self.caller, article))
        desk = self.catalog.text(self.locale, f"consultation.desks.{article.desk}")
        self.conv.say(self.pack.say("desk_asked", desk=desk) if asked else self.pack.say("trouble"))

    # --- a neighbour's help ---------------------------------------------------------------

    async def _help(self) -> None:
        """Help someone is coming to is asked about first (1: it was done, their hours are
        credited); then what help, when, and 1 to ask the neighbours."""
        if not await self._may(Act.PERSONAL):
            return
        person = self.caller.person
        assert person is not None
        for request, names in await self.act("help_coming", self.actions.help_coming(person.id)):
            what = self.catalog.text(self.locale, f"mutual_help.kinds.{request.kind.value}")
            done = await self.conv.ask(
                Question("yes_no", self.pack.say("help_done_ask", names="、".join(names), help=what), YES_NO)
            )
            if done is not None and done.value == "yes":
                try:
                    await self.act("help_done", self.actions.help_done(request.id, person))
                except DomainError as error:
                    self.conv.say(message_for(error, self.locale, self.catalog))
                    continue
                self.conv.say(self.pack.say("help_done"))
        kinds = list(HelpKind)
        names = [self.catalog.text(self.locale, f"mutual_help.kinds.{k.value}") for k in kinds]
        words = [self.pack.say("help_item", n=n, name=name) for n, name in enumerate(names, 1)]
        chosen = await self._choose(" ".join([*words, self.pack.say("help_choose")]), len(kinds))
        times = self.actions.help_times()
        words = [self.pack.say("slot_item", n=n, when=self._when(at)) for n, at in enumerate(times, 1)]
        at = times[await self._choose(" ".join([*words, self.pack.say("help_when")]), len(times))]
        sure = await self.conv.ask(
            Question("yes_no", self.pack.say("help_confirm", when=self._when(at), help=names[chosen]), YES_NO)
        )
        if sure is None or sure.value != "yes":
            self.conv.say(self.pack.say("help_not_asked"))
            return
        try:
            asked = await self.act("ask_help", self.actions.ask_help(person, kinds[chosen], at))
        except DomainError as error:
            self.conv.say(message_for(error, self.locale, self.catalog))
            return
        self.conv.say(self.pack.say("help_asked" if asked else "help_nobody"))

    # --- notices ------------------------------------------------------------------------

    async def _roll_calls(self) -> None:
        """A roll-call the caller's home has not answered: asked first, 1 answers it. Known
        by caller id is enough, as for an alarm: saying one is safe costs nothing."""
        person = self.caller.person
        if person is None or person.household_id is None:
            return
        for call_id, reason in await self.act("roll_calls", self.actions.roll_calls(person.household_id)):
            answer = await self.conv.ask(Question("yes_no", self.pack.say("roll_call", reason=reason), YES_NO))
            if answer is not None and answer.value == "yes":
                await self.act(
                    "answer_roll_call", self.actions.answer_roll_call(call_id, person.household_id, person.id)
                )
                self.conv.say(self.pack.say("roll_call_answered"))

    async def _notices(self) -> None:
        """New messages read out one by one; 1 confirms (its fallback stops), 2 goes on. Without
        the PIN, only what the community tells everyone (warnings, roll-calls)."""
        own = await self._may(Act.PERSONAL)
        actor = self.caller.actor
        assert actor is not None
        notices = await self.act("notices", self.actions.notices(actor.id, public_only=not own))
        if not notices:
            self.conv.say(self.pack.say("notices_none"))
            return
        for n in notices:
            answer = await self.conv.ask(
                Question("yes_no", self.pack.say("notice", title=n.title, body=n.body), {"1": "yes", "2": "no"})
            )
            if answer is None:
                return
            if answer.value == "yes":
                await self.act("confirm_notice", self.actions.confirm_notice(actor, n.id))
                self.conv.say(self.pack.say("notice_confirmed"))
        self.conv.say(self.pack.say("notices_end"))

    def _when(self, at: dt.datetime) -> str:
        local = at.astimezone(self.zone)
        key = "when" if local.minute == 0 else "when_minutes"
        return self.pack.say(key, month=local.month, day=local.day, hour=local.hour, minute=local.minute)

    def _menu_words(self, meals: list[Meal]) -> tuple[list[str], list[tuple[Meal, Any]]]:
        words: list[str] = []
        choices: list[tuple[Meal, Any]] = []
        for meal in meals:
            if not meal.open:
                words.append(self.pack.say("meal_closed", meal=meal.meal_name, before=meal.order_before))
                continue
            words.append(
                self.pack.say(
                    "meal_heading", merchant=meal.merchant_name, meal=meal.meal_name, before=meal.order_before
                )
            )
            for dish in meal.dishes:
                if len(choices) >= MAX_CHOICES:
                    break
                if dish.portions_left <= 0:
                    continue
                choices.append((meal, dish))
                words.append(
                    self.pack.say("meal_dish", n=len(choices), name=dish.name, price=self._money(dish.price_fen))
                )
        return words, choices

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
