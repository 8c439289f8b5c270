"""Health, readiness, metrics and logs that never show a full phone number."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from backend.observability import JsonFormatter
from backend.phones import mask_phone, mask_phones_in, normalize_phone
from tests.conftest import ELDER, Api, Database, make_settings, start_app


def test_phone_numbers_are_masked_like_138_stars_0001() -> None:
    assert mask_phone("+8613800000001") == "138****0001"
    assert mask_phones_in("sent to +8613800000001 and 13912345678, ok") == "sent to 138****0001 and 139****5678, ok"
    assert normalize_phone("+86 138-0000-0001") == "+8613800000001"


def test_json_logs_mask_phones_and_carry_fields() -> None:
    record = logging.LogRecord("linli", logging.INFO, __file__, 1, "code for %s", ("+8613800000001",), None)
    record.phone = "13800000001"
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["msg"] == "code for 138****0001" and data["phone"] == "138****0001"
    assert "13800000001" not in line


async def test_health_readiness_and_metrics(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "alive"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    await api.sign_in(ELDER)
    metrics = (await api.client.get("/metrics")).text
    assert 'linli_http_requests_total{method="POST",route="/graphql",status="200"}' in metrics


async def test_sms_log_lines_never_show_the_full_number(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        await api.sign_in(ELDER)
    formatted = [JsonFormatter().format(r) for r in caplog.records]
    assert any("138****0001" in line for line in formatted)
    assert not any("13800000001" in line for line in formatted)


@pytest.mark.redis
async def test_readiness_reports_redis_when_configured(
    tmp_path: Path, sqlite_db: Database, redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings(tmp_path, sqlite_db.url, redis_url=redis_url, redis_prefix=redis_prefix)
    app, rt = await start_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ready = await client.get("/readyz")
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    finally:
        await rt.close()
    down = make_settings(tmp_path, sqlite_db.url, redis_url="redis://127.0.0.1:1/0")
    app, rt = await start_app(down)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("error")
    finally:
        await rt.close()


def test_the_shipped_proxy_logs_paths_without_their_query_strings() -> None:
    """nginx's default access log keeps `$request`, query string and all: the TV's event-stream
    ticket and the approval page's pairing code would sit in the proxy's log."""
    import re

    from backend.config import REPO_ROOT

    conf = (REPO_ROOT / "docker" / "nginx.conf").read_text("utf-8")
    formats = {m.group(1): m.group(2) for m in re.finditer(r"log_format\s+(\w+)\s+((?:'[^']*'\s*)+);", conf)}
    uses = re.findall(r"^\s*access_log\s+(\S+)(?:\s+(\w+))?\s*;", conf, re.M)
    server = conf[conf.index("server {") :]
    assert re.search(r"^\s*access_log\s", server, re.M), "the server must name its own access log"
    assert uses and all(path == "off" or name in formats for path, name in uses), uses
    for path, name in uses:
        if path != "off":
            assert not re.search(r"\$(request\b|request_uri|args|query_string|arg_|http_referer)", formats[name])
            assert "$uri" in formats[name]
