from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backend.community.models import Person
from backend.db import transaction
from tests.conftest import Database, Served, make_settings, serve
from tests.voice.phone import SECRET, AudioSocketCall, StreamCall, register
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

    async def set_person(self, phone: str, **values: Any) -> None:
        async with transaction(self.db.factory) as session:
            await session.execute(update(Person).where(Person.id == self.people[phone]).values(**values))


@pytest.fixture
def line_settings(tmp_path: Path, db: Database) -> Any:
    return make_settings(tmp_path, db.url, voice_secret=SECRET, voice_audiosocket_port=0, voice_prewarm=False)


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
