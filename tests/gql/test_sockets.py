"""graphql-transport-ws as a real client speaks it, over a real socket to uvicorn: several
subscriptions on one socket, a socket that lives no longer than its session, and no legacy
protocol."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ELDER, GRID_WORKER, Served, document


@asynccontextmanager
async def socket_of(served: Served, token: str) -> AsyncIterator[ClientConnection]:
    url = served.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        yield ws


async def subscribe(ws: ClientConnection, op_id: str, name: str) -> None:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": document(name)}}))


async def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def closed_with(ws: ClientConnection, timeout: float = 10) -> int | None:
    """The close code once the server closes the socket (messages before it are skipped)."""

    async def wait() -> int | None:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    return await asyncio.wait_for(wait(), timeout)


async def test_two_subscriptions_on_one_socket_both_live_to_the_alarms_end(served: Served) -> None:
    # Given: a grid worker's console follows alarms and notices on one socket, as standard clients do.
    worker = await served.sign_in(GRID_WORKER)
    elder = await served.sign_in(ELDER)
    async with socket_of(served, worker) as ws:
        await subscribe(ws, "alarms", "staff/EmergencyUpdates")
        await subscribe(ws, "notices", "app/NotificationFeed")
        await asyncio.sleep(0.3)  # both operations are listening

        # When: an elder presses, and the worker acknowledges, sets off and resolves the alarm.
        raised = await served.op("app/TriggerEmergency", {"idempotencyKey": "ws-two-streams-1"}, elder)
        alert_id = raised["data"]["triggerEmergency"]["emergency"]["id"]
        await asyncio.sleep(0.5)
        await served.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
        await asyncio.sleep(0.5)
        await served.op("staff/MarkEmergencyEnRoute", {"emergencyId": alert_id}, worker)
        await asyncio.sleep(0.5)
        await served.op(
            "staff/ResolveEmergency", {"emergencyId": alert_id, "outcome": "HELPED_ON_SITE", "note": "扶起"}, worker
        )

        # Then: the resolution arrives, nothing completes, and each change comes once.
        statuses: list[str] = []
        notices = 0
        while "RESOLVED" not in statuses:
            message = await receive(ws)
            assert message["type"] == "next", message  # never "complete" or "error"
            if message["id"] == "alarms":
                update = message["payload"]["data"]["emergencyUpdates"]
                assert update["id"] == alert_id
                statuses.append(update["status"])
            else:
                notices += 1
    assert notices >= 1  # the alarm notice itself
    assert statuses == ["OPEN", "ACKNOWLEDGED", "EN_ROUTE", "RESOLVED"]


async def test_signing_out_everywhere_closes_open_sockets_at_once(served: Served) -> None:
    elder = await served.sign_in(ELDER)
    async with socket_of(served, elder) as ws:
        await subscribe(ws, "n", "app/NotificationFeed")
        await asyncio.sleep(0.2)
        signed_out = await served.op("app/SignOut", {"everywhere": True}, elder)
        assert signed_out["data"]["signOut"]["ok"] is True
        assert await closed_with(ws) == 4403


async def test_a_socket_closes_when_its_token_expires_unless_renewed(
    tmp_path: Any, db: Any, people: dict[str, int]
) -> None:
    from tests.conftest import make_settings, serve

    settings = make_settings(tmp_path, db.url, access_token_ttl_s=6)
    async with serve(settings) as served:
        elder = await served.sign_in(ELDER)
        # Renewed with a fresh token before it runs out: the socket stays open past the first expiry.
        async with socket_of(served, elder) as ws:
            await asyncio.sleep(3)
            # What refreshSession would hand the app: a new access token for the same person.
            fresh = served.runtime.tokens.access_token(f"person:{people[ELDER]}")
            await ws.send(json.dumps({"type": "ping", "payload": {"authorization": f"Bearer {fresh}"}}))
            assert (await receive(ws))["type"] == "pong"
            await asyncio.sleep(4)  # past the first token's expiry (exp is whole seconds)
            await ws.send(json.dumps({"type": "ping"}))
            assert (await receive(ws))["type"] == "pong"
            # Not renewed again: closed when the fresh token runs out.
            assert await closed_with(ws) == 4401
        # Another person's token is no renewal.
        async with socket_of(served, served.runtime.tokens.access_token(f"person:{people[ELDER]}")) as ws:
            worker = await served.sign_in(GRID_WORKER)
            await ws.send(json.dumps({"type": "ping", "payload": {"authorization": f"Bearer {worker}"}}))
            assert await closed_with(ws) == 4403


async def test_only_graphql_transport_ws_and_a_silent_socket_is_closed(served: Served) -> None:
    url = served.base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert await closed_with(ws) == 4406  # subprotocol not acceptable
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        assert await closed_with(ws, timeout=20) == 4408  # said nothing: closed after 10 s
