"""SMS: mainland SMS are pre-approved templates (签名 + 模板 with short named variables), never
free text. One interface (`SmsSender.send(phone, Sms)`); adapters for Alibaba Cloud SMS and
Tencent Cloud SMS through their official SDKs; `Failover` tries them in order; a development
sender writes what the template renders to /dev/outbox.

What each template says is `sms.<template>` in `content/locales`, and its code at each provider
and its variables (in order, with their length limits) are in `content/sms/templates.json`.
Production never uses the development outbox: without a provider the service does not start.
No sender logs a message's text (a sign-in code in a log lets whoever reads it sign in as anyone).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from alibabacloud_dysmsapi20170525 import models as aliyun_models
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi import models as aliyun_openapi
from alibabacloud_tea_util import models as aliyun_util
from tencentcloud.common import credential as tencent_credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as tencent_models
from tencentcloud.sms.v20210111 import sms_client as tencent_sms

from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.phones import mask_phone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sms:
    """Which template, with which variables, in whose language."""

    template: str  # "login_code", "not_registered", "family_invited", ...
    params: Mapping[str, str] = field(default_factory=dict)
    locale: str | None = None


class SmsSender(Protocol):
    name: str  # which provider(s), for the path's health report

    async def send(self, phone: str, sms: Sms) -> str | None:
        """Hand the message over; the provider's reference of it ("aliyun-sms:<BizId>"), which
        its delivery receipt names, or None where no receipt comes."""
        ...


class SmsUnavailable(Exception):
    """No provider took the message (refused, down or too slow, all of them)."""


class NumberCannotReceive(SmsUnavailable):
    """The provider says this number cannot receive (invalid, blacklisted, limited for the
    day): another provider or another try will not help."""


class SmsRefused(Exception):
    """This provider did not take the message; the next one may."""


@dataclass(frozen=True)
class Rendered:
    text: str  # what the template renders: the outbox shows it, the provider sends its own copy
    params: dict[str, str]  # the variables as sent (each cut to its limit)
    ordered: list[str]  # the same, in the template's order (Tencent takes them by position)


class Templates:
    """`content/<room>/templates.json` (`sms`, or `calls` for voice notification calls): per
    template, its variables (name: longest value), its code at each provider per locale (a
    template is approved in one language), and the locale key of its words (`<room>.<template>`
    unless it names another)."""

    def __init__(self, content_dir: Path, catalog: Catalog, room: str = "sms") -> None:
        self.catalog = catalog
        self.room = room
        self.specs: dict[str, Any] = json.loads((content_dir / room / "templates.json").read_text("utf-8"))["templates"]

    def render(self, sms: Sms) -> Rendered:
        spec = self.specs.get(sms.template)
        if spec is None:
            raise ValueError(f"no template {sms.template!r} in content/{self.room}/templates.json")
        params = {}
        for name, longest in spec["variables"].items():
            value = str(sms.params.get(name, ""))
            params[name] = value if len(value) <= longest else value[: longest - 1] + "…"
        text = self.catalog.text(sms.locale, spec.get("text", f"{self.room}.{sms.template}"), **params)
        return Rendered(text, params, list(params.values()))

    def code(self, provider: str, sms: Sms) -> str:
        codes: dict[str, str] = self.specs[sms.template][provider]
        return codes.get(sms.locale or "zh-CN") or codes["zh-CN"]


def _endpoint(url: str) -> tuple[str, str]:
    """ "https://dysmsapi.aliyuncs.com" -> ("https", "dysmsapi.aliyuncs.com"); a bare host is https."""
    scheme, sep, host = url.partition("://")
    return (scheme, host) if sep else ("https", url)


def aliyun_config(access_key_id: str, access_key_secret: str, endpoint: str, timeout_s: float) -> Any:
    """An Alibaba Cloud SDK client's settings (SMS and voice calls share them): the endpoint
    as configured, and the timeout on connecting and on reading."""
    protocol, host = _endpoint(endpoint)
    ms = int(timeout_s * 1000)
    return aliyun_openapi.Config(
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        endpoint=host,
        protocol=protocol,
        connect_timeout=ms,
        read_timeout=ms,
    )


# Provider answers that mean the number itself cannot receive (documented error codes).
ALIYUN_CANNOT_RECEIVE = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DAY_LIMIT_CONTROL",
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
    }
)
TENCENT_CANNOT_RECEIVE = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    }
)


CANNOT_RECEIVE = {"aliyun": ALIYUN_CANNOT_RECEIVE, "tencent": TENCENT_CANNOT_RECEIVE}


def _settle(provider: str, code: str | None, ok: str, phone: str, sms: Sms) -> None:
    """What a provider's answer code means: taken, this number cannot receive, or refused."""
    if code == ok:
        log.info("sms via %s to %s (%s)", provider, mask_phone(phone), sms.template)
        return
    if code in CANNOT_RECEIVE[provider]:
        raise NumberCannotReceive(f"{provider}: {code}")
    raise SmsRefused(f"{provider}: {code}")


