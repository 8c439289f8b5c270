"""Bad input is refused with a clear field error in the asker's language and changes nothing:
control characters in any text, ids beyond 64 bits (an "Unexpected error." before)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ELDER, Api

NUL = "\x00"
LATER = "2031-05-01T09:00:00+08:00"

# (document, variables, the payload's field, the argument named in the error)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("app/ScheduleReminder", {"text": f"吃药{NUL}", "at": LATER}, "scheduleReminder", "text"),
    (
        "app/BookService",
        {"offeringCode": "bath-at-home", "slotStart": LATER, "idempotencyKey": "nul-1", "note": f"a{NUL}b"},
        "bookService",
        "note",
    ),
    (
        "app/InviteFamilyMember",
        {"input": {"phone": "13955550061", "relation": f"儿子{NUL}", "scopes": ["ORDER_FOR"]}},
        "inviteFamilyMember",
        "relation",
    ),
    (
        "app/InviteFamilyMember",
        {"input": {"phone": "13955550062", "relation": "儿子", "name": "小\x1b[31m明", "scopes": ["ORDER_FOR"]}},
        "inviteFamilyMember",
        "name",
    ),
    ("app/UpdateEmergencyProfile", {"notes": f"心脏{NUL}"}, "updateEmergencyProfile", "notes"),
    ("app/RegisterPushDevice", {"token": f"tok{NUL}en", "platform": "android"}, "registerPushDevice", "token"),
    ("app/CancelOrder", {"orderId": "1", "reason": f"不要了{NUL}"}, "cancelOrder", "reason"),
]


@pytest.mark.parametrize(("name", "variables", "payload", "field"), CASES, ids=[f"{c[0]}.{c[3]}" for c in CASES])
async def test_control_characters_in_any_text_are_refused_in_words(
    api: Api, name: str, variables: dict[str, Any], payload: str, field: str
) -> None:
    elder = await api.sign_in(ELDER)
    before = await api.op("app/Reminders", {}, elder), await api.op("app/FamilyLinks", {}, elder)
    result = await api.op(name, variables, elder)
    refused = result["data"][payload]
    assert refused["__typename"] == "InvalidInputError", result
    assert refused["code"] == "INVALID_INPUT" and refused["field"] == field
    assert refused["message"] == "填写的内容里有不能识别的字符，请删掉后再试。"
    after = await api.op("app/Reminders", {}, elder), await api.op("app/FamilyLinks", {}, elder)
    assert after == before  # nothing changed


async def test_ordinary_line_breaks_stay_allowed(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    result = await api.op("app/ScheduleReminder", {"text": "吃药\n喝水", "at": LATER}, elder)
    assert result["data"]["scheduleReminder"]["__typename"] == "Reminder"


@pytest.mark.parametrize("raw", ["9223372036854775808", "99999999999999999999999", "-1", "0"])
async def test_ids_beyond_64_bits_are_bad_input_not_a_crash(api: Api, raw: str) -> None:
    elder = await api.sign_in(ELDER)
    result = await api.op("app/Person", {"id": raw}, elder)
    assert result["data"] is None
    error = result["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["message"].startswith("填写的内容有误")
