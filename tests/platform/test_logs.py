"""No log line holds a sign-in code or a message's text, in any mode: whoever reads logs
must not be able to sign in as someone, or read what people were told."""

from __future__ import annotations

import logging
import re

import pytest

from tests.conftest import ELDER, FAMILY, Api


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    handler = logging.Formatter()
    return "\n".join(handler.format(record) + " " + repr(record.__dict__) for record in caplog.records)


async def test_codes_and_message_texts_never_reach_the_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Given: an elder signs in (a code by SMS), presses the button (notices with her address),
    # and invites a grandson (an SMS with her name).
    elder = await api.sign_in(ELDER)
    code = re.search(
        r"\d{6}", (await api.client.get("/dev/outbox", params={"to": ELDER})).json()["messages"][-1]["text"]
    )
    assert code
    await api.op("app/TriggerEmergency", {"idempotencyKey": "logs-1"}, elder)
    await api.op(
        "app/InviteFamilyMember",
        {"input": {"phone": "13955550042", "relation": "孙子", "scopes": ["ORDER_FOR"]}},
        elder,
    )
    await api.settle()
    texts = [m["text"] for m in (await api.client.get("/dev/outbox")).json()["messages"]]
    assert any("孙子" in t for t in texts) and any(code.group(0) in t for t in texts)

    # Then: the log says something was sent, never what.
    logged = everything_logged(caplog)
    assert "sms (development outbox)" in logged
    assert code.group(0) not in logged
    for text in texts:
        assert text not in logged
        assert text[:12] not in logged
    assert FAMILY[-8:] not in logged  # numbers appear masked, if at all
