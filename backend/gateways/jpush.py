"""Push through JPush (极光推送), which reaches phones in mainland China where FCM does not.

JPush's REST API v3 (`POST /v3/push`, HTTP Basic with the app key and master secret) is
called directly over one pooled async HTTP client rather than through the `jpush` SDK: the
SDK is synchronous (`requests`, a thread per call), its addresses are fixed per zone in a
module-level table (pointing it at a configured endpoint means patching that table), and a
burst of a thousand alarms would queue behind the default thread pool (bench/jpush_client.py
measures both against the stand-in; docs/benchmarks.md has the figures).

On Huawei, Honor, Xiaomi, OPPO and vivo phones the message goes through the vendor's own
channel, which throttles or folds away anything not marked as a personal, non-marketing
message. Alarms go as the vendors' important class, everyday notices as the normal class;
which class is which for each vendor is in content/push/jpush.json (the classes an app may
use are granted per app by each vendor).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from backend.gateways.push import PushMessage, PushResult

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.jpush.cn"
CONCURRENCY = 50  # requests in flight at once: JPush allows 600 per minute per app by default
# JPush error codes (REST API v3): the device is gone, or the push can never succeed as sent.
NO_SUCH_DEVICE = {1011}  # "cannot find user by this audience": the app was uninstalled
RATE_LIMITED = {2002, 2008}


def vendor_classes(content_dir: Path) -> dict[str, dict[str, Any]]:
    """The options (classification, third-party channel settings) of the urgent and the
    normal class, from content/push/jpush.json."""
    data = json.loads((content_dir / "push" / "jpush.json").read_text("utf-8"))
    return {"urgent": data["urgent"], "normal": data["normal"]}


class JPushChannel:
    def __init__(
        self,
        app_key: str,
        master_secret: str,
        *,
        classes: Mapping[str, Mapping[str, Any]],
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_s: float = 3.0,
        apns_production: bool = True,
    ) -> None:
        self.classes = classes
        self.apns_production = apns_production
        self.client = httpx.AsyncClient(
            base_url=endpoint.rstrip("/"),
            auth=(app_key, master_secret),
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        )
        self._slots = asyncio.Semaphore(CONCURRENCY)

    def payload(self, m: PushMessage) -> dict[str, Any]:
        """One push to one phone (its registration id), as JPush's v3 push document."""
        urgent = m.emergency
        klass = self.classes["urgent" if urgent else "normal"]
        android: dict[str, Any] = {
            "alert": m.body,
            "title": m.title,
            "extras": dict(m.data),
            "priority": 2 if urgent else 0,
            "category": "alarm" if urgent else "msg",
        }
        if klass.get("channel_id"):
            android["channel_id"] = klass["channel_id"]
        ios: dict[str, Any] = {
            "alert": {"title": m.title, "body": m.body},
            "extras": dict(m.data),
            "sound": "default",
        }
        if urgent:
            ios["interruption-level"] = "critical"
        options: dict[str, Any] = {
            "apns_production": self.apns_production,
            "time_to_live": 300 if urgent else 86400,
            "classification": klass["classification"],
            "third_party_channel": klass["third_party_channel"],
        }
        return {
            "platform": ["android", "ios"],
            "audience": {"registration_id": [m.token]},
            "notification": {"android": android, "ios": ios},
            "options": options,
        }

    async def send(self, messages: Sequence[PushMessage], *, max_retries: int | None = None) -> list[PushResult]:
        """One request per phone, many at once. No retry here: an alarm retries by taking the
        next path (`max_retries` is accepted for the channel interface)."""
        return list(await asyncio.gather(*(self._one(m) for m in messages)))

    async def _one(self, m: PushMessage) -> PushResult:
        async with self._slots:
            try:
                response = await self.client.post("/v3/push", json=self.payload(m))
            except httpx.TimeoutException:
                return PushResult(m.token, False, error="TIMEOUT")
            except httpx.HTTPError as exc:
                return PushResult(m.token, False, error=type(exc).__name__)
        if response.status_code == 200:
            return PushResult(m.token, True, message_id=str(response.json().get("msg_id", "")))
        code = _error_code(response)
        if code in NO_SUCH_DEVICE:
            return PushResult(m.token, False, error="UNREGISTERED")
        if code in RATE_LIMITED or response.status_code == 429:
            return PushResult(m.token, False, error="QUOTA_EXCEEDED")
        log.warning("JPush refused a push", extra={"status": response.status_code, "code": code})
        return PushResult(m.token, False, error=f"JPUSH_{code or response.status_code}")

    async def aclose(self) -> None:
        await self.client.aclose()


def _error_code(response: httpx.Response) -> int | None:
    try:
        code = (response.json().get("error") or {}).get("code")
        return int(code) if code is not None else None
    except (ValueError, AttributeError, TypeError):
        return None
