"""Push through JPush (the push service that reaches phones in mainland China, where FCM
does not), with JPush's official SDK (PyPI `jpush`, REST API v3 `POST /v3/push`).

The SDK is synchronous (`requests`): each push runs in a thread pool of the channel's own,
with a short timeout, so the event loop never waits and other blocking work (speech) does
not queue in front of alarms. Measured against the stand-in (bench/jpush_client.py,
docs/benchmarks.md), 1,000 pushes at once through the SDK's threads arrive no later than
through a pooled async HTTP client, so the SDK is used as it is. Its addresses are a table
per zone in `jpush.common.ZONES`; a configured endpoint (another region, a stand-in) is
added there as a zone of its own, the one thing changed around the SDK.

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
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jpush
from jpush import common as jpush_common

from backend.gateways.push import PushMessage, PushResult

log = logging.getLogger(__name__)
# The SDK logs each request's body (the message text) at DEBUG: never, whatever the level.
logging.getLogger("jpush").setLevel(logging.WARNING)

DEFAULT_ENDPOINT = "https://api.jpush.cn"
THREADS = 16  # pushes in flight at once (JPush allows 600 a minute per app by default)
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
        self.timeout_s = timeout_s
        self.client = jpush.JPush(app_key, master_secret, timeout=timeout_s, zone=_zone_for(endpoint))
        self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="jpush")

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
        """One request per phone, up to THREADS at once. No retry here: an alarm retries by
        taking the next path (`max_retries` is accepted for the channel interface)."""
        return list(await asyncio.gather(*(self._one(m) for m in messages)))

    async def _one(self, m: PushMessage) -> PushResult:
        loop = asyncio.get_running_loop()
        try:
            msg_id = await asyncio.wait_for(loop.run_in_executor(self.pool, self._send, m), self.timeout_s + 1)
        except TimeoutError:
            return PushResult(m.token, False, error="TIMEOUT")
        except jpush_common.JPushFailure as exc:
            code = _error_code(exc)
            if code in NO_SUCH_DEVICE:
                return PushResult(m.token, False, error="UNREGISTERED")
            status = exc.response.status_code if exc.response is not None else None
            if code in RATE_LIMITED or status == 429:
                return PushResult(m.token, False, error="QUOTA_EXCEEDED")
            log.warning("JPush refused a push", extra={"status": status, "code": code})
            return PushResult(m.token, False, error=f"JPUSH_{code or status}")
        except jpush_common.Unauthorized:
            log.error("JPush refused the app key and master secret")
            return PushResult(m.token, False, error="UNAUTHORIZED")
        except Exception as exc:  # connection errors, the SDK's own timeouts
            return PushResult(m.token, False, error=type(exc).__name__)
        return PushResult(m.token, True, message_id=msg_id)

    def _send(self, m: PushMessage) -> str:
        """In a thread of the channel's pool: the SDK's blocking call."""
        push = self.client.create_push()
        document = self.payload(m)
        push.platform, push.audience = document["platform"], document["audience"]
        push.notification, push.options = document["notification"], document["options"]
        answer = push.send()
        return str((answer.payload or {}).get("msg_id", ""))

    async def aclose(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(self.client.session.close)


def _error_code(exc: jpush_common.JPushFailure) -> int | None:
    try:
        return int(exc.error_code) if exc.error_code is not None else None
    except (ValueError, TypeError):
        return None


def _zone_for(endpoint: str) -> str:
    """The SDK's zone for `endpoint`: its own for JPush's default address, else one added to
    the SDK's table with every API under this endpoint."""
    base = endpoint.rstrip("/")
    if base == DEFAULT_ENDPOINT:
        return "default"
    name = f"LINLI_{zlib.crc32(base.encode()):08X}"
    jpush_common.ZONES.setdefault(name, {key: f"{base}/v3/" for key in jpush_common.ZONES["DEFAULT"]})
    return name
