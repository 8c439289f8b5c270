"""The same flows by keypad, in Mandarin, over a gateway's media stream (μ-law in JSON
events): every question can be answered with the keys, and a key stops the prompt. Her own
orders, messages, money and decisions wait for her voice PIN, keyed once a call."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from backend.access.subject import load_subject
from backend.commerce.models import Fulfilment, Order, OrderItem, OrderStatus
from backend.community.models import Community
from backend.config import REPO_ROOT
from backend.consultation.models import ConsultThread
from backend.db import transaction
from backend.mutual_help.models import HelpKind, HelpRequest, RequestStatus
from backend.notify import service as notify
from backend.notify.models import Notification, NotificationState
from backend.services.models import Booking
from speech.tts import voice_for
from tests.voice.caller import speech_seconds
from tests.voice.conftest import ELDER, SERVICE_CENTRE, SON, Phone
from voice.packs import load_pack
from voice.questions import sentences
from voice.turns import MAX_READ

PIN = "2468"

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def rows(phone: Phone, model: Any, **where: Any) -> list[Any]:
    async with phone.db.factory() as session:
        query = select(model).filter_by(**where).order_by(model.id)
        return list((await session.execute(query)).scalars())


async def test_an_elder_orders_lunch_and_books_a_bath_with_the_keys_alone(phone: Phone) -> None:
    # Given an elder with money in her wallet and a PIN, who speaks Mandarin (no Mandarin model here)
    elder_id = phone.people[ELDER]
    await phone.top_up(ELDER, 10000)
    await phone.set_pin(ELDER, PIN)
    call = await phone.stream(ELDER)
    welcome = await call.hear_for(1.5)
    assert welcome.speech_s > 1.0

    # When she presses 1 for a meal over the greeting, 2 for the soft lunch, 2 portions, 2 to
    # pick it up, 1 to confirm, and her PIN
    for key in "12221":
        await call.press(key)
        await call.hear_for(1.0)
    await phone.key_in(call, PIN)
    await call.hear_for(1.0)
    # Then it is ordered and paid, and the line said so over the stream
    [order] = await rows(phone, Order, beneficiary_id=elder_id)
    [item] = await rows(phone, OrderItem, order_id=order.id)
    assert (item.product_code, item.quantity, order.fulfilment) == ("lunch-set-soft", 2, Fulfilment.PICKUP)
    assert any(kind == "clear" for _, kind in call.events)  # keys stopped the gateway's playback

    # When she goes back to the menu and books the first home service at its first open time
    # (the PIN holds for the rest of the call)
    for key in "12111":
        await call.press(key)
        await call.hear_for(1.0)
    # Then the booking is made, and paid with the order from her wallet
    [booking] = await rows(phone, Booking, beneficiary_id=elder_id)
    assert booking.offering_code == "bath-at-home"
    assert await phone.balance(ELDER) == 10000 - order.total_fen - booking.price_fen
    await call.hang_up()


async def test_she_declines_what_her_son_ordered_and_his_money_comes_back(phone: Phone) -> None:
    # Given her son in Shanghai ordered her dinner, paid from his wallet
    elder_id = phone.people[ELDER]
    await phone.top_up(SON, 3000)
    token = await phone.api.sign_in(SON)
    result = await phone.api.op(
        "app/PlaceOrder",
        {
            "personId": str(elder_id),
            "items": [{"productCode": "dinner-noodles", "quantity": 1}],
            "fulfilment": "DELIVERY",
            "payFrom": "ME",
            "idempotencyKey": uuid.uuid4().hex,
        },
        token,
    )
    assert result["data"]["placeOrder"]["__typename"] == "CommerceOrder", result
    assert await phone.balance(SON) == 3000 - 800

    # When she calls, presses 3 to hear today's orders, keys her PIN, and 2: she does not need it
    await phone.set_pin(ELDER, PIN)
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    await call.press("3")
    await call.hear_for(0.5)
    await phone.key_in(call, PIN)
    await call.hear_speech(2.0)
    await call.press("2")
    await call.hear_for(1.0)

    # Then the order is cancelled as declined, and the money is back in his wallet
    [order] = await rows(phone, Order, beneficiary_id=elder_id)
    assert order.status == OrderStatus.CANCELLED and order.cancelled_by_id == elder_id
    assert await phone.balance(SON) == 3000
    await call.hang_up()


async def test_new_notices_are_read_out_and_a_confirmed_one_stops_its_fallback(phone: Phone) -> None:
    # Given a notice for her that no path has confirmed yet
    elder_id = phone.people[ELDER]
    async with transaction(phone.db.factory) as session:
        from backend.community.models import Person

        person = await session.get(Person, elder_id)
        assert person is not None
        sent = await notify.tell(
            session, phone.api.runtime, person, title="停水通知", text="明天上午9点到12点停水，请提前储水。"
        )
    # When she presses 4, keys her PIN and, having heard it, 1
    await phone.set_pin(ELDER, PIN)
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    await call.press("4")
    await call.hear_for(0.5)
    await phone.key_in(call, PIN)
    await call.hear_speech(3.0)  # the notice itself, read out
    await call.press("1")
    await call.hear_for(1.0)
    # Then it counts as delivered, by phone, and no other path will carry it
    [n] = await rows(phone, Notification, id=sent.id)
    assert n.state == NotificationState.DELIVERED and n.read_at is not None
    await call.hang_up()


async def test_an_open_roll_call_is_asked_first_and_key_1_answers_it_for_her_home(phone: Phone) -> None:
    # Given the community asks every home whether it is safe, and hers has not answered
    from backend.community.models import Household, Person
    from backend.safety import roll_call
    from backend.safety.models import RollCallHome

    async with transaction(phone.db.factory) as session:
        elder = await session.get(Person, phone.people[ELDER])
        assert elder is not None and elder.household_id is not None
        household_id = elder.household_id
        home_row = await session.get(Household, household_id)
        assert home_row is not None
        community_id = home_row.community_id
        call_row = await roll_call.start(
            session, community_id=community_id, grid_id=None, minutes=60, reason="暴雨过后报平安"
        )
        call_id = call_row.id
    # When she rings the line and presses 1 after the welcome
    call = await phone.stream(ELDER)
    asked = await call.hear_for(4.0)
    assert asked.speech_s > 2.0  # the welcome, then the question
    await call.press("1")
    await call.hear_for(2.0)
    # Then her home has answered, by phone, in her name
    async with phone.db.factory() as session:
        home = await session.get(RollCallHome, (call_id, household_id))
    assert home is not None and (home.door, home.answered_by_id) == ("phone", phone.people[ELDER])
    await call.hang_up()


async def test_she_hears_an_answer_asks_the_desk_and_asks_a_neighbour_to_read_to_her(phone: Phone) -> None:
    elder_id = phone.people[ELDER]
    await phone.set_pin(ELDER, PIN)
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    # 5 to ask, 1 惠民政策, 1 高龄津贴怎么领, and 2: she still wants a person
    for key in "5112":
        await call.press(key)
        await call.hear_for(1.0)
    [thread] = await rows(phone, ConsultThread, elder_id=elder_id)
    assert (thread.door, thread.ring_back, thread.question) == ("phone", ELDER, "高龄津贴怎么领？")

    # 1: there is more; 6 a neighbour's help, her PIN, 5 读报, 1 the first time offered, 1 yes
    for key in "16":
        await call.press(key)
        await call.hear_for(1.0)
    await phone.key_in(call, PIN)
    await call.hear_for(1.0)
    for key in "511":
        await call.press(key)
        await call.hear_for(1.0)
    [request] = await rows(phone, HelpRequest, elder_id=elder_id)
    assert (request.door, request.kind, request.minutes) == ("phone", HelpKind.READING, 60)

    # The demo volunteer of her grid says she will come; on the line, 1 says it was done.
    volunteer = await phone.api.sign_in("+8613400000001")
    going = await phone.api.op("app/AcceptHelpRequest", {"id": str(request.id)}, volunteer)
    assert going["data"]["acceptHelpRequest"]["status"] == "MATCHED", going
    for key in "161":
        await call.press(key)
        await call.hear_for(1.0)
    [request] = await rows(phone, HelpRequest, elder_id=elder_id)
    assert (request.status, request.confirmed_via) == (RequestStatus.DONE, "phone")
    bank = await phone.api.op("app/TimeBank", {}, volunteer)
    assert bank["data"]["timeBank"]["balanceMinutes"] == 60
    await call.hang_up()


async def screen_read(phone: Phone, entry: str) -> list[str]:
    """What a home entry's room shows her (the registry's screen), as much as the line reads:
    its first lines, and how many more there are."""
    runtime = phone.api.runtime
    token = await phone.api.sign_in(ELDER)
    async with runtime.factory() as session:
        subject = await load_subject(session, runtime.tokens.decode_access(token))
        assert subject is not None and subject.actor is not None
        screen = await runtime.screens[entry](session, runtime, subject.actor, "zh-CN")
    more = len(screen.said) - MAX_READ
    pack = load_pack(REPO_ROOT / "content", "zh-CN")
    return [*screen.said[:MAX_READ], *([pack.say("screen_more", more=more)] if more > 0 else [])]


async def the_line_saying(phone: Phone, texts: list[str]) -> float:
    """Seconds of speech the line makes of these words (a pack prompt by its name)."""
    pack = load_pack(REPO_ROOT / "content", "zh-CN")
    words = " ".join(pack.say(t) if t in pack.prompts else t for t in texts)
    line = phone.line
    pcm = [
        await line.synthesizer.line_pcm(s, voice_for("zh-CN"), line.settings.tts_rate_normal) for s in sentences(words)
    ]
    return speech_seconds(b"".join(pcm))


async def test_keys_7_and_8_read_her_events_and_announcements_from_their_rooms(phone: Phone) -> None:
    """The line has no errand for the notice board: it reads the bulletin room's screens."""
    # Given two classes tomorrow in her community, and no announcement for her home
    async with phone.db.factory() as session:
        xingfu = await session.scalar(select(Community.id).where(Community.code == "xingfu"))
    staff = await phone.api.sign_in(SERVICE_CENTRE)
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for title, place in (("剪纸课", "社区活动室"), ("太极拳", "小区广场")):
        event = {
            "communityId": str(xingfu),
            "kind": "CLASS",
            "title": title,
            "plainText": "老师来教。",
            "place": place,
            "startsAt": starts.isoformat(),
            "endsAt": (starts + dt.timedelta(hours=2)).isoformat(),
            "capacity": 10,
        }
        created = await phone.api.op("staff/CreateCommunityEvent", {"input": event}, staff)
        assert created["data"]["createCommunityEvent"]["placesLeft"] == 10, created
    await phone.set_pin(ELDER, PIN)
    await phone.set_person(ELDER, slow_speech=False)  # the same words, heard sooner

    # When she presses 7 and keys her PIN
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    await call.press("7")
    await call.hear_for(0.5)
    await phone.key_in(call, PIN)
    events = await call.hear_said(within_s=120)  # the screen, then "anything else?"
    # then 1 (there is more), and 8 once the menu has been said, the PIN given on this call
    await call.press("1")
    await call.hear_said()
    await call.press("8")
    nothing = await call.hear_said()
    await call.hang_up()
    await phone.line.stop()

    # Then she heard each room's screen (its first lines, and how many more are on the TV),
    # then "anything else?"; the PIN was asked once for both
    for entry, reply in (("events", events), ("announcements", nothing)):
        expected = await the_line_saying(phone, [*await screen_read(phone, entry), "anything_else"])
        assert abs(reply.speech_s - expected) < 0.15 * expected, (entry, reply.speech_s, expected)
    turns = await phone.last_call_turns()
    assert [t["question"] for t in turns].count("pin") == 1
    assert [t.get("action") for t in turns if t.get("action") == "screen"] == ["screen", "screen"]


async def test_without_a_pin_key_7_reads_nothing_of_hers(phone: Phone) -> None:
    # Given she has set no PIN: the line cannot know it is her
    call = await phone.stream(ELDER)
    await call.hear_for(1.0)
    await call.press("7")
    told = await call.hear_speech(1.0)  # told a PIN is needed and where to set it
    await call.hang_up()
    await phone.line.stop()
    assert told.speech_s >= 1.0
    assert "screen" not in [t.get("action") for t in await phone.last_call_turns()]
