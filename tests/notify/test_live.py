"""Live messages name rows: they go out once those rows are committed, never before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend import live
from backend.db import transaction
from backend.live import person_channel
from tests.conftest import Api, Database


async def first_message(api: Api, channel: str, ready: asyncio.Event) -> dict[str, Any]:
    stream = api.runtime.live.subscribe(channel)
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # the generator has started: subscribed
    ready.set()
    return await waiting


async def test_a_live_message_waits_for_the_commit(api: Api, db: Database) -> None:
    ready = asyncio.Event()
    listening = asyncio.create_task(first_message(api, person_channel(99), ready))
    await ready.wait()
    async with transaction(api.runtime.factory) as session:
        live.after_commit(session, [(person_channel(99), {"kind": "notification", "id": 1})])
        await asyncio.sleep(0.05)
        assert not listening.done()  # nothing yet: the row is not committed
    assert await asyncio.wait_for(listening, 5) == {"kind": "notification", "id": 1}


async def test_a_rolled_back_message_is_never_sent(api: Api, db: Database) -> None:
    ready = asyncio.Event()
    listening = asyncio.create_task(first_message(api, person_channel(98), ready))
    await ready.wait()
    with pytest.raises(RuntimeError):
        async with transaction(api.runtime.factory) as session:
            live.after_commit(session, [(person_channel(98), {"kind": "notification", "id": 2})])
            raise RuntimeError("the handler failed")
    async with transaction(api.runtime.factory) as session:
        live.after_commit(session, [(person_channel(98), {"kind": "notification", "id": 3})])
    assert await asyncio.wait_for(listening, 5) == {"kind": "notification", "id": 3}
