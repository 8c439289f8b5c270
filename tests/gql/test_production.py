"""LINLI_ENV=production: no introspection, no GraphiQL, no suggestions, masked errors,
and only the first-party clients' trusted documents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from backend.config import Env
from backend.gql.extensions import document_hash
from backend.runtime import NoSmsProvider, Runtime
from tests.conftest import ELDER, Api, Database, document, make_settings, start_app
from tests.notify.sms_standins import AliyunSmsStandIn, sms_settings


@pytest.fixture
def aliyun() -> Iterator[AliyunSmsStandIn]:
    with AliyunSmsStandIn() as standin:
        yield standin


class ProdApi(Api):
    aliyun: AliyunSmsStandIn


@pytest.fixture
async def prod(tmp_path: Path, db: Database, aliyun: AliyunSmsStandIn) -> AsyncIterator[ProdApi]:
    from tests.conftest import load_demo

    await load_demo(db)
    settings = make_settings(tmp_path, db.url, env=Env.PRODUCTION, jwt_secret="x" * 40, **sms_settings(aliyun, None))
    app, rt = await start_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = ProdApi(client, rt)
        api.aliyun = aliyun
        yield api
    await rt.close()


async def sign_in(api: ProdApi, phone: str = ELDER) -> str:
    await api.op("app/RequestLoginCode", {"phone": phone})
    [sent] = api.aliyun.to(phone)[-1:]
    result = await api.op("app/SignIn", {"phone": phone, "code": sent["params"]["code"]})
    return result["data"]["signIn"]["accessToken"]


async def test_trusted_documents_work_as_sent_by_the_apps(prod: Api) -> None:
    token = await sign_in(prod)
    home = await prod.op("app/Home", {}, token)
    assert home["data"]["home"]["community"]["name"] == "幸福社区"


async def test_a_document_can_be_sent_by_its_hash_alone(prod: Api) -> None:
    token = await sign_in(prod)
    digest = document_hash(document("app/Me"))
    for body in (
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
        {"documentId": f"sha256:{digest}"},
    ):
        response = await prod.client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["me"]["phone"] == ELDER
    unknown = await prod.client.post("/graphql", json={"documentId": "sha256:" + "0" * 64})
    assert unknown.status_code == 400


async def test_reformatting_a_trusted_document_is_still_trusted(prod: Api) -> None:
    token = await sign_in(prod)
    squashed = " ".join(document("app/Home").split())
    result = await prod.gql(squashed, token=token)
    assert result["data"]["home"]["buttons"]


async def test_unknown_documents_are_refused(prod: Api) -> None:
    token = await sign_in(prod)
    result = await prod.gql("{ me { id phone } }", token=token)
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "UNTRUSTED_DOCUMENT"


async def test_introspection_is_refused(prod: Api) -> None:
    result = await prod.gql("{ __schema { types { name } } }")
    assert result["data"] is None
    # Refused as untrusted (which says nothing more), and disabled besides.
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNTRUSTED_DOCUMENT"]
    assert prod.runtime.settings.introspection is False


async def test_graphiql_is_not_served(prod: Api) -> None:
    response = await prod.client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in response.text.lower()
    assert response.status_code in (400, 404, 405)


async def test_no_field_suggestions_leak_the_schema(prod: Api) -> None:
    # Unknown to the trusted list anyway, but validation must not hint at real fields either.
    result = await prod.gql("{ mee { id } }")
    assert not any("Did you mean" in e["message"] for e in result["errors"])


async def test_unexpected_errors_are_masked_with_a_request_id(prod: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.community import service

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(service, "get_person", broken)
    token = await sign_in(prod)
    response = await prod.post(document("app/Person"), {"id": "1"}, token, **{"X-Request-Id": "req-abc-123"})
    body = response.json()
    assert "secret" not in response.text
    assert body["errors"][0]["message"] == "Unexpected error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL", "requestId": "req-abc-123"}
    assert response.headers["x-request-id"] == "req-abc-123"


async def test_the_development_sms_outbox_does_not_exist(prod: Api) -> None:
    assert (await prod.client.get("/dev/outbox")).status_code == 404


async def test_production_without_an_sms_provider_does_not_start_and_says_why(tmp_path: Path, db: Database) -> None:
    settings = make_settings(tmp_path, db.url, env=Env.PRODUCTION, jwt_secret="x" * 40)
    with pytest.raises(NoSmsProvider, match="LINLI_SMS_PROVIDERS"):
        Runtime.create(settings)
    assert not (settings.var_dir / "dev-outbox.jsonl").exists()


async def test_with_every_provider_down_production_sends_nothing_and_says_so(
    tmp_path: Path, db: Database, aliyun: AliyunSmsStandIn
) -> None:
    from tests.conftest import load_demo

    await load_demo(db)
    aliyun.down = True
    settings = make_settings(tmp_path, db.url, env=Env.PRODUCTION, jwt_secret="x" * 40, **sms_settings(aliyun, None))
    app, rt = await start_app(settings)
    try:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, rt)
            asked = await api.op("app/RequestLoginCode", {"phone": ELDER})
            assert asked["data"]["requestLoginCode"]["code"] == "SMS_UNAVAILABLE"
            assert "短信暂时发不出去" in asked["data"]["requestLoginCode"]["message"]
            assert (await client.get("/dev/outbox", params={"to": ELDER})).status_code == 404
    finally:
        await rt.close()
    assert not (settings.var_dir / "dev-outbox.jsonl").exists()


async def test_metrics_answer_only_the_scraper_in_production(
    tmp_path: Path, db: Database, aliyun: AliyunSmsStandIn
) -> None:
    for token, asked_with, status in ((None, None, 404), ("scrape-secret", None, 404), ("scrape-secret", "nope", 404)):
        settings = make_settings(
            tmp_path, db.url, env=Env.PRODUCTION, jwt_secret="x" * 40, metrics_token=token, **sms_settings(aliyun, None)
        )
        app, rt = await start_app(settings)
        try:
            transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                headers = {"Authorization": f"Bearer {asked_with}"} if asked_with else {}
                assert (await client.get("/metrics", headers=headers)).status_code == status
                if token:
                    scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
                    assert scraped.status_code == 200 and "linli_" in scraped.text
        finally:
            await rt.close()


async def test_an_untrusted_document_learns_nothing_about_the_schema(prod: Api) -> None:
    token = await sign_in(prod)
    result = await prod.gql("{ me { idx phone } }", token=token)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNTRUSTED_DOCUMENT"]
    assert "idx" not in str(result) and "Me" not in str(result)


async def test_expected_errors_are_not_logged_as_errors(prod: Api, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    token = await sign_in(prod)
    caplog.set_level(logging.INFO)
    for _ in range(3):
        missing = await prod.op("app/Person", {"id": "999999"}, token)
        assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        bad = await prod.op("app/Person", {"id": "x"}, token)
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
        # A resident at a staff field, and nobody signed in: refused in words, not masked.
        staff_only = await prod.op("staff/OpenEmergencies", {}, token)
        assert staff_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert staff_only["errors"][0]["message"] == "您没有权限做这件事。"
        anonymous = await prod.op("app/Person", {"id": "1"})
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not any(r.exc_info for r in caplog.records)
