"""The notification tests run the app with the real firebase-admin SDK pointed at the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import Api, Database, in_process, make_settings
from tests.notify.fcm_standin import FcmStandIn
from tests.notify.sms_standins import AliyunSmsStandIn, TencentSmsStandIn


@pytest.fixture
def aliyun() -> Iterator[AliyunSmsStandIn]:
    """Alibaba Cloud SMS, for the tests that send through a provider's SDK."""
    with AliyunSmsStandIn() as standin:
        yield standin


@pytest.fixture
def tencent() -> Iterator[TencentSmsStandIn]:
    with TencentSmsStandIn() as standin:
        yield standin


@pytest.fixture
def standin() -> Iterator[FcmStandIn]:
    with FcmStandIn() as s:
        yield s


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int], standin: FcmStandIn) -> AsyncIterator[Api]:
    settings = make_settings(
        tmp_path, db.url, fcm_credentials_file=standin.service_account(tmp_path / "sa.json"), fcm_endpoint=standin.url
    )
    async with in_process(settings, "203.0.113.9") as api:
        yield api
