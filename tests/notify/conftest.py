"""The notification tests run the app with the real firebase-admin SDK pointed at the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api, Database, make_settings, start_app
from tests.notify.fcm_standin import FcmStandIn


@pytest.fixture
def standin() -> Iterator[FcmStandIn]:
    with FcmStandIn() as s:
        yield s


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int], standin: FcmStandIn) -> AsyncIterator[Api]:
    settings = make_settings(
        tmp_path, db.url, fcm_credentials_file=standin.service_account(tmp_path / "sa.json"), fcm_endpoint=standin.url
    )
    app, rt = await start_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, rt)
    await rt.close()
