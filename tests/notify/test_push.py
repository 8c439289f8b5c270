"""The real firebase-admin SDK sends to a local FCM stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from backend.gateways.push import FcmChannel, PushMessage
from tests.notify.fcm_standin import FcmStandIn


@pytest.fixture
def standin() -> Iterator[FcmStandIn]:
    with FcmStandIn(slow_s=3.0) as s:
        yield s


@pytest.fixture
async def fcm(standin: FcmStandIn, tmp_path: Path) -> AsyncIterator[FcmChannel]:
    channel = FcmChannel(
        standin.service_account(tmp_path / "sa.json"), endpoint=standin.url, timeout_s=1.0, backoff_s=0.05
    )
    yield channel
    await channel.aclose()


def alarm(token: str) -> PushMessage:
    return PushMessage(token=token, title="紧急呼叫", body="王秀英按了紧急按钮", data={"alertId": "7"}, emergency=True)


async def test_an_alarm_push_is_high_priority_on_the_emergency_channel_with_a_critical_sound(
    fcm: FcmChannel, standin: FcmStandIn
) -> None:
    (result,) = await fcm.send([alarm("ok-1")])
    assert result.delivered and result.message_id == "projects/linli-test/messages/1"
    (sent,) = standin.sent
    assert sent["notification"] == {"title": "紧急呼叫", "body": "王秀英按了紧急按钮"}
    assert sent["data"] == {"alertId": "7"}
    assert sent["android"]["priority"] == "high"
    assert sent["android"]["notification"]["channel_id"] == "emergency"
    assert sent["apns"]["headers"]["apns-priority"] == "10"
    assert sent["apns"]["payload"]["aps"]["sound"] == {"critical": 1, "name": "default", "volume": 1.0}
    assert standin.token_requests == 1  # the SDK signed in through the service account's token_uri


async def test_an_unregistered_token_is_reported_for_pruning(fcm: FcmChannel) -> None:
    ok, gone = await fcm.send([alarm("ok-2"), alarm("gone-1")])
    assert ok.delivered
    assert not gone.delivered and gone.unregistered and gone.attempts == 1  # never retried


async def test_429_is_retried_with_backoff_until_delivered(fcm: FcmChannel, standin: FcmStandIn) -> None:
    (result,) = await fcm.send([alarm("busy-2-a")])
    assert result.delivered and result.attempts == 3
    assert standin.tries["busy-2-a"] == 3


async def test_retries_give_up_with_the_error_when_fcm_stays_busy(fcm: FcmChannel, standin: FcmStandIn) -> None:
    (result,) = await fcm.send([alarm("busy-99-b")])
    assert not result.delivered and result.error == "QUOTA_EXCEEDED" and result.attempts == 4


async def test_a_slow_fcm_times_out_in_seconds_not_two_minutes(fcm: FcmChannel) -> None:
    fcm.max_retries = 0
    (result,) = await fcm.send([alarm("slow-1")])
    assert not result.delivered and result.error in {"TIMEOUT", "UNAVAILABLE", "UNKNOWN"}


async def test_broadcasts_go_in_batches_of_at_most_500(
    standin: FcmStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import firebase_admin.messaging as sdk

    batch_sizes: list[int] = []
    real_send = sdk.send_each_async

    async def counting(messages, **kwargs):  # type: ignore[no-untyped-def]
        batch_sizes.append(len(messages))
        return await real_send(messages, **kwargs)

    monkeypatch.setattr(sdk, "send_each_async", counting)
    # 500 requests at once is more than a threaded stand-in answers in a second.
    fcm = FcmChannel(standin.service_account(tmp_path / "sa.json"), endpoint=standin.url, timeout_s=30)
    messages = [PushMessage(token=f"ok-b{i}", title="通知", body="停水") for i in range(501)]
    try:
        results = await fcm.send(messages)
    finally:
        await fcm.aclose()
    assert batch_sizes[:2] == [500, 1] and max(batch_sizes) == 500  # later batches: retries, if any
    assert all(r.delivered for r in results) and len(standin.sent) == 501
    assert standin.sent[0]["android"]["priority"] == "normal"


async def test_with_fcm_unreachable_every_message_says_so(tmp_path: Path) -> None:
    with FcmStandIn() as dead:
        sa = dead.service_account(tmp_path / "sa.json")
    channel = FcmChannel(sa, endpoint=dead.url, timeout_s=1.0, max_retries=1, backoff_s=0.01)
    try:
        results = await channel.send([alarm("ok-x"), alarm("ok-y")])
    finally:
        await channel.aclose()
    assert [r.delivered for r in results] == [False, False]
    assert all(r.error for r in results)
