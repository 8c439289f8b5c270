"""Asking for a person: 0 at any point, family or the service centre rings back, and the console
lists the request until someone marks it done. Silence gets one more question, then a goodbye
and a call back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.notify.models import Notification, NotificationState
from backend.phone.models import CallbackFor, CallbackRequest, PhoneCall
from tests.voice.conftest import ELDER, SERVICE_CENTRE, SON, Phone, settings_with_line

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def requests(phone: Phone) -> list[CallbackRequest]:
    async with phone.db.factory() as session:
        return list((await session.execute(select(CallbackRequest).order_by(CallbackRequest.id))).scalars())


async def test_key_0_asks_her_son_to_ring_back_and_the_console_lists_it_until_done(phone: Phone) -> None:
    # Given an elder on the line
    call = await phone.call(ELDER, locale="zh-CN")
    await call.hear_for(0.5)
    # When she presses 0 and then 1: her family
    await call.press("0")
    await call.hear_for(0.5)
    await call.press("1")
    said = await call.hear_for(1.0)
    assert said.speech_s > 0.5

    # Then her son gets a notice with her number, and the request is open
    [request] = await requests(phone)
    assert (request.asked_of, request.reason, request.phone) == (CallbackFor.FAMILY, "asked", ELDER)
    async with phone.db.factory() as session:
        notices = (
            await session.execute(select(Notification).where(Notification.person_id == phone.people[SON]))
        ).scalars()
        [notice] = [n for n in notices if n.kind == "callback"]
    assert "13800000001" in notice.body
    staff = await phone.api.sign_in(SERVICE_CENTRE)
    listed = await phone.api.op("staff/CallbackRequests", {"communityId": str(request.community_id)}, staff)
    assert [r["id"] for r in listed["data"]["callbackRequests"]] == [str(request.id)]

    # When the service centre marks it done, it leaves the list and the son is not chased
    done = await phone.api.op("staff/MarkCallbackDone", {"id": str(request.id)}, staff)
    assert done["data"]["markCallbackDone"]["doneAt"] is not None
    listed = await phone.api.op("staff/CallbackRequests", {"communityId": str(request.community_id)}, staff)
    assert listed["data"]["callbackRequests"] == []
    async with phone.db.factory() as session:
        n = await session.get(Notification, notice.id)
        assert n is not None and n.state in (NotificationState.SETTLED, NotificationState.DELIVERED)
    await call.hang_up()


@pytest.fixture
def line_settings(tmp_path, db):  # type: ignore[no-untyped-def]
    return settings_with_line(tmp_path, db, voice_silence_s=1.0)


async def test_a_silent_caller_is_asked_once_more_then_told_we_will_call_back(phone: Phone) -> None:
    # Given a caller from a number nobody registered, who says nothing at all
    stranger = "+8613312345678"
    call = await phone.call(stranger, locale="zh-CN")
    # When the line has asked twice and heard nothing
    await call.until_hung_up(within_s=90)
    # Then it said goodbye and hung up, and the service centre is asked to ring back
    [request] = await requests(phone)
    assert (request.asked_of, request.reason, request.phone) == (CallbackFor.CENTRE, "silent", stranger)
    async with phone.db.factory() as session:
        [record] = (await session.execute(select(PhoneCall))).scalars().all()
        centre = phone.people[SERVICE_CENTRE]
        told = (await session.execute(select(Notification).where(Notification.person_id == centre))).scalars()
        assert [n.kind for n in told] == ["callback"]
    assert record.outcome == "silent"
    await call.hang_up()
