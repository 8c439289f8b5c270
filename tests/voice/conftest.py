from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from backend.community.models import Person
from backend.db import transaction
from backend.phone.models import PhoneCall, PhoneCallEvent
from tests.conftest import Database, Served, make_settings, serve
from tests.voice.phone import SECRET, AudioSocketCall, Call, StreamCall, register
from voice.line import VoiceLine

ELDER = "+8613800000001"  # 黎文华, 幸福社区, slow speech; her son 秦磊燕 receives her alerts
SON = "+8613900000001"
GRID_WORKER = "+8613700000001"  # 赵晓燕, 幸福社区 grid 1
SERVICE_CENTRE = "+8613700000004"
XINGFU_LINE = "+862988880001"  # 幸福社区's service line: the number callers ring


@dataclass
class Phone:
    """The app served on a real port with its phone line open, and the exchange's part."""

    api: Served
    line: VoiceLine
    db: Database
    people: dict[str, int]

    async def call(self, caller: str, *, called: str = XINGFU_LINE, locale: str = "ko") -> AudioSocketCall:
        """Over AudioSocket, registered by the dialplan first."""
        call_id = str(uuid.uuid4())
        answer = await register(self.api.client, call_id, caller, called)
        assert answer.status_code == 200, answer.text
        assert self.line.port is not None
        return await AudioSocketCall.dial(self.line.port, call_id, locale)

    async def stream(self, caller: str, *, called: str = XINGFU_LINE, locale: str = "zh-CN") -> StreamCall:
        """Over a gateway's media stream."""
        return await StreamCall.dial(self.api.base, "CA" + uuid.uuid4().hex, caller, called, locale=locale)

    async def speak_until_understood(self, call: Call, text: str, *, tries: int = 3) -> None:
        """Say it, and again if the line did not understand (as a caller does when asked
        again): the small Korean model mishears espeak-ng now and then."""
        for _ in range(tries):
            seen = await self._turns()
            await call.say(text)
            deadline = time.monotonic() + 10
            while await self._turns() == seen:
                assert time.monotonic() < deadline, "the line recorded no turn for what was said"
                await asyncio.sleep(0.05)
            async with self.db.factory() as session:
                last = (
                    await session.execute(select(PhoneCallEvent).order_by(PhoneCallEvent.id.desc()).limit(1))
                ).scalar_one()
            if last.detail.get("heard") == text and last.detail.get("answer") is not None:
                return
        raise AssertionError(f"{text!r} was not understood in {tries} tries")

    async def last_call_turns(self) -> list[dict[str, Any]]:
        """The last call's turns as the line recorded them (never what was said)."""
        async with self.db.factory() as session:
            call = (await session.execute(select(PhoneCall).order_by(PhoneCall.id.desc()).limit(1))).scalar_one()
            events = await session.scalars(
                select(PhoneCallEvent).where(PhoneCallEvent.call_id == call.id).order_by(PhoneCallEvent.id)
            )
            return [e.detail for e in events if e.detail.get("kind") == "turn"]

    async def _turns(self) -> int:
        async with self.db.factory() as session:
            return int(await session.scalar(select(func.count()).select_from(PhoneCallEvent)) or 0)

    async def top_up(self, who: str, amount_fen: int) -> None:
        """Money into someone's wallet, as they would top it up in the app."""
        result = await self.api.op(
            "app/TopUpWallet",
            {"amountFen": amount_fen, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex},
            await self.api.sign_in(who),
        )
        assert result["data"]["topUpWallet"]["__typename"] == "WalletToppedUp", result

    async def balance(self, who: str) -> int:
        result = await self.api.op("app/Wallet", {}, await self.api.sign_in(who))
        return int(result["data"]["wallet"]["balanceFen"])

    async def set_pin(self, who: str, pin: str) -> None:
        """Set at the service centre's counter, as staff do for an elder without the app."""
        staff = await self.api.sign_in(SERVICE_CENTRE)
        result = await self.api.op("staff/SetVoicePinFor", {"personId": str(self.people[who]), "pin": pin}, staff)
        assert result["data"]["setVoicePinFor"] == {
            "__typename": "Person",
            "id": str(self.people[who]),
            "hasVoicePin": True,
        }, result

    async def key_in(self, call: Call, digits: str) -> None:
        """Digits keyed one after another, as a PIN is: the line says nothing between them."""
        for digit in digits:
            await call.press(digit)
            await asyncio.sleep(0.1)

    async def set_person(self, phone: str, **values: Any) -> None:
        async with transaction(self.db.factory) as session:
            await session.execute(update(Person).where(Person.id == self.people[phone]).values(**values))


def settings_with_line(tmp_path: Path, db: Database, **more: Any) -> Any:
    """Test settings with the line open: signed calls, AudioSocket on a free port."""
    return make_settings(tmp_path, db.url, voice_secret=SECRET, voice_audiosocket_port=0, voice_prewarm=False, **more)


@pytest.fixture
def line_settings(tmp_path: Path, db: Database) -> Any:
    return settings_with_line(tmp_path, db)


@pytest.fixture
async def phone(line_settings: Any, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Phone]:
    local_clock("09:00")  # lunch (until 10:00) and dinner still taking orders
    async with serve(line_settings) as served:
        line: VoiceLine = served.app.state.voice_line
        await line.start()
        try:
            yield Phone(served, line, db, people)
        finally:
            await line.stop()
