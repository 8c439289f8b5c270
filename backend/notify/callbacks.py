"""What the providers report back over HTTP: voice call reports (the key the person pressed)
and SMS delivery receipts. Each provider pushes a JSON array of records to a URL configured
in its console; that URL carries LINLI_PROVIDER_CALLBACK_TOKEN, since the pushes themselves
are not signed. The documented answer tells the provider not to send them again.

- Alibaba Cloud call report (VoiceReport): `{"call_id", "out_id", "status_code", "dtmf", ...}`;
  `dtmf` holds the keys pressed. Pressing 1 confirms every message the call spoke.
- Alibaba Cloud SMS receipt (SmsReport): `{"biz_id", "success", "err_code", "phone_number", ...}`.
- Tencent Cloud SMS receipt: `{"sid", "report_status": "SUCCESS"|"FAIL", "errmsg", "mobile", ...}`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from backend import http_body
from backend.db import transaction
from backend.gateways.calls import CONFIRM_KEY
from backend.notify import service
from backend.parts import Parts

log = logging.getLogger(__name__)


ALIYUN_OK = {"code": 0, "msg": "OK"}  # the provider reads the code
TENCENT_OK = {"result": 0, "errmsg": "OK"}


async def _records(token: str, expected: str, request: Request) -> list[dict[str, Any]] | JSONResponse:
    """The pushed records, or the refusal: a wrong token (404) or a body that is not records."""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return JSONResponse({"code": 1, "msg": "unknown callback"}, status_code=404)
    try:
        records: Any = http_body.json_body(await request.body())
    except ValueError:
        return JSONResponse({"code": 1, "msg": "not JSON"}, status_code=400)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        return JSONResponse({"code": 1, "msg": "not a list of reports"}, status_code=400)
    return [r for r in records if isinstance(r, dict)]


def _aliyun_receipt(r: dict[str, Any]) -> tuple[str, bool, str] | None:
    """An SmsReport record as (the attempt's reference, received, what the carrier said)."""
    if not r.get("biz_id"):
        return None
    received = r.get("success") in (True, "true")
    return f"aliyun-sms:{r['biz_id']}", received, str(r.get("err_code") or ("DELIVERED" if received else "FAILED"))


def _tencent_receipt(r: dict[str, Any]) -> tuple[str, bool, str] | None:
    if not r.get("sid"):
        return None
    return (
        f"tencent-sms:{r['sid']}",
        r.get("report_status") == "SUCCESS",
        str(r.get("errmsg") or r.get("report_status")),
    )


def router(rt: Parts) -> APIRouter:
    api = APIRouter()

    @api.post("/callbacks/aliyun/voice/{token}", include_in_schema=False)
    async def voice_report(token: str, request: Request) -> JSONResponse:
        records = await _records(token, rt.settings.provider_callback_token, request)
        if isinstance(records, JSONResponse):
            return records
        confirmed = 0
        async with transaction(rt.factory) as session:
            for record in records:
                if record.get("call_id") and CONFIRM_KEY in str(record.get("dtmf") or ""):
                    confirmed += await service.confirm_by_provider(session, f"aliyun-call:{record['call_id']}")
        log.info("voice call reports", extra={"reports": len(records), "confirmed": confirmed})
        return JSONResponse(ALIYUN_OK)

    async def receipts(
        token: str, request: Request, read: Callable[[dict[str, Any]], tuple[str, bool, str] | None], ok: dict[str, Any]
    ) -> JSONResponse:
        records = await _records(token, rt.settings.provider_callback_token, request)
        if isinstance(records, JSONResponse):
            return records
        async with transaction(rt.factory) as session:
            for found in filter(None, map(read, records)):
                ref, received, detail = found
                await service.sms_receipt(session, rt, ref, received=received, detail=detail)
        return JSONResponse(ok)

    @api.post("/callbacks/aliyun/sms/{token}", include_in_schema=False)
    async def aliyun_sms_receipts(token: str, request: Request) -> JSONResponse:
        return await receipts(token, request, _aliyun_receipt, ALIYUN_OK)

    @api.post("/callbacks/tencent/sms/{token}", include_in_schema=False)
    async def tencent_sms_receipts(token: str, request: Request) -> JSONResponse:
        return await receipts(token, request, _tencent_receipt, TENCENT_OK)

    return api
