from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from backend.community.models import Person
from backend.db import transaction
from tests.conftest import Api, Database, make_settings, start_app
from tests.voice.phone import SECRET, AudioSocketCall, register
from voice.line import VoiceLine

ELDER = "+8613800000001"  # 黎文华, 幸福社区
XINGFU_LINE = "+862988880001"  # the number of 幸福社区's service line


@dataclass
class Phone:
    """The app with its phone line open, and the exchange's part of calling it."""

    api: Api
    line: VoiceLine
    db: Database
    people: dict[str, int]

    async def call(self, caller: str, *, called: str = XINGFU_LINE, locale: str = "ko") -> AudioSocketCall:
        call_id = str(uuid.uuid4())
        answer = await register(self.api.client, call_id, caller, called)
        assert answer.status_code == 200, answer.text
        assert self.line.port is not None
        return await AudioSocketCall.dial(self.line.port, call_id, locale)

    async def set_person(self, phone: str, **values: Any) -> None:
        async with transaction(self.db.factory) as session:
            await session.execute(update(Person).where(Person.id == self.people[phone]).values(**values))


@pytest.fixture
def line_settings(tmp_path: Path, db: Database) -> Any:
    return make_settings(tmp_path, db.url, voice_secret=SECRET, voice_audiosocket_port=0, voice_prewarm=False)


@pytest.fixture
async def phone(line_settings: Any, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Phone]:
    local_clock("09:00")  # lunch (until 10:00) and dinner still taking orders
    app, rt = await start_app(line_settings)
    line: VoiceLine = app.state.voice_line
    await line.start()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Phone(Api(client, rt), line, db, people)
    finally:
        await line.stop()
        await rt.close()
