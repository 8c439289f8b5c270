"""Push through FCM with the firebase-admin SDK, as one channel among several.

FCM does not reach mainland China, so a push is never the only path for an alarm: callers
get a result per token and fall back to the next channel. The SDK is used as it is, with
three things changed around it: its 120 s default HTTP timeout becomes a few seconds, the
endpoint can point at a gateway (or a test stand-in), and 429/5xx answers are retried here
with backoff (the SDK does not retry 429). Batches are at most 500 messages, sent with the
SDK's asyncio path (no thread per message).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

log = logging.getLogger(__name__)

BATCH = 500
EMERGENCY_CHANNEL = "emergency"  # the Android notification channel the apps create for alarms
GENERAL_CHANNEL = "general"


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    emergency: bool = False


@dataclass(frozen=True)
class PushResult:
    token: str
    delivered: bool
    message_id: str | None = None
    error: str | None = None  # UNREGISTERED, QUOTA_EXCEEDED, UNAVAILABLE, INVALID_ARGUMENT, ...
    attempts: int = 1

    @property
    def unregistered(self) -> bool:
        return self.error == "UNREGISTERED"


_RETRYABLE = (
    exceptions.ResourceExhaustedError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.UnknownError,
)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, messaging.UnregisteredError):
        return "UNREGISTERED"
    if isinstance(exc, messaging.QuotaExceededError | exceptions.ResourceExhaustedError):
        return "QUOTA_EXCEEDED"
    if isinstance(exc, exceptions.DeadlineExceededError):
        return "TIMEOUT"
    if isinstance(exc, exceptions.FirebaseError):
        return str(exc.code).upper()
    return type(exc).__name__


def build_message(m: PushMessage) -> messaging.Message:
    if m.emergency:
        # High priority on Android, the alarm channel, and a critical alert on iOS that
        # sounds even when the phone is muted.
        android = messaging.AndroidConfig(
            priority="high",
            ttl=300,
            notification=messaging.AndroidNotification(channel_id=EMERGENCY_CHANNEL, sound="default"),
        )
        apns = messaging.APNSConfig(
            headers={"apns-priority": "10", "apns-push-type": "alert"},
            payload=messaging.APNSPayload(
                aps=messaging.Aps(sound=messaging.CriticalSound("default", critical=True, volume=1.0))
            ),
        )
    else:
        android = messaging.AndroidConfig(
            priority="normal", notification=messaging.AndroidNotification(channel_id=GENERAL_CHANNEL)
        )
        apns = messaging.APNSConfig(payload=messaging.APNSPayload(aps=messaging.Aps(sound="default")))
    return messaging.Message(
        token=m.token,
        notification=messaging.Notification(title=m.title, body=m.body),
        data=m.data,
        android=android,
        apns=apns,
    )


class FcmChannel:
    def __init__(
        self,
        credentials_file: Path,
        *,
        endpoint: str | None = None,
        timeout_s: float = 5.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.app = firebase_admin.initialize_app(
            credentials.Certificate(str(credentials_file)),
            {"httpTimeout": timeout_s},
            name=f"linli-{uuid.uuid4().hex[:8]}",
        )
        if endpoint:
            service = messaging._get_messaging_service(self.app)  # noqa: SLF001 - the SDK has no endpoint option
            service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{self.app.project_id}/messages:send"

    async def send(self, messages: Sequence[PushMessage], *, max_retries: int | None = None) -> list[PushResult]:
        """`max_retries` below the channel's own: an alarm retries by taking the next path, not
        by waiting for FCM."""
        retries = self.max_retries if max_retries is None else max_retries
        results: dict[int, PushResult] = {}
        pending = list(range(len(messages)))
        for attempt in range(1, retries + 2):
            retry: list[int] = []
            for start in range(0, len(pending), BATCH):
                chunk = pending[start : start + BATCH]
                try:
                    batch = await messaging.send_each_async(
                        [build_message(messages[i]) for i in chunk], dry_run=False, app=self.app
                    )
                    responses = batch.responses
                except exceptions.FirebaseError as exc:  # the whole batch failed (auth, network)
                    responses = [messaging.SendResponse(None, exc)] * len(chunk)
                for i, response in zip(chunk, responses, strict=True):
                    token = messages[i].token
                    if response.success:
                        results[i] = PushResult(token, True, message_id=response.message_id, attempts=attempt)
                        continue
                    failure = response.exception
                    results[i] = PushResult(token, False, error=_error_code(failure), attempts=attempt)
                    if isinstance(failure, _RETRYABLE) and not isinstance(failure, messaging.UnregisteredError):
                        retry.append(i)
            if not retry or attempt > retries:
                break
            log.info("retrying pushes", extra={"count": len(retry), "error": results[retry[0]].error})
            await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            pending = retry
        return [results[i] for i in range(len(messages))]

    async def aclose(self) -> None:
        # delete_app closes the SDK's async HTTP client with asyncio.run(), which cannot run
        # inside our loop: close that client here, then delete the app from a thread.
        await messaging._get_messaging_service(self.app)._async_client.aclose()  # noqa: SLF001
        await asyncio.to_thread(firebase_admin.delete_app, self.app)
