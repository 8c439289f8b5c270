"""The app's emergency press has a door of its own: the same answer as /graphql, and
anything unusual still goes the general way."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from backend.emergency.models import Alert
from tests.conftest import ELDER, ELDER_2, Api, Database, document

# Same document to the GraphQL engine (a comment), different text: the general path takes it.
GENERAL = document("app/TriggerEmergency") + "\n# through the general path\n"


async def fast_answers(api: Api) -> float:
    metrics = (await api.client.get("/metrics")).text
    found = re.search(r'^linli_fast_presses_total\{outcome="answered"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


async def press(api: Api, query: str, token: str, key: str | None) -> dict[str, Any]:
    response = await api.post(query, {"idempotencyKey": key}, token)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def without_id(body: dict[str, Any]) -> dict[str, Any]:
    raised = body["data"]["triggerEmergency"]
    return {**raised, "emergency": {k: v for k, v in raised["emergency"].items() if k != "id"}}


async def test_the_fast_door_answers_exactly_as_graphql_does(api: Api, db: Database) -> None:
    elder, elder_2 = await api.sign_in(ELDER), await api.sign_in(ELDER_2)
    before = await fast_answers(api)

    fast_new = await press(api, document("app/TriggerEmergency"), elder, "fast-door-key-1")
    general_new = await press(api, GENERAL, elder_2, "general-key-1")
    assert await fast_answers(api) == before + 1  # the first went through the fast door, the second did not
    assert fast_new["data"]["triggerEmergency"]["new"] is True
    assert without_id(fast_new) == without_id(general_new)
    assert list(fast_new["data"]["triggerEmergency"]) == list(general_new["data"]["triggerEmergency"])

    # A replay of the first press, both ways: byte for byte the same JSON document.
    general_replay = await press(api, GENERAL, elder, "fast-door-key-1")
    fast_replay = await press(api, document("app/TriggerEmergency"), elder, "fast-door-key-1")
    assert fast_replay == general_replay
    assert (
        fast_replay["data"]["triggerEmergency"]["emergency"]["id"]
        == fast_new["data"]["triggerEmergency"]["emergency"]["id"]
    )

    # Pressed again within the minute: joins the open alarm; nobody is told again yet, and the
    # reply does not pretend they were.
    again = await press(api, document("app/TriggerEmergency"), elder, "fast-door-key-2")
    assert again["data"]["triggerEmergency"]["new"] is False
    assert again["data"]["triggerEmergency"]["emergency"]["presses"] == 2
    assert (
        again["data"]["triggerEmergency"]["reply"]["text"]
        == "刚才已通知网格员和您的家人，正在等他们回应，请保持电话畅通。"
    )
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Alert)) == 2


async def test_anything_unusual_is_answered_by_the_general_path(api: Api, db: Database) -> None:
    elder = await api.sign_in(ELDER)
    before = await fast_answers(api)
    query = document("app/TriggerEmergency")

    short_key = await press(api, query, elder, "short")
    assert short_key["data"]["triggerEmergency"]["__typename"] == "InvalidInputError"

    unknown = await press(api, query, elder + "x", "fast-door-key-3")
    assert unknown["data"] is None and unknown["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # A key the other elder already used is refused to this one, and stores nothing.
    await press(api, query, await api.sign_in(ELDER_2), "someone-elses-key")
    taken = await press(api, query, elder, "someone-elses-key")
    assert taken["data"]["triggerEmergency"]["__typename"] == "InvalidInputError"

    signed_out = await api.op("app/SignOut", {"everywhere": True}, elder)
    assert signed_out.get("errors") is None, signed_out
    revoked = await press(api, query, elder, "fast-door-key-4")
    assert revoked["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    assert await fast_answers(api) == before + 1  # only the other elder's plain press
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Alert)) == 1


async def test_the_fast_door_keeps_the_graphql_content_type_rule(api: Api, db: Database) -> None:
    elder = await api.sign_in(ELDER)
    body = json.dumps({"query": document("app/TriggerEmergency"), "variables": {"idempotencyKey": "ct-plain-1"}})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = await api.client.post(
            "/graphql", content=body, headers={"Authorization": f"Bearer {elder}", "Content-Type": content_type}
        )
        assert response.status_code in (400, 415), (content_type, response.text)
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Alert)) == 0  # no alarm raised
    # With the JSON type (and its charset) the press is taken as ever.
    ok = await api.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {elder}", "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.json()["data"]["triggerEmergency"]["new"] is True
