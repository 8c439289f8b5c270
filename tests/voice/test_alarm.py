"""The alarm on the line: key 9 or the alarm words at any point, even over a prompt; the caller
stays on and hears what happens as it happens. An unknown number still reaches the service
centre of the community it rang."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.community.models import Community
from backend.emergency.models import Alert, AlertSource
from backend.notify.models import Notification, Urgency
from backend.phone.models import CallbackRequest
from tests.conftest import Database
from tests.voice.conftest import ELDER, GRID_WORKER, SERVICE_CENTRE, XINGFU_LINE, Phone, settings_with_line


async def alerts_of(phone: Phone, person_id: int) -> list[Alert]:
    async with phone.db.factory() as session:
        return list((await session.execute(select(Alert).where(Alert.person_id == person_id))).scalars())


async def test_key_9_over_the_greeting_raises_the_alarm_and_the_caller_hears_who_is_coming(phone: Phone) -> None:
    # Given an elder calling, the greeting still playing
    elder_id = phone.people[ELDER]
    call = await phone.call(ELDER, locale="zh-CN")
    await call.hear_for(0.5)

    # When she presses 9
    pressed = time.monotonic()
    await call.press("9")
    reply = await call.hear(pressed, quiet_s=1.5)

    # Then the alarm is stored as raised by phone, and she hears who was told
    [alert] = await alerts_of(phone, elder_id)
    assert alert.source == AlertSource.VOICE
    assert reply.speech_s > 2.0

    # When the grid worker answers in the console, she hears it on the line as it happens
    answered = await phone.api.op(
        "staff/AcknowledgeEmergency", {"emergencyId": str(alert.id)}, await phone.api.sign_in(GRID_WORKER)
    )
    assert answered["data"]["acknowledgeEmergency"]["__typename"] == "Emergency", answered
    told = time.monotonic()
    news = await call.hear(told, quiet_s=1.0, within_s=20)
    assert news.speech_s > 1.0 and news.first_frame_at - told < 10

    # And a second 9 presses again (one alarm, two presses)
    await call.press("9")
    await call.hear(time.monotonic(), quiet_s=1.0)
    [alert] = await alerts_of(phone, elder_id)
    assert alert.presses == 2
    await call.hang_up()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_korean_alarm_words_over_the_menu_raise_the_alarm(phone: Phone) -> None:
    elder_id = phone.people[ELDER]
    await phone.set_person(ELDER, locale="ko")
    call = await phone.call(ELDER)
    await call.hear_for(2.0)
    await phone.speak_until_understood(call, "빨리 와 주세요")
    await call.hear_speech(2.0)
    [alert] = await alerts_of(phone, elder_id)
    assert alert.source == AlertSource.VOICE
    await call.hang_up()


@pytest.fixture
def line_settings(tmp_path: Path, db: Database) -> Any:
    # Calls to a number no community has go to 和平社区's centre.
    return settings_with_line(tmp_path, db, voice_default_line="029-8888-0002")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("called", "community"),
    [
        (XINGFU_LINE, "xingfu"),
        ("88880001", "xingfu"),  # the local number, as an exchange in the same city sends it
        ("12345678", "heping"),  # no community's line: the default line's centre
    ],
)
async def test_an_unknown_number_reaches_the_service_centre_of_the_line_it_rang(
    phone: Phone, called: str, community: str
) -> None:
    # Given a number nobody registered, ringing a community's line
    stranger = "+8613312345678"
    call = await phone.call(stranger, called=called, locale="zh-CN")
    await call.hear_for(0.5)

    # When the caller presses 1 (a meal): that needs a known number, and the menu says so
    await call.press("1")
    refusal = await call.hear_for(1.0)
    assert refusal.speech_s > 0.5
    # When they press 9
    await call.press("9")
    await call.hear_speech(2.0)

    # Then the service centre is asked, urgently, to ring that number back
    async with phone.db.factory() as session:
        [request] = (await session.execute(select(CallbackRequest))).scalars().all()
        centre = phone.people[SERVICE_CENTRE]
        notices = (await session.execute(select(Notification).where(Notification.person_id == centre))).scalars().all()
    assert request.phone == stranger and request.reason == "alarm" and request.person_id is None
    async with phone.db.factory() as session:
        assert (await session.get(Community, request.community_id)).code == community
    [notice] = [n for n in notices if n.kind == "callback"]
    assert notice.urgency == Urgency.EMERGENCY and "13312345678" in notice.body
    listed = await phone.api.op(
        "staff/CallbackRequests", {"communityId": str(request.community_id)}, await phone.api.sign_in(SERVICE_CENTRE)
    )
    assert [r["phone"] for r in listed["data"]["callbackRequests"]] == [stranger]
    await call.hang_up()


def test_a_line_is_known_in_every_form_an_exchange_sends_it() -> None:
    from backend.phone.service import line_of

    xingfu = Community(code="xingfu", name="幸福社区", service_phone="+862988880001")
    heping = Community(code="heping", name="和平社区", service_phone="+862988880002")
    chongqing = Community(code="cq", name="渝中", service_phone="+862368880001")
    lines = [xingfu, heping, chongqing]
    for form in ("+862988880001", "862988880001", "00862988880001", "02988880001", "029-8888-0001", "2988880001"):
        assert line_of(form, lines) is xingfu, form
    assert line_of("88880002", lines) is heping
    assert line_of("68880001", lines) is chongqing
    assert line_of("8880001", lines) is None  # the last 7 digits of two lines: whose is it?
    for nobody in ("", "0", "12345", "99999999", "+8613800000001"):
        assert line_of(nobody, lines) is None, nobody
