"""The portal's API as a box (or someone pretending to be one) calls it over HTTP: a refusal is
said in the elder's words, the event stream's ticket opens nothing else, a body nobody can
read is a 400. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backend.access.subject import Door
from backend.community import screens
from backend.community.screens import Choice
from backend.config import REPO_ROOT
from backend.content.catalog import catalog_for
from tests.conftest import ELDER, Api, Database, make_settings, serve
from voice.menu import menu_of
from voice.packs import load_pack

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def paired_box(api: Api, phone: str = ELDER, serial: str = "STB-API") -> str:
    """A box paired with `phone`'s home: its portal token."""
    code = (await api.client.post("/tv/device/code", data={"serial": serial})).json()
    approved = await api.op("app/ApproveTvDevice", {"userCode": code["user_code"]}, await api.sign_in(phone))
    assert approved["data"]["approveTvDevice"]["__typename"] == "TvDevice", approved
    token = await api.client.post("/tv/device/token", data={"grant_type": GRANT, "device_code": code["device_code"]})
    return str(token.json()["access_token"])


@pytest.fixture
async def box(tmp_path: Path, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Api]:
    local_clock("11:00")  # lunch stopped taking orders at 10:00
    async with serve(make_settings(tmp_path, db.url)) as api:  # a real socket: the event stream streams
        api.tokens["box"] = await paired_box(api)
        yield api


def bearer(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens['box']}"}


async def test_every_refused_action_says_why_in_the_elders_words(box: Api) -> None:
    # Lunch after its cut-off: the reason, read aloud, not "network down".
    closed = await box.client.post(
        "/tv/portal/api/menu/order",
        json={"product": "lunch-set-a", "quantity": 1, "key": "k-closed-01"},
        headers=bearer(box),
    )
    assert closed.status_code == 409
    assert closed.json()["code"] == "ORDERING_CLOSED"
    assert closed.json()["message"] == "今天这一餐已经过了预订时间，请订下一餐。"
    assert closed.json()["readAloudUrl"].startswith("http://testserver/read-aloud/")

    wrong_quantity = await box.client.post(
        "/tv/portal/api/menu/order",
        json={"product": "lunch-set-a", "quantity": 9, "key": "k-many-0001"},
        headers=bearer(box),
    )
    assert wrong_quantity.status_code == 409 and wrong_quantity.json()["code"] == "INVALID_INPUT"
    assert "填写的内容有误" in wrong_quantity.json()["message"]

    for path in ("/tv/portal/api/help/999999/done", "/tv/portal/api/events/999999/signup"):
        unknown = await box.client.post(path, json={}, headers=bearer(box))
        assert unknown.status_code == 409, path
        assert unknown.json()["message"] == "没有找到这条记录，或者您无权查看。"

    # Nothing was ordered.
    orders = await box.client.get("/tv/portal/api/orders", headers=bearer(box))
    assert orders.json()["items"] == []


async def test_the_live_ticket_opens_the_event_stream_only_and_never_renews(box: Api) -> None:
    ticket = (await box.client.post("/tv/portal/api/ticket", headers=bearer(box))).json()["ticket"]
    as_token = {"Authorization": f"Bearer {ticket}"}
    for path in ("/tv/portal/api/home", "/tv/portal/api/notices"):
        assert (await box.client.get(path, headers=as_token)).status_code == 401, path
    assert (await box.client.post("/tv/portal/api/ticket", headers=as_token)).status_code == 401
    assert (await box.client.post("/tv/portal/api/callback", headers=as_token)).status_code == 401
    # The portal token itself is not a ticket: the stream wants the ticket.
    refused = await box.client.get("/tv/portal/events", params={"ticket": box.tokens["box"]})
    assert refused.status_code == 401
    async with asyncio.timeout(20), box.client.stream("GET", "/tv/portal/events", params={"ticket": ticket}) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            assert line == "event: hello"
            break


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/tv/device/code", {"content-type": "application/json"}),
        ("/tv/device/token", {"content-type": "application/json"}),
        ("/tv/portal/api/menu/order", {"content-type": "application/json"}),
        ("/tv/portal/api/alarm", {"content-type": "application/json"}),
    ],
)
async def test_a_body_nested_too_deep_is_refused_with_a_400(box: Api, path: str, headers: dict[str, str]) -> None:
    body = b"[" * 30_000 + b"]" * 30_000  # within the 64 KiB limit
    response = await box.client.post(path, content=body, headers={**headers, **bearer(box)})
    assert response.status_code == 400, response.text
    # The same route still answers a well-formed body.
    fine = await box.client.post(path, json={}, headers=bearer(box))
    assert fine.status_code < 500


