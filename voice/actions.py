"""What the phone line does, through the same services as every other door: each action is
one transaction of its own, with the process's parts handed down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.access import rules
from backend.access.subject import Actor
from backend.auth import service as auth
from backend.commerce import service as commerce
from backend.commerce import today
from backend.commerce.models import Fulfilment, Order
from backend.commerce.today import Ordered
from backend.community import service as community
from backend.community.models import Person
from backend.consultation.knowledge import Article
from backend.db import transaction
from backend.emergency import service as emergency
from backend.mutual_help import screens as help_screen
from backend.mutual_help.models import HelpKind
from backend.notify import service as notify
from backend.notify.models import Notification
from backend.parts import Parts, Screen
from backend.phone import service as phone
from backend.phone.models import CallbackFor, CallbackRequest
from backend.safety import roll_call
from backend.services import service as services
from backend.services.catalog import Offering
from backend.services.models import Booking
from backend.wallet.payments import PayFrom

MAX_NOTICES = 5


@dataclass(frozen=True)
class Actions:
    parts: Parts

    async def begin(self, call_ref: str) -> phone.Caller | None:
        async with transaction(self.parts.factory) as session:
            return await phone.begin(session, call_ref)

    async def record(self, call_id: int, events: Sequence[dict[str, Any]]) -> None:
        async with transaction(self.parts.factory) as session:
            await phone.record(session, call_id, [(str(e.get("kind", "turn")), e) for e in events])

    async def end(self, call_id: int, outcome: str) -> None:
        async with transaction(self.parts.factory) as session:
            await phone.end(session, call_id, outcome)

    async def screen(self, actor: Actor, entry: str, locale: str) -> Screen:
        """A home entry's screen from its room (the registry's, handed down in the parts)."""
        async with self.parts.factory() as session:  # reads only: no write turn
            return await self.parts.screens[entry](session, self.parts, actor, locale)

    async def menu(self, actor: Actor, locale: str) -> list[commerce.Meal]:
        async with self.parts.factory() as session:  # reads only: no write turn
            return await commerce.today_menu(
                session, self.parts.settings, actor, None, texts=self.parts.catalog, locale=locale
            )

    async def order_meal(
        self, actor: Actor, *, product_code: str, quantity: int, fulfilment: Fulfilment, key: str
    ) -> Order:
        """Paid from the caller's own wallet, their subsidies first (wallet.payments)."""
        async with transaction(self.parts.factory) as session:
            order, _new = await commerce.place(
                session,
                self.parts.settings,
                actor,
                person_id=None,
                lines=[(product_code, quantity)],
                fulfilment=fulfilment,
                idempotency_key=key,
                pay_from=PayFrom.BENEFICIARY,
            )
            return order

    async def check_pin(self, person_id: int, pin: str) -> bool | None:
        """True: right; False: wrong; None: locked (or none set). A wrong PIN counts even though
        nothing else happens, so it is its own transaction."""
        async with transaction(self.parts.factory) as session:
            person = await session.get(Person, person_id, with_for_update=True)
            if person is None or person.voice_pin_hash is None or person.voice_pin_failures >= auth.MAX_PIN_FAILURES:
                return None
            return auth.verify_voice_pin(person, pin)

    async def raise_alarm(self, caller: phone.Caller, key: str) -> emergency.Pressed:
        """Through the alarm desk, like every door: stored when this returns."""
        raiser = rules.raiser_of(caller.subject)
        assert raiser is not None
        return await self.parts.alarm_desk.press(emergency.press_by(raiser, key))

    async def alarm_now(self, alert_id: int) -> emergency.Pressed | None:
        async with self.parts.factory() as session:  # reads only: no write turn
            return await emergency.as_it_stands(session, self.parts.settings, alert_id)

    async def ask_callback(self, caller: phone.Caller, asked_of: CallbackFor, reason: str) -> CallbackRequest | None:
        """None when there is no number to ring back, or no community to ask."""
        if caller.call.caller is None or caller.community is None:
            return None
        async with transaction(self.parts.factory) as session:
            return await phone.ask_callback(
                session,
                self.parts,
                phone=caller.call.caller,
                call_id=caller.call.id,
                person=caller.person,
                community_id=caller.community.id,
                asked_of=asked_of,
                reason=reason,
            )

    async def todays(self, actor: Actor, locale: str) -> list[Ordered]:
        async with self.parts.factory() as session:  # reads only: no write turn
            return await today.todays(session, self.parts.settings, self.parts.catalog, actor, locale)

    async def decline(self, actor: Actor, item: Ordered) -> None:
        async with transaction(self.parts.factory) as session:
            await today.decline(session, actor, kind=item.kind, item_id=item.id)

    async def offerings(self, actor: Actor) -> list[Offering]:
        async with self.parts.factory() as session:  # reads only: no write turn
            return (await services.offerings_for(session, self.parts.settings, actor, None))[1]

    async def open_slots(self, actor: Actor, offering_code: str) -> list[dt.datetime]:
        async with self.parts.factory() as session:  # reads only: no write turn
            slots = await services.available_slots(
                session, self.parts.settings, actor, offering_code=offering_code, person_id=None
            )
        return [start for start, left in slots if left > 0]

    async def book(self, actor: Actor, *, offering_code: str, slot_start: dt.datetime, key: str) -> Booking:
        async with transaction(self.parts.factory) as session:
            booking, _new = await services.book(
                session,
                self.parts.settings,
                actor,
                offering_code=offering_code,
                slot_start=slot_start,
                person_id=None,
                note=None,
                idempotency_key=key,
                pay_from=PayFrom.BENEFICIARY,
            )
            return booking

    async def roll_calls(self, household_id: int) -> list[tuple[int, str]]:
        """Roll-calls the caller's home has not answered yet: (id, reason)."""
        async with self.parts.factory() as session:  # reads only: no write turn
            found = await roll_call.open_for_home(session, household_id)
        return [(call.id, call.reason) for call, home in found if home.answered_at is None]

    async def answer_roll_call(self, roll_call_id: int, household_id: int, person_id: int) -> None:
        async with transaction(self.parts.factory) as session:
            await roll_call.answer(
                session, roll_call_id=roll_call_id, household_id=household_id, person_id=person_id, door="phone"
            )

    async def notices(self, person_id: int, *, public_only: bool) -> list[Notification]:
        async with self.parts.factory() as session:  # reads only: no write turn
            return await notify.unread(session, person_id, limit=MAX_NOTICES, public_only=public_only)

    async def confirm_notice(self, actor: Actor, notification_id: int) -> None:
        """Heard and confirmed on the line: it arrived, its fallback stops."""
        async with transaction(self.parts.factory) as session:
            await notify.confirm(session, actor, notification_id, by="phone")

    async def confirm_message(self, message_ref: str) -> int:
        """The person pressed 1 on a call out: every message the call carried arrived."""
        async with transaction(self.parts.factory) as session:
            return await notify.confirm_by_provider(session, message_ref)

    async def articles(self, locale: str, topic: str) -> list[Article]:
        return list(await self.parts.knowledge.by_topic(locale, topic))

    async def ask_desk(self, caller: phone.Caller, article: Article) -> str | None:
        """还要问人 on the line (`phone.ask_a_person`): the kind of desk that will ring the
        caller back, "centre" when the service centre will, None when nobody can (no number)."""
        person, number = caller.person, caller.call.caller
        if person is None or number is None or caller.community is None:
            return None
        async with transaction(self.parts.factory) as session:
            desk = await phone.ask_a_person(
                session,
                self.parts,
                elder=person,
                ring_back=number,
                call_id=caller.call.id,
                community_id=caller.community.id,
                article=article,
                door="phone",
            )
        return desk or CallbackFor.CENTRE.value

    async def help_coming(self, person_id: int) -> list[help_screen.HelpLine]:
        """The caller's open requests someone has said they are coming to."""
        async with self.parts.factory() as session:  # reads only: no write turn
            return [line for line in await help_screen.her_help(session, person_id) if line.doneable]

    async def help_done(self, request_id: int, person: Person) -> None:
        async with transaction(self.parts.factory) as session:
            await help_screen.done(
                session, self.parts.settings.content_dir, elder=person, request_id=request_id, via="phone"
            )

    def help_times(self) -> list[dt.datetime]:
        return help_screen.times(self.parts.settings.zone)

    async def ask_help(self, person: Person, kind: HelpKind, at: dt.datetime) -> bool:
        """A request by phone; True when volunteers nearby were asked (else the centre was told)."""
        async with transaction(self.parts.factory) as session:
            return await help_screen.ask(
                session,
                self.parts.settings.content_dir,
                self.parts.settings.zone,
                elder=person,
                kind=kind,
                at=at,
                door="phone",
            )

    async def check_in(self, person: Person) -> None:
        """A call to the line is a sign of life (the day's check-in, if one is on for them)."""
        async with transaction(self.parts.factory) as session:
            community.sign_of_life(session, person_id=person.id, household_id=person.household_id, door="phone")
