"""A family member's open app sees the link change live (graphql-transport-ws)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ELDER, Database, document, load_demo, make_settings, run_blocking

CHILD = "+8613955550007"


def sign_in(client: TestClient, phone: str) -> str:
    client.post("/graphql", json={"query": document("app/RequestLoginCode"), "variables": {"phone": phone}})
    messages = client.get("/dev/outbox", params={"to": phone}).json()["messages"]
    # The invitation's SMS, sent by an event consumer, may land after the code.
    code = next(m for m in (re.search(r"\d{6}", msg["text"]) for msg in messages) if m)
    result = client.post(
        "/graphql", json={"query": document("app/SignIn"), "variables": {"phone": phone, "code": code.group(0)}}
    ).json()
    return result["data"]["signIn"]["accessToken"]


def op(client: TestClient, name: str, variables: dict, token: str) -> dict:
    return client.post(
        "/graphql", json={"query": document(name), "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    ).json()


def next_update(ws: Any, *, until_status: str, at_most: int = 3) -> dict:
    """The next update with this status; earlier changes of the same link may come first."""
    for _ in range(at_most):
        message = ws.receive_json()
        assert message["type"] == "next", message
        update = message["payload"]["data"]["familyLinkUpdates"]
        if update["status"] == until_status:
            return update
    raise AssertionError(f"no {until_status} update")


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    from backend.app import create_app
    from backend.db import create_engine, session_factory

    path = tmp_path / "linli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"

    async def demo() -> None:
        engine = create_engine(url)
        try:
            await load_demo(Database("sqlite", url, engine, session_factory(engine)))
        finally:
            await engine.dispose()

    run_blocking(demo())
    with TestClient(create_app(make_settings(tmp_path, url))) as test_client:
        yield test_client


def test_the_elder_sees_the_invitation_accepted_live(client: TestClient) -> None:
    elder = sign_in(client, ELDER)
    invited = op(
        client,
        "app/InviteFamilyMember",
        {"input": {"phone": CHILD, "relation": "孙子", "scopes": ["ORDER_FOR"]}},
        elder,
    )
    link_id = invited["data"]["inviteFamilyMember"]["id"]
    child = sign_in(client, CHILD)

    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {elder}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": document("app/FamilyLinkUpdates")}})

        accepted = op(client, "app/RespondToFamilyInvitation", {"linkId": link_id, "accept": True}, child)
        assert accepted["data"]["respondToFamilyInvitation"]["status"] == "ACTIVE"
        update = next_update(ws, until_status="ACTIVE")  # the invitation itself may arrive first
        assert update["id"] == link_id
        assert update["familyMember"]["phone"] == CHILD  # shown in full now the link is active

        op(client, "app/RevokeFamilyLink", {"linkId": link_id}, child)
        assert next_update(ws, until_status="REVOKED")["id"] == link_id
        ws.send_json({"id": "1", "type": "complete"})


def test_a_socket_without_a_valid_token_is_refused(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": "Bearer nonsense"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403
