"""The errands a caller runs on the line, each through the same services as every door:
today's meal, a home service, today's orders (declining what family ordered), the knowledge
base and a person when it is not enough, a neighbour's help, roll-calls and notices."""

from __future__ import annotations

from typing import Any

from backend.access.subject import Act
from backend.commerce.models import Fulfilment
from backend.commerce.service import Meal
from backend.consultation.knowledge import TOPICS
from backend.errors import DomainError
from backend.gql.errors import message_for
from backend.mutual_help import screens as help_screen
from backend.mutual_help.models import HelpKind
from backend.phone.models import CallbackFor
from voice.questions import Question
from voice.turns import MAX_CHOICES, MAX_READ, MAX_SLOTS, YES_NO, Turns


class Errands(Turns):
    """Each errand ends by returning to the menu (NotChosen when nothing was chosen)."""

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
        desk = await self.act("ask_desk", self.actions.ask_desk(self.caller, article))
        if desk is None:
            self.conv.say(self.pack.say("trouble"))
        elif desk == CallbackFor.CENTRE.value:
            self.conv.say(self.pack.say("callback_made", who=self.pack.say("callback_centre")))
        else:
            self.conv.say(
                self.pack.say("desk_asked", desk=self.catalog.text(self.locale, f"consultation.desks.{desk}"))
            )

    # --- a neighbour's help ---------------------------------------------------------------

    async def _help(self) -> None:
        """Help someone is coming to is asked about first (1: it was done, their hours are
        credited); then what help, when, and 1 to ask the neighbours."""
        if not await self._may(Act.PERSONAL):
            return
        person = self.caller.person
        assert person is not None
        for line in await self.act("help_coming", self.actions.help_coming(person.id)):
            what = help_screen.kind_name(self.catalog, self.locale, line.request.kind)
            done = await self.conv.ask(
                Question("yes_no", self.pack.say("help_done_ask", names="、".join(line.going), help=what), YES_NO)
            )
            if done is not None and done.value == "yes":
                try:
                    await self.act("help_done", self.actions.help_done(line.request.id, person))
                except DomainError as error:
                    self.conv.say(message_for(error, self.locale, self.catalog))
                    continue
                self.conv.say(self.pack.say("help_done"))
        kinds = list(HelpKind)
        names = [help_screen.kind_name(self.catalog, self.locale, k) for k in kinds]
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

    async def _read(self, entry: str) -> None:
        """An entry the line has no errand for, read from its room's screen: what it says is
        hers (her place on an event, what her building is told), so only with the PIN."""
        if not await self._may(Act.PERSONAL):
            return
        actor = self.caller.actor
        assert actor is not None
        screen = await self.act("screen", self.actions.screen(actor, entry, self.locale))
        said = list(screen.said[:MAX_READ])
        if len(screen.said) > MAX_READ:
            said.append(self.pack.say("screen_more", more=len(screen.said) - MAX_READ))
        self.conv.say(" ".join(said))

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
