"""A local stand-in for Alibaba Cloud's voice service (dyvmsapi 2017-05-25), speaking its
documented API to the provider's own SDK: `IvrCall` (RPC style, the parameters in the query
string, `x-acs-action` / `x-acs-version` headers, an ACS3-HMAC-SHA256 Authorization), which
answers `{"Code": "OK", "CallId": ...}`; and the call report the provider pushes back once the
call ends (`VoiceReport` records, with the keys pressed in `dtmf`)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.notify.sms_standins import ACCESS_KEY_ID, _StandIn

SHOW_NUMBER = "02988880000"


class AliyunVoiceStandIn(_StandIn):
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4()).upper()
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("x-acs-action") != "IvrCall" or lower.get("x-acs-version") != "2017-05-25":
            return 400, {"Code": "InvalidAction.NotFound", "Message": "unknown action", "RequestId": request_id}
        if f"Credential={ACCESS_KEY_ID}" not in lower.get("authorization", ""):
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "no such key", "RequestId": request_id}
        query = {k: v[0] for k, v in parse_qs(urlparse(path).query).items()}
        if query.get("CalledShowNumber") != SHOW_NUMBER or not query.get("StartCode"):
            return 200, {"Code": "isv.INVALID_PARAMETERS", "Message": "bad call", "RequestId": request_id}
        call_id = f"{uuid.uuid4().int % 10**18}^{uuid.uuid4().int % 10**12}"
        self.keep(
            {
                "phone": query.get("CalledNumber", ""),
                "template": query["StartCode"],
                "params": query.get("StartTtsParams", "{}"),
                "keys": {query[k]: query.get(k.replace(".Key", ".Code")) for k in query if k.endswith(".Key")},
                "out_id": query.get("OutId"),
                "call_id": call_id,
            }
        )
        return 200, {"Code": "OK", "Message": "OK", "CallId": call_id, "RequestId": request_id}

    @staticmethod
    def report(call: dict[str, Any], dtmf: str) -> dict[str, Any]:
        """The VoiceReport record the provider pushes when the call ends."""
        return {
            "call_id": call["call_id"],
            "out_id": call["out_id"],
            "status_code": "200000",
            "status_msg": "用户听完自然挂断",
            "dtmf": dtmf,
            "start_time": "2026-11-29 03:00:05",
            "end_time": "2026-11-29 03:00:31",
            "duration": 26,
            "callee": call["phone"],
            "caller": SHOW_NUMBER,
        }
