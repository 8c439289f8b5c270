"""SMS through the providers' own SDKs, pointed at local stand-ins of their HTTP APIs: every
message is an approved template with short variables, and the second provider sends when the
first one fails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backend.config import REPO_ROOT
from backend.content.catalog import catalog_for
from backend.gateways.sms import Sms, Templates
from tests.conftest import ELDER, GRID_WORKER, Api, Database, in_process, make_settings
from tests.notify.sms_standins import AliyunSmsStandIn, TencentSmsStandIn, sms_settings, tencent_receipt

TEMPLATES = json.loads((REPO_ROOT / "content" / "sms" / "templates.json").read_text("utf-8"))["templates"]
TOKEN = "cb-2b7c90e4a1f35d68"
NEWCOMER = "+8613955550101"  # not registered: the invitation creates their account


@pytest.fixture
async def api(
    tmp_path: Path, db: Database, people: dict[str, int], aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path, db.url, **sms_settings(aliyun, tencent), provider_callback_token=TOKEN)
    async with in_process(settings, "203.0.113.21") as api:
        yield api


async def ask_code(api: Api, phone: str = ELDER) -> dict[str, Any]:
    return (await api.op("app/RequestLoginCode", {"phone": phone}))["data"]["requestLoginCode"]


async def test_a_sign_in_code_goes_as_the_login_template_with_the_code_variable(
    api: Api, aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> None:
    assert (await ask_code(api))["__typename"] == "LoginCodeSent"

    [sent] = aliyun.to(ELDER)
    assert sent["template"] == TEMPLATES["login_code"]["aliyun"]["zh-CN"]
    assert sent["sign"] == "邻里社区" and list(sent["params"]) == ["code"]
    assert sent["phone"] == "13800000001"  # the mainland number as Aliyun takes it
    signed_in = await api.op("app/SignIn", {"phone": ELDER, "code": sent["params"]["code"]})
    assert signed_in["data"]["signIn"]["accessToken"]
    assert tencent.sent == []  # the first provider took it


async def test_the_first_provider_down_the_second_sends(
    api: Api, aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> None:
    aliyun.down = True

    assert (await ask_code(api))["__typename"] == "LoginCodeSent"

    [sent] = tencent.to(ELDER)
    assert sent["template"] == TEMPLATES["login_code"]["tencent"]["zh-CN"]
    [code] = sent["params"]  # Tencent takes the variables by position
    signed_in = await api.op("app/SignIn", {"phone": ELDER, "code": code})
    assert signed_in["data"]["signIn"]["accessToken"]


async def test_a_provider_too_slow_counts_as_down(
    api: Api, aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> None:
    aliyun.slow_s = 2.5  # past the 1 s the settings give a provider

    assert (await ask_code(api))["__typename"] == "LoginCodeSent"

    assert len(tencent.to(ELDER)) == 1


async def test_a_number_that_cannot_receive_is_not_tried_again_elsewhere(
    api: Api, aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> None:
    answer = await ask_code(api, "+8613800009999")  # the stand-ins' invalid number

    assert answer["code"] == "SMS_UNAVAILABLE"
    assert aliyun.sent == [] and tencent.sent == []


async def test_both_providers_down_the_asker_is_told(
    api: Api, aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> None:
    aliyun.down = tencent.down = True

    answer = await ask_code(api)

    assert answer["code"] == "SMS_UNAVAILABLE" and "短信" in answer["message"]


async def test_an_invitation_reaches_a_newcomer_as_its_own_template(
    api: Api, aliyun: AliyunSmsStandIn, people: dict[str, int]
) -> None:
    await ask_code(api)
    code = aliyun.to(ELDER)[-1]["params"]["code"]
    token = (await api.op("app/SignIn", {"phone": ELDER, "code": code}))["data"]["signIn"]["accessToken"]
    invited = await api.op(
        "app/InviteFamilyMember",
        {"input": {"phone": NEWCOMER, "relation": "外甥", "scopes": ["RECEIVE_ALERTS"]}},
        token,
    )
    assert invited["data"]["inviteFamilyMember"]["status"] == "PENDING"

    await api.settle()
    [sent] = aliyun.to(NEWCOMER)
    assert sent["template"] == TEMPLATES["family_invited"]["aliyun"]["zh-CN"]
    assert sent["params"] == {"inviter": "黎文华", "elder": "黎文华", "relation": "外甥"}


def test_every_template_renders_in_every_locale_within_its_limits() -> None:
    """What each template says is in content/locales; a long value is cut to the variable's
    limit, so the provider never refuses a message for its length."""
    content = REPO_ROOT / "content"
    templates = Templates(content, catalog_for(content))
    for name, spec in TEMPLATES.items():
        for locale in ("zh-CN", "yue", "ko"):
            long_values = {variable: "长" * 80 for variable in spec["variables"]}
            rendered = templates.render(Sms(name, long_values, locale))
            assert "{" not in rendered.text, (name, locale, rendered.text)
            for variable, longest in spec["variables"].items():
                assert len(rendered.params[variable]) <= longest
            assert templates.code("aliyun", Sms(name, {}, locale)).startswith("SMS_")
            assert templates.code("tencent", Sms(name, {}, locale)).isdigit()


def test_every_template_has_its_own_code_at_each_provider() -> None:
    """A code is what the provider sends: two templates on one code would send one's words
    with the other's variables."""
    for provider in ("aliyun", "tencent"):
        owners: dict[str, str] = {}
        for name, spec in TEMPLATES.items():
            for locale, code in spec[provider].items():
                assert code not in owners, (provider, code, owners.get(code), name)
                owners[code] = f"{name}/{locale}"


async def test_a_receipt_that_the_phone_never_got_the_alarm_is_on_its_record(
    api: Api, aliyun: AliyunSmsStandIn, tencent: TencentSmsStandIn
) -> None:
    """Alibaba Cloud is down, Tencent Cloud sends; its receipt says the worker's phone did not
    get it. With no other path here (no app, no calls), the record says nobody was reached."""
    aliyun.down = True

    async def signed_in(phone: str) -> str:
        await ask_code(api, phone)
        code = tencent.to(phone)[-1]["params"][0]
        result = await api.op("app/SignIn", {"phone": phone, "code": code})
        return str(result["data"]["signIn"]["accessToken"])

    await api.op("app/TriggerEmergency", {}, await signed_in(ELDER))
    await api.settle()
    (alarm_sms,) = [m for m in tencent.to(GRID_WORKER) if "黎文华" in m["params"][0]]
    answer = await api.client.post(f"/callbacks/tencent/sms/{TOKEN}", json=[tencent_receipt(alarm_sms, received=False)])
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    await api.settle()
    worker = await signed_in(GRID_WORKER)
    nodes = (await api.op("app/Notifications", {"first": 5}, worker))["data"]["notifications"]["nodes"]
    (alarm,) = [n for n in nodes if n["kind"] == "emergency"]
    assert alarm["state"] == "failed"
    assert ("sms", "failed", "receipt: MK:0001") in [(d["path"], d["result"], d["detail"]) for d in alarm["deliveries"]]
