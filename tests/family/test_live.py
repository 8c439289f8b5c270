"""A family member's open app sees the link change live (graphql-transport-ws)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ELDER, document
from tests.conftest import sync_op as op
from tests.conftest import sync_sign_in as sign_in

CHILD = "+8613955550007"


def next_update(ws: Any, *, until_status: str, at_most: int = 3) -> dict:
    """The next update with this status; earlier changes of the same link may come first."""
    for _ in range(at_most):
        message = ws.receive_json()
        assert message["type"] == "next", message
        update = message["payload"]["data"]["familyLinkUpdates"]
        if update["status"] == until_status:
            return update
    raise AssertionError(f"no {until_status} update")


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
