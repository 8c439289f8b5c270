"""A number can be borrowed or forged. On caller id alone the line lets her raise the alarm
and hear what the community tells everyone; her own orders, messages and decisions wait for
her voice PIN, and a wrong PIN opens nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.commerce.models import Order, OrderStatus
from backend.community.models import Person
from backend.db import transaction
from backend.notify import service as notify
from backend.notify.models import Notification
from tests.voice.conftest import ELDER, SON, Phone

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def sons_dinner_for_her(phone: Phone) -> int:
    await phone.set_person(ELDER, slow_speech=False)  # the same words, heard sooner
    await phone.top_up(SON, 3000)
    result = await phone.api.op(
        "app/PlaceOrder",
        {
            "personId": str(phone.people[ELDER]),
            "items": [{"productCode": "dinner-noodles", "quantity": 1}],
            "fulfilment": "DELIVERY",
            "payFrom": "ME",
            "idempotencyKey": uuid.uuid4().hex,
        },
        await phone.api.sign_in(SON),
    )
    assert result["data"]["placeOrder"]["__typename"] == "CommerceOrder", result
    return int(result["data"]["placeOrder"]["id"])


async def notices_for_her(phone: Phone) -> tuple[int, int]:
    """A message of her own (her doctor's reminder) and an official warning everyone got."""
    async with transaction(phone.db.factory) as session:
        elder = await session.get(Person, phone.people[ELDER])
        assert elder is not None
        own = await notify.send(session, phone.api.runtime, elder, kind="reminder", title="复诊", body="周三上午复诊")
        warning = await notify.send(
            session, phone.api.runtime, elder, kind=notify.WARNING, title="防汛预警", body="今晚有暴雨，请不要外出"
        )
        return own.id, warning.id


async def questions_asked(phone: Phone) -> list[Any]:
    return [t.get("question") for t in await phone.last_call_turns()]


async def state(phone: Phone, order_id: int, *notices: int) -> tuple[OrderStatus, list[bool]]:
    async with phone.db.factory() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        read = [(await session.get(Notification, n)) for n in notices]
        return order.status, [n is not None and n.read_at is not None for n in read]


async def test_without_a_pin_she_hears_only_public_notices_and_can_decline_nothing(phone: Phone) -> None:
    # Given her son ordered her dinner, and she has a message of her own and an official warning
    order_id = await sons_dinner_for_her(phone)
    own, warning = await notices_for_her(phone)

    # When someone calls from her number (she has set no PIN) and presses 3 for today's orders
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    await call.press("3")
    await call.hear_speech(2.0)  # told a PIN is needed and where to set it
    # then 1 (back to the menu), 4 for messages, and 1 to confirm the one read out
    for key in "141":
        await call.press(key)
        await call.hear_for(1.0)
    await call.hang_up()
    await phone.line.stop()

    # Then the son's order stands, nothing of hers was offered, and only the warning was read
    assert await state(phone, order_id, own, warning) == (OrderStatus.PLACED, [False, True])
    asked = await questions_asked(phone)
    assert "pin" not in asked  # none set: never asked
    assert asked.count("yes_no") == 2  # "anything else?", then the warning's confirm; no family order offered


async def test_a_wrong_pin_opens_nothing_and_the_right_one_opens_it_for_the_call(phone: Phone) -> None:
    # Given her son ordered her dinner and she has set a PIN at the centre
    order_id = await sons_dinner_for_her(phone)
    own, warning = await notices_for_her(phone)
    await phone.set_pin(ELDER, "2468")

    # When a caller from her number presses 3 and keys a wrong PIN three times
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    await call.press("3")
    for _ in range(3):
        await call.hear_for(0.5)  # asked for the PIN (again)
        await phone.key_in(call, "1357")
    await call.hear(quiet_s=1.0)
    # Then nothing of hers was read or changed
    assert await state(phone, order_id, own, warning) == (OrderStatus.PLACED, [False, False])

    # When she goes back to the menu, presses 3 again, keys the right PIN: her son's order is
    # read out, and she keeps it (1)
    for key in "13":
        await call.press(key)
        await call.hear_for(0.5)
    await phone.key_in(call, "2468")
    await call.hear_speech(2.0)
    await call.press("1")
    await call.hear(quiet_s=1.0)
    # and then 1 for the menu, 4: her own messages are read now too, with no PIN asked again;
    # she confirms each (her son's order told her too: three in all)
    for key in "14":
        await call.press(key)
        await call.hear_for(0.5)
    for _ in range(3):
        await call.hear(quiet_s=1.0)
        await call.press("1")
    await call.hear(quiet_s=1.0)
    await call.hang_up()
    await phone.line.stop()

    # Then both messages were confirmed, the order stands, and the PIN was asked on one flow only
    assert await state(phone, order_id, own, warning) == (OrderStatus.PLACED, [True, True])
    asked = await questions_asked(phone)
    assert asked.count("pin") == 4
    async with phone.db.factory() as session:
        person = await session.get(Person, phone.people[ELDER])
        assert person is not None and person.voice_pin_failures == 0  # the right PIN cleared the count