class AliyunSms:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25, SendSms) through its async SDK."""

    name = "aliyun"

    def __init__(
        self,
        templates: Templates,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str,
        timeout_s: float,
    ) -> None:
        ms = int(timeout_s * 1000)
        self.client = AliyunClient(aliyun_config(access_key_id, access_key_secret, endpoint, timeout_s))
        # No retries inside the SDK: the next provider is the retry.
        self.runtime = aliyun_util.RuntimeOptions(connect_timeout=ms, read_timeout=ms, autoretry=False)
        self.templates = templates
        self.sign_name = sign_name

    async def send(self, phone: str, sms: Sms) -> str | None:
        rendered = self.templates.render(sms)
        request = aliyun_models.SendSmsRequest(
            phone_numbers=phone.removeprefix("+86"),
            sign_name=self.sign_name,
            template_code=self.templates.code(self.name, sms),
            template_param=json.dumps(rendered.params, ensure_ascii=False),
        )
        try:
            answer = await self.client.send_sms_with_options_async(request, self.runtime)
        except Exception as exc:  # the SDK raises its own errors for HTTP failures and timeouts
            raise SmsRefused(f"aliyun: {type(exc).__name__}") from exc
        _settle(self.name, answer.body.code if answer.body is not None else None, "OK", phone, sms)
        biz_id = answer.body.biz_id if answer.body is not None else None
        return f"aliyun-sms:{biz_id}" if biz_id else None


class TencentSms:
    """Tencent Cloud SMS (2021-01-11, SendSms) through its SDK, which is synchronous: it runs
    in a thread, and a call that takes longer than the timeout counts as refused."""

    name = "tencent"

    def __init__(
        self,
        templates: Templates,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        endpoint: str,
        region: str,
        timeout_s: float,
    ) -> None:
        protocol, host = _endpoint(endpoint)
        profile = HttpProfile(endpoint=host, protocol=protocol, reqTimeout=max(1, int(timeout_s)))
        self.client = tencent_sms.SmsClient(
            tencent_credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=profile)
        )
        self.templates = templates
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.timeout_s = timeout_s

    async def send(self, phone: str, sms: Sms) -> str | None:
        rendered = self.templates.render(sms)
        request = tencent_models.SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = self.templates.code(self.name, sms)
        request.TemplateParamSet = rendered.ordered
        try:
            answer = await asyncio.wait_for(asyncio.to_thread(self.client.SendSms, request), self.timeout_s)
        except TencentCloudSDKException as exc:  # an error answer as a whole (not per number)
            if exc.code in TENCENT_CANNOT_RECEIVE:
                raise NumberCannotReceive(f"tencent: {exc.code}") from exc
            raise SmsRefused(f"tencent: {exc.code}") from exc
        except Exception as exc:  # timeouts, connection errors
            raise SmsRefused(f"tencent: {type(exc).__name__}") from exc
        status = answer.SendStatusSet[0] if answer.SendStatusSet else None
        _settle(self.name, status.Code if status is not None else None, "Ok", phone, sms)
        return f"tencent-sms:{status.SerialNo}" if status is not None and status.SerialNo else None


class Failover:
    """The providers in order: when one refuses or times out, the next sends. A number that
    cannot receive is not tried again elsewhere."""

    def __init__(self, providers: Sequence[SmsSender]) -> None:
        self.providers = list(providers)
        self.name = ",".join(p.name for p in self.providers)

    async def send(self, phone: str, sms: Sms) -> str | None:
        refusals = []
        for provider in self.providers:
            try:
                return await provider.send(phone, sms)
            except SmsRefused as exc:
                log.warning("sms provider refused, trying the next: %s", exc)
                refusals.append(str(exc))
        raise SmsUnavailable("; ".join(refusals) or "no SMS provider")


class DevOutboxSms:
    """Development only: appends what each template renders to a JSON-lines file (shared by
    every process on the machine), served at /dev/outbox."""

    name = "development outbox"

    def __init__(self, path: Path, templates: Templates, keep: int = 500) -> None:
        self.path = path
        self.templates = templates
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = asyncio.Lock()

    async def send(self, phone: str, sms: Sms) -> str | None:
        rendered = self.templates.render(sms)
        record = {
            "to": phone,
            "template": sms.template,
            "params": rendered.params,
            "text": rendered.text,
            "at": utcnow().isoformat(),
        }
        log.info("sms (development outbox) to %s, %s", mask_phone(phone), sms.template)
        async with self._lock:
            await asyncio.to_thread(self._append, json.dumps(record, ensure_ascii=False))
        return None  # no receipts in development

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        text = self.path.read_text("utf-8")
        # A line another thread is still appending has no newline yet: it is not a message yet.
        whole = text[: text.rfind("\n") + 1]
        lines: Sequence[str] = whole.splitlines()[-self.keep :]
        items = [json.loads(line) for line in lines if line.strip()]
        if to:
            items = [m for m in items if m["to"] == to]
        return list(reversed(items))  # newest first