async def test_any_action_on_the_box_is_her_check_in_and_an_hour_of_the_homes_use(
    box: Api, db: Database, people: dict[str, int]
) -> None:
    from sqlalchemy import select

    from backend.wellbeing.models import CheckIn, HomeHour

    # Given she asked to check in by 10:00 each day
    planned = await box.op("app/SetCheckInPlan", {"active": True, "byTime": "10:00"}, await box.sign_in(ELDER))
    assert planned["data"]["setCheckInPlan"]["active"] is True
    # When she asks for a call back with the remote (no check-in button pressed)
    asked = await box.client.post("/tv/portal/api/callback", json={}, headers=bearer(box))
    assert asked.status_code == 200, asked.text
    await box.settle()
    # Then today counts as checked in on the TV, and the home used its TV this hour
    async with db.factory() as session:
        kept = list((await session.execute(select(CheckIn))).scalars())
        used = list((await session.execute(select(HomeHour))).scalars())
    assert [(c.person_id, c.via) for c in kept] == [(people[ELDER], "tv")]
    assert [(u.kind, u.used) for u in used] == [("tv", True)]


async def test_a_box_finds_its_home_in_two_statements(box: Api) -> None:
    from tests.conftest import QueryCounter
    from tv_channel.portal.household import tv_home

    # The morning's thousands of boxes: the box with its home and community, then who lives
    # there; the home is not asked for again once the box's token is read.
    rt = box.runtime
    with QueryCounter(rt.engine) as counter:
        async with rt.factory() as session:
            home = await tv_home(session, rt.settings, rt.tokens, box.tokens["box"])
    assert home is not None and home.community.code == "xingfu"
    assert counter.count == 2, "\n---\n".join(counter.statements)


async def test_the_home_is_one_screen_on_the_app_the_tv_and_the_phone(box: Api) -> None:

    # The elder's home in the app, and on her home's TV: the same entries, words and keys
    app = (await box.op("app/Home", {}, await box.sign_in(ELDER)))["data"]["home"]
    tv = (await box.client.get("/tv/portal/api/home", headers=bearer(box))).json()
    on_app = [(b["digit"], b["label"], b["action"]) for b in app["buttons"]]
    assert on_app[:3] == [
        ("9", "紧急呼叫", "emergency"),
        ("1", "助餐", "services.meals"),
        ("2", "上门服务", "services"),
    ]
    assert [(b["digit"], b["label"], b["action"]) for b in tv["buttons"]] == [b for b in on_app if b[1] != "联系家人"]
    assert [b["readAloudUrl"] for b in tv["buttons"]] == [
        b["readAloudUrl"] for b in app["buttons"] if b["label"] != "联系家人"
    ]
    assert tv["greeting"]["text"] == app["greeting"]["text"]
    # each screen the TV opens is titled with its entry's words
    assert tv["texts"]["buttons"]["consult"]["label"] == "咨询"

    # and the phone line says the same entries with the same keys, in the same order: what a
    # line can neither do nor read from a room's screen (the contacts, ringing family) it leaves out
    catalog = catalog_for(REPO_ROOT / "content")
    offered = screens.choices(catalog, "xingfu", "zh-CN", Door.PHONE)
    pack, readable = load_pack(REPO_ROOT / "content", "zh-CN"), box.runtime.screens
    said = menu_of(pack, offered, listening=True, readable=readable)
    assert said.prompt == (
        "紧急呼叫，请说“救命”或按9。 助餐，请说“订饭”或按1。 上门服务，请说“预约服务”或按2。 "
        "我的订单，请说“查订单”或按3。 消息，请说“听通知”或按4。 咨询，请按5。 邻里互助，请按6。 "
        "活动和课程，请按7。 公告和政策，请按8。 请社区回电话，请说“转人工”或按0。 按星号重听，按井号说慢一点。"
    )
    phone_entries = [b for b in on_app if b[0] is not None and f"{b[1]}，" in said.prompt]
    assert [b[0] for b in phone_entries] == ["9", "1", "2", "3", "4", "5", "6", "7", "8", "0"]
    assert said.keys == {
        "1": "meal",
        "2": "book",
        "3": "orders",
        "4": "notices",
        "5": "consult",
        "6": "help",
        "7": "read:events",
        "8": "read:announcements",
    }
    # where no Mandarin model is installed the line hears keys only, and says so
    keys_only = menu_of(pack, offered, listening=False, readable=readable)
    assert keys_only.prompt.startswith("紧急呼叫，请按9。 助餐，请按1。") and "请说" not in keys_only.prompt
    assert keys_only.keys == said.keys


def test_a_home_the_phone_line_cannot_say_fails_when_it_is_read() -> None:

    pack = load_pack(REPO_ROOT / "content", "zh-CN")
    moved_alarm = Choice("sos", "1", "紧急呼叫", "", "alarm", "emergency")
    with pytest.raises(ValueError, match="hears 'sos' on 9"):
        menu_of(pack, [moved_alarm], listening=True)
    keyless = Choice("meals", None, "助餐", "", "rice_bowl", "services.meals")
    with pytest.raises(ValueError, match="cannot offer 'meals'"):
        menu_of(pack, [keyless], listening=True)
    board = Choice("events", "7", "活动和课程", "", "calendar", "bulletin.events")
    with pytest.raises(ValueError, match="cannot offer 'events'"):
        menu_of(pack, [board], listening=True)  # no errand, and no room's screen to read
