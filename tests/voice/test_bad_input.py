"""Bad input on the line is bounded, refused or answered "busy"; a broken call never affects
another, and nothing crashes the process."""

from __future__ import annotations

import asyncio
import json
import struct
import time
import uuid

import pytest
import websockets
from sqlalchemy import select

from backend.phone.models import PhoneCall
from tests.voice.conftest import ELDER, XINGFU_LINE, Phone, settings_with_line
from tests.voice.phone import SECRET, register
from voice.signing import sign

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def closed_by_line(reader: asyncio.StreamReader, within_s: float = 10.0) -> bool:
    """Did the line close the connection (a hang-up message or the end of the stream)?"""
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            header = await asyncio.wait_for(reader.readexactly(3), deadline - time.monotonic())
            kind, length = struct.unpack(">BH", header)
            await reader.readexactly(length)
            if kind == 0x00:
                return True
    except (asyncio.IncompleteReadError, ConnectionError):
        return True
    except TimeoutError:
        return False
    return False


async def open_call(phone: Phone) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    call_id = str(uuid.uuid4())
    assert (await register(phone.api.client, call_id, ELDER, XINGFU_LINE)).status_code == 200
    assert phone.line.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", phone.line.port)
    writer.write(struct.pack(">BH", 0x01, 16) + uuid.UUID(call_id).bytes)
    await writer.drain()
    return reader, writer


async def test_registrations_the_exchange_did_not_sign_are_refused(phone: Phone) -> None:
    call_id = str(uuid.uuid4())
    forged = await register(phone.api.client, call_id, ELDER, XINGFU_LINE, secret="guessed")
    assert forged.status_code == 403
    stale = str(int(time.time()) - 3600)
    old = await phone.api.client.post(
        "/voice/calls",
        data={
            "uuid": call_id,
            "caller": ELDER,
            "called": "",
            "ts": stale,
            "sig": sign(SECRET, call_id, ELDER, "", stale),
        },
    )
    assert old.status_code == 403
    assert (await register(phone.api.client, call_id, ELDER)).status_code == 200
    assert (await register(phone.api.client, call_id, "+8613800000002")).status_code == 400  # no taking over
    async with phone.db.factory() as session:
        [call] = (await session.execute(select(PhoneCall))).scalars().all()
    assert call.person_id == phone.people[ELDER]


async def test_broken_connections_are_closed_and_a_good_call_goes_on(phone: Phone) -> None:
    # Given a good call in progress
    good = await phone.call(ELDER, locale="zh-CN")
    await good.hear_for(0.5)
    assert phone.line.port is not None
    port = phone.line.port

    # When connections arrive that are wrong in every way the protocol allows
    async def first(message: bytes) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(message)
        await writer.drain()
        try:
            return await closed_by_line(reader)
        finally:
            writer.close()

    assert await first(struct.pack(">BH", 0x10, 320) + b"\x00" * 320)  # audio before the call's UUID
    assert await first(struct.pack(">BH", 0x01, 16) + uuid.uuid4().bytes)  # a UUID nobody registered
    assert await first(struct.pack(">BH", 0x01, 4) + b"abcd")  # a UUID of the wrong length

    async def during(message: bytes) -> bool:
        reader, writer = await open_call(phone)
        await asyncio.sleep(0.3)
        writer.write(message)
        await writer.drain()
        try:
            return await closed_by_line(reader)
        finally:
            writer.close()

    assert await during(struct.pack(">BH", 0x42, 1) + b"x")  # a kind that does not exist
    assert await during(struct.pack(">BH", 0x10, 60000))  # a payload no real message has
    assert await during(struct.pack(">BH", 0x10, 321) + b"\x01" * 321)  # half a sample
    burst = b"".join(struct.pack(">BH", 0x10, 320) + b"\x01\x02" * 160 for _ in range(250))
    assert await during(burst)  # 5 s of audio at once: far faster than a line

    # Then the good call still answers its keys
    asked = time.monotonic()
    await good.press("0")
    reply = await good.hear(asked, quiet_s=0.5)
    assert reply.speech_s > 0.5
    await good.hang_up()


@pytest.fixture
def line_settings(tmp_path, db):  # type: ignore[no-untyped-def]
    return settings_with_line(tmp_path, db, voice_max_calls=1, voice_max_call_s=40.0)


async def test_more_calls_than_the_line_takes_hear_busy_and_a_call_that_never_ends_is_ended(phone: Phone) -> None:
    # Given one call on a line that takes one
    first = await phone.call(ELDER, locale="zh-CN")
    await first.hear_for(0.5)
    # When a second caller rings, they hear "busy" and the line hangs up
    second = await phone.call("+8613800000002", locale="zh-CN")
    busy = await second.hear(quiet_s=1.0)
    assert busy.speech_s > 1.0
    await second.until_hung_up(within_s=10)
    # And the first call, past the longest a call may last, is ended with a goodbye
    await first.until_hung_up(within_s=90)
    await first.hang_up()
    await second.hang_up()
    await phone.line.stop()
    async with phone.db.factory() as session:
        outcomes = sorted((await session.execute(select(PhoneCall.outcome))).scalars().all())
    assert outcomes == ["busy", "too_long"]


async def test_a_media_stream_without_a_good_signature_is_closed_before_a_word(phone: Phone) -> None:
    url = phone.api.base.replace("http://", "ws://") + "/voice/stream"
    async with websockets.connect(url) as ws:
        await ws.send("not json")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    async with websockets.connect(url) as ws:
        ts = str(int(time.time()))
        start = {
            "streamSid": "MZ1",
            "callSid": "CA1",
            "customParameters": {
                "caller": ELDER,
                "called": XINGFU_LINE,
                "ts": ts,
                "sig": sign("guessed", "CA1", ELDER, XINGFU_LINE, ts),
            },
        }
        await ws.send(json.dumps({"event": "start", "start": start}))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert message["event"] != "media", "the line spoke to an unsigned stream"
    async with phone.db.factory() as session:
        assert (await session.execute(select(PhoneCall))).scalars().all() == []
