"""Local stand-ins for the two mainland SMS providers (this machine cannot reach them), each
speaking its documented HTTP API to the provider's own SDK:

- Alibaba Cloud SMS, dysmsapi 2017-05-25 `SendSms` (RPC style: the parameters in the query
  string, `x-acs-action` / `x-acs-version` headers, an `ACS3-HMAC-SHA256` Authorization);
  answers `{"Code": "OK", "BizId": ...}` or an `isv.*` error code.
- Tencent Cloud SMS 2021-01-11 `SendSms` (JSON body, `X-TC-Action` / `X-TC-Version`, a
  `TC3-HMAC-SHA256` Authorization); answers `{"Response": {"SendStatusSet": [...]}}` with a
  per-number status code, or `{"Response": {"Error": ...}}`.

`down` makes a stand-in answer 503, `slow_s` makes it answer late. A number ending in 9999
cannot receive (each provider's documented code for an invalid number).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.standin_http import answer_json, serve

ACCESS_KEY_ID = "LTAI-standin"
SECRET_ID = "AKID-standin"


class _StandIn(ABC):
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.down = False
        self.slow_s = 0.0
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if standin.slow_s:
                    time.sleep(standin.slow_s)
                if standin.down:
                    answer_json(self, 503, {"Message": "stand-in is down"})
                    return
                answer_json(self, *standin.handle(self.path, dict(self.headers), body))

        self.server, self.url, self.thread = serve(Handler)

    @abstractmethod
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one request, as the provider answers it."""

    def keep(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.sent.append(message)
            self.arrivals.append(time.time())

    def to(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m["phone"].removeprefix("+86") == phone.removeprefix("+86")]

    def __enter__(self) -> _StandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class AliyunSmsStandIn(_StandIn):
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4()).upper()
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("x-acs-action") != "SendSms" or lower.get("x-acs-version") != "2017-05-25":
            return 400, {"Code": "InvalidAction.NotFound", "Message": "unknown action", "RequestId": request_id}
        if not lower.get("authorization", "").startswith(f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},"):
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "no such key", "RequestId": request_id}
        query = {k: v[0] for k, v in parse_qs(urlparse(path).query).items()}
        phone = query.get("PhoneNumbers", "")
        if not query.get("SignName") or not query.get("TemplateCode"):
            return 200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "no sign", "RequestId": request_id}
        if phone.endswith("9999"):
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "invalid number", "RequestId": request_id}
        biz_id = f"{uuid.uuid4().int % 10**18}^0"
        self.keep(
            {
                "phone": phone,
                "sign": query["SignName"],
                "template": query["TemplateCode"],
                "params": json.loads(query.get("TemplateParam") or "{}"),
                "biz_id": biz_id,
            }
        )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    @staticmethod
    def receipt(message: dict[str, Any], *, received: bool, err_code: str = "DELIVERED") -> dict[str, Any]:
        """The SmsReport record Alibaba Cloud pushes when the carrier reports back."""
        return {
            "phone_number": message["phone"],
            "send_time": "2026-11-29 03:00:01",
            "report_time": "2026-11-29 03:00:04",
            "success": received,
            "err_code": err_code if not received else "DELIVERED",
            "err_msg": "用户接收成功" if received else "用户关机",
            "sms_size": "1",
            "biz_id": message["biz_id"],
            "out_id": None,
        }


class TencentSmsStandIn(_StandIn):
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4())
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("x-tc-action") != "SendSms" or lower.get("x-tc-version") != "2021-01-11":
            return 200, _tencent_error("InvalidAction", "unknown action", request_id)
        if not lower.get("authorization", "").startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/"):
            return 200, _tencent_error("AuthFailure.SecretIdNotFound", "no such key", request_id)
        request = json.loads(body)
        [phone] = request["PhoneNumberSet"]
        serial = f"2433:{uuid.uuid4().int % 10**12}"
        if phone.endswith("9999"):
            code = "InvalidParameterValue.IncorrectPhoneNumber"
        else:
            code = "Ok"
            self.keep(
                {
                    "phone": phone,
                    "sign": request["SignName"],
                    "template": request["TemplateId"],
                    "params": request.get("TemplateParamSet", []),
                    "app": request["SmsSdkAppId"],
                    "sid": serial,
                }
            )
        status = {"SerialNo": serial, "PhoneNumber": phone, "Fee": 1, "Code": code}
        return 200, {
            "Response": {"SendStatusSet": [{**status, "Message": code, "IsoCode": "CN"}], "RequestId": request_id}
        }


def tencent_receipt(message: dict[str, Any], *, received: bool) -> dict[str, Any]:
    """The status record Tencent Cloud pushes when the carrier reports back."""
    return {
        "user_receive_time": "2026-11-29 03:00:04",
        "nationcode": "86",
        "mobile": message["phone"].removeprefix("+86"),
        "report_status": "SUCCESS" if received else "FAIL",
        "errmsg": "DELIVRD" if received else "MK:0001",
        "description": "用户短信送达成功" if received else "用户手机关机",
        "sid": message["sid"],
    }


def _tencent_error(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


def sms_settings(aliyun: AliyunSmsStandIn | None, tencent: TencentSmsStandIn | None) -> dict[str, Any]:
    """Settings that send SMS through these stand-ins (in this order)."""
    found: dict[str, Any] = {"sms_providers": [], "sms_timeout_s": 1.0}
    if aliyun is not None:
        found["sms_providers"].append("aliyun")
        found |= {
            "aliyun_access_key_id": ACCESS_KEY_ID,
            "aliyun_access_key_secret": "stand-in-secret",
            "aliyun_sms_sign_name": "邻里社区",
            "aliyun_sms_endpoint": aliyun.url,
        }
    if tencent is not None:
        found["sms_providers"].append("tencent")
        found |= {
            "tencent_sms_secret_id": SECRET_ID,
            "tencent_sms_secret_key": "stand-in-key",
            "tencent_sms_sdk_app_id": "1400000001",
            "tencent_sms_sign_name": "邻里社区",
            "tencent_sms_endpoint": tencent.url,
        }
    return found
