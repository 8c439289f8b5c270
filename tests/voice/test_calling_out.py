"""Calling out through the community's own exchange: the `voice` path asks Asterisk (AMI
Originate, through panoramisk) to ring a landline; the test plays the exchange, connecting
the answered call to the line over AudioSocket; the message comes first and 1 confirms it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.community.models import Person
from backend.db import transaction
from backend.notify import service as notify
from backend.notify.models import Delivery, Notification, NotificationSettings, NotificationState
from backend.phone.models import Direction, PhoneCall
from tests.conftest import Database
from tests.voice.ami_standin import AmiStandIn
from tests.voice.conftest import ELDER, XINGFU_LINE, Phone, settings_with_line
from tests.voice.phone import AudioSocketCall

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[AmiStandIn, int]]:
    ami = AmiStandIn("linli", "ami-secret")
    port = await ami.start()
    yield ami, port
    await ami.close()


@pytest.fixture
def line_settings(tmp_path: Path, db: Database, exchange: tuple[AmiStandIn, int]) -> Any:
    return settings_with_line(
        tmp_path,
        db,
        ami_host="127.0.0.1",
        ami_port=exchange[1],
        ami_username="linli",
        ami_secret="ami-secret",
        ami_caller_id=XINGFU_LINE,
    )


async def test_a_notice_rings_her_landline_and_pressing_1_confirms_it(
    phone: Phone, exchange: tuple[AmiStandIn, int]
) -> None:
    ami, _ = exchange
    elder_id = phone.people[ELDER]
    # Given an elder who wants calls first
    async with transaction(phone.db.factory) as session:
        session.add(NotificationSettings(person_id=elder_id, paths=["voice", "sms"]))
    # When a notice is sent to her
    async with transaction(phone.db.factory) as session:
        person = await session.get(Person, elder_id)
        assert person is not None
        sent = await notify.tell(session, phone.api.runtime, person, title="停水通知", text="明天上午停水。")

    # Then the exchange is asked to ring her number and bring the call to the line
    originate = await asyncio.wait_for(ami.originates.get(), 10)
    assert originate["channel"] == "PJSIP/13800000001@linli-trunk"
    assert originate["context"] == "linli-out" and ami.logins == [True]
    variable, _, call_id = originate["variable"].partition("=")
    assert variable == "LINLI_CALL"

    # When she answers (the exchange connects the call to the line) and, hearing it, presses 1
    assert phone.line.port is not None
    call = await AudioSocketCall.dial(phone.line.port, call_id, locale="zh-CN")
    message = await call.hear_for(3.0)
    assert message.speech_s > 2.0
    await call.press("1")
    await call.hear_for(1.0)

    # Then the notice counts as delivered, by that call, and no other path carries it
    async with phone.db.factory() as session:
        n = await session.get(Notification, sent.id)
        assert n is not None and n.state == NotificationState.DELIVERED
        [attempt] = (await session.execute(select(Delivery).where(Delivery.notification_id == sent.id))).scalars()
        record = (await session.execute(select(PhoneCall).where(PhoneCall.call_ref == call_id))).scalar_one()
    assert attempt.path == "voice" and attempt.confirmed_at is not None
    assert record.direction == Direction.OUT and record.person_id == elder_id
    await call.press("2")
    await call.until_hung_up(within_s=60)
    await call.hang_up()
