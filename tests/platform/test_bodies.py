"""Every route reads its body through one reader: a body nested too deep (within the size
limit) is the sender's mistake, a 400 that changes nothing, never a 500 with a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend.http_body import BadBody, json_body
from backend.signed_requests import sign
from tests.conftest import Api, Database, in_process, make_settings

DEEP = b"[" * 30_000 + b"]" * 30_000  # 60 KB: within the 64 KiB body limit
SECRET = "partner-secret-0001"


def test_the_reader_refuses_deep_nesting_and_reads_the_rest() -> None:
    assert json_body(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert json_body(b"[" * 32 + b"]" * 32) is not None  # the limit itself
    for bad in (DEEP, b"[" * 33 + b"]" * 33, b'{"a": ' * 40 + b"1" + b"}" * 40, b"\xff", b"{"):
        with pytest.raises(BadBody):
            json_body(bad)


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int]) -> AsyncIterator[Api]:
    settings = make_settings(
        tmp_path,
        db.url,
        sos_vendor_secrets={"band": SECRET},
        points_source_secrets={"shop": SECRET},
        home_signal_secrets={"meter": SECRET},
        provider_callback_token="cb-token-0001",
    )
    async with in_process(settings) as api:
        yield api


def signed(header: str, sender: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "content-type": "application/json",
        header: sender,
        "x-linli-timestamp": timestamp,
        "x-linli-signature": sign(SECRET, timestamp, DEEP),
    }


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/integrations/sos", signed("x-linli-vendor", "band")),
        ("/integrations/points", signed("x-linli-source", "shop")),
        ("/integrations/home-signals", signed("x-linli-source", "meter")),
        ("/callbacks/aliyun/sms/cb-token-0001", {"content-type": "application/json"}),
        ("/callbacks/tencent/sms/cb-token-0001", {"content-type": "application/json"}),
        ("/callbacks/aliyun/voice/cb-token-0001", {"content-type": "application/json"}),
        ("/tv/device/code", {"content-type": "application/json"}),
        ("/tv/device/token", {"content-type": "application/json"}),
    ],
)
async def test_a_body_nested_too_deep_is_a_400_on_every_route(
    api: Api, path: str, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    # Signed fresh: the signature covers this very body.
    headers = {**headers, **({"x-linli-timestamp": str(int(time.time()))} if "x-linli-timestamp" in headers else {})}
    if "x-linli-signature" in headers:
        headers["x-linli-signature"] = sign(SECRET, headers["x-linli-timestamp"], DEEP)
    with caplog.at_level(logging.ERROR):
        response = await api.client.post(path, content=DEEP, headers=headers)
    assert response.status_code == 400, (path, response.status_code, response.text[:200])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], path


async def test_graphql_refuses_a_body_nested_too_deep_too(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        response = await api.client.post("/graphql", content=DEEP, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text[:200]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
