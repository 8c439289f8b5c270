"""A daughter far away follows her father's orders and bookings live, whoever placed them."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import ELDER, FAMILY, HEPING_ELDER, SERVICE_CENTRE, document, sync_op, sync_sign_in

SHOP_STAFF = "+8613600000002"


def next_update(ws: Any) -> dict[str, Any]:
    message = ws.receive_json()
    assert message["type"] == "next", message
    return dict(message["payload"]["data"]["orderUpdates"])


def test_the_daughter_sees_each_step_of_her_fathers_order_and_booking(client: Any, local_clock: Any) -> None:
    local_clock("09:00")
    daughter, father = sync_sign_in(client, FAMILY), sync_sign_in(client, ELDER)
    father_id = sync_op(client, "app/Me", {}, father)["data"]["me"]["id"]
    centre = sync_sign_in(client, SERVICE_CENTRE)
    key = uuid.uuid4().hex
    sync_op(
        client,
        "app/TopUpWallet",
        {"amountFen": 20_000, "method": "CASH", "idempotencyKey": key, "personId": father_id},
        centre,
    )

    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {daughter}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        subscribe = {"query": document("app/OrderUpdates"), "variables": {"personId": father_id}}
        ws.send_json({"id": "1", "type": "subscribe", "payload": subscribe})

        # The father orders for himself: his daughter sees it all the same.
        placed = sync_op(
            client,
            "app/PlaceOrder",
            {"items": [{"productCode": "rice-5kg", "quantity": 1}], "idempotencyKey": uuid.uuid4().hex},
            father,
        )["data"]["placeOrder"]
        seen = next_update(ws)
        assert (seen["__typename"], seen["id"], seen["status"]) == ("CommerceOrder", placed["id"], "PLACED")
        shop = sync_sign_in(client, SHOP_STAFF)
        sync_op(client, "staff/DispatchOrder", {"orderId": placed["id"]}, shop)
        assert next_update(ws)["status"] == "DISPATCHED"
        sync_op(client, "staff/DeliverOrder", {"orderId": placed["id"]}, shop)
        delivered = next_update(ws)
        assert delivered["status"] == "DELIVERED" and delivered["deliveredAt"]

        # The service centre books a visit for him (he phoned): it shows up too.
        slots = sync_op(client, "app/AvailableSlots", {"offeringCode": "cleaning-2h", "personId": father_id}, centre)
        start = slots["data"]["availableSlots"][0]["start"]
        booked = sync_op(
            client,
            "app/BookService",
            {
                "offeringCode": "cleaning-2h",
                "slotStart": start,
                "idempotencyKey": uuid.uuid4().hex,
                "personId": father_id,
            },
            centre,
        )["data"]["bookService"]
        seen = next_update(ws)
        assert (seen["__typename"], seen["id"], seen["bookingStatus"]) == ("ServiceBooking", booked["id"], "REQUESTED")
        ws.send_json({"id": "1", "type": "complete"})


def test_someone_not_linked_cannot_follow_an_elders_orders(client: Any) -> None:
    father_id = sync_op(client, "app/Me", {}, sync_sign_in(client, ELDER))["data"]["me"]["id"]
    neighbour = sync_sign_in(client, HEPING_ELDER)
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {neighbour}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        subscribe = {"query": document("app/OrderUpdates"), "variables": {"personId": father_id}}
        ws.send_json({"id": "1", "type": "subscribe", "payload": subscribe})
        refused = ws.receive_json()
        assert refused["type"] in ("next", "error"), refused
        errors = refused["payload"]["errors"] if refused["type"] == "next" else refused["payload"]
        assert (
            errors[0]["extensions"]["code"] == "NOT_FOUND"
            and errors[0]["message"] == "没有找到这条记录，或者您无权查看。"
        )
