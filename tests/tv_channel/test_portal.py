"""The TV portal in Debian's Chromium at 1280x720, driven by key events only (the remote):
pairing, ordering a meal, booking a visit, the red key, a message on screen, an event.
axe-core checks every screen; text sizes and the focus outline are measured in the page."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from backend.community.models import Device, DeviceKind
from backend.config import REPO_ROOT
from tests.conftest import ADMIN, ELDER, FAMILY, GRID_WORKER, SERVICE_CENTRE, Database, Served, make_settings, serve
from tests.safety.test_cap import SECRET, SENDER, message, send

AXE = REPO_ROOT / "tests" / "tv_channel" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the engines' part is in the services' tests


@pytest.fixture
async def tv(tmp_path: Path, db: Database, people: dict[str, int], local_clock: Any) -> AsyncIterator[Served]:
    local_clock("09:00")  # lunch (until 10:00) is still taking orders
    settings = make_settings(tmp_path, db.url, tv_grant_poll_interval_s=1, cap_sender_secrets={SENDER: SECRET})
    async with serve(settings) as served:
        yield served


async def screen_of(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    return await context.new_page()


async def press(page: Page, *keys: str) -> None:
    for key in keys:
        await page.keyboard.press(key)


async def remote(page: Page, key_code: int) -> None:
    """A key only a remote has (the colour keys), as the box's browser reports it."""
    await page.evaluate(
        "code => document.dispatchEvent(new KeyboardEvent('keydown', {keyCode: code, which: code, bubbles: true}))",
        key_code,
    )


async def check_screen(page: Page) -> None:
    """axe-core finds nothing; no text under 32 px; the focused item's outline shows."""
    # Through the devtools protocol: the page itself runs no inline script (its CSP).
    await page.evaluate(AXE.read_text("utf-8"))
    found = await page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    assert found == [], json.dumps([(v["id"], [n["html"] for n in v["nodes"]][:3]) for v in found], ensure_ascii=False)
    smallest = await page.evaluate(
        """() => Math.min(...Array.from(document.querySelectorAll('body *'))
             .filter(e => e.offsetParent !== null && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
             .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 32, smallest
    outline = await page.evaluate(
        """() => { const f = document.activeElement; if (!f || f === document.body) return null;
                   const s = getComputedStyle(f); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
    )
    if outline is not None:
        assert outline[0] != "none" and outline[1] >= 3, outline


async def pair(page: Page, tv: Served, phone: str = ELDER) -> None:
    """The box shows its code; someone of the home approves it in the app; the box goes home."""
    await page.goto(f"{tv.base}/tv/portal?serial=BOX-{uuid.uuid4().hex[:8]}")
    code = page.locator("#user-code")
    await expect(code).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    await check_screen(page)
    qr = await page.evaluate("document.querySelector('.pair img').naturalWidth")
    assert qr > 0  # the QR code loaded
    approved = await tv.op("app/ApproveTvDevice", {"userCode": await code.text_content()}, await tv.sign_in(phone))
    assert approved["data"]["approveTvDevice"]["__typename"] == "TvDevice", approved
    await expect(page.locator("main h1")).to_have_text("黎文华，您好！", timeout=10_000)


async def test_a_box_pairs_by_its_code_then_the_elders_home_is_read_to_her_in_her_words(
    tv: Served, browser: Browser
) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    buttons = page.locator("main .item")
    await expect(buttons).to_have_count(11)  # the home of every door, less ringing family
    # The alarm comes first, red, on 9 as on the phone, but OK pressed by chance is not it
    await expect(buttons.nth(0)).to_have_attribute("data-digit", "9")
    await expect(buttons.nth(0)).to_have_class(re.compile("raise"))
    await expect(buttons.nth(1)).to_be_focused()
    await check_screen(page)
    # Her settings: font scale 1.5, read aloud, slow speech.
    scale = await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--scale')")
    assert scale.strip() == "1.5"
    await press(page, "ArrowRight")
    await expect(buttons.nth(2)).to_be_focused()
    await press(page, "ArrowDown")
    await expect(buttons.nth(6)).to_be_focused()
    # Read aloud once the remote rests, from the server's speech.
    await expect(page.locator("#voice")).to_have_attribute("src", re.compile("/read-aloud/"))


async def money(tv: Served, token: str) -> int:
    """Her wallet and her subsidies together, in fen."""
    wallet = (await tv.op("app/Wallet", {}, token))["data"]["wallet"]
    return int(wallet["balanceFen"]) + sum(int(s["balanceFen"]) for s in wallet["subsidies"])


async def test_the_elder_orders_lunch_with_the_remote_and_pays_from_her_wallet(tv: Served, browser: Browser) -> None:
    elder = await tv.sign_in(ELDER)
    topped = await tv.op(
        "app/TopUpWallet", {"amountFen": 5000, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex}, elder
    )
    assert topped["data"]["topUpWallet"]["__typename"] == "WalletToppedUp"
    before = await money(tv, elder)
    page = await screen_of(browser)
    await pair(page, tv)
    await press(page, "Enter")  # 助餐
    await expect(page.locator("main h1")).to_have_text("助餐")
    await check_screen(page)
    first = page.locator("main .item").nth(0)
    await expect(first).to_be_focused()
    dish = (await first.text_content() or "").split("  ")[0]
    await press(page, "Enter")  # the dish
    await expect(page.locator("main")).to_contain_text("订几份")
    await press(page, "Enter")  # one portion
    await expect(page.locator("main")).to_contain_text("送到家")
    await press(page, "Enter")  # delivered
    await expect(page.locator("main .say")).to_contain_text(f"您要订1份{dish}，送到家")
    await check_screen(page)
    await press(page, "Enter")  # 确定
    await expect(page.locator("main .say")).to_contain_text(f"订好了：1份{dish}，送到家")
    await check_screen(page)
    orders = await tv.op("app/MyOrders", {}, elder)
    order = orders["data"]["myOrders"][0]
    assert (order["status"], order["lines"][0]["name"]) == ("PLACED", dish), order
    # Paid in full from what she has: her meal subsidy first, then her wallet.
    assert before - await money(tv, elder) == order["totalFen"]


async def test_the_elder_books_a_visit_and_sees_it_in_her_orders(tv: Served, browser: Browser) -> None:
    elder = await tv.sign_in(ELDER)
    await tv.op("app/TopUpWallet", {"amountFen": 20000, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex}, elder)
    page = await screen_of(browser)
    await pair(page, tv)
    await press(page, "ArrowRight", "Enter")  # 上门服务
    await expect(page.locator("main h1")).to_have_text("上门服务")
    service = (await page.locator("main .item").nth(0).text_content() or "").strip()
    await press(page, "Enter")
    await expect(page.locator("main")).to_contain_text("选一个时间")
    await check_screen(page)
    await press(page, "Enter")  # the first open time
    await expect(page.locator("main .say")).to_contain_text("您要预约")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_contain_text("约好了")
    code = await page.locator("main .say").text_content()
    bookings = await tv.op("app/ServiceBookings", {}, elder)
    booked = bookings["data"]["serviceBookings"][0]
    assert booked["checkInCode"] in (code or "")
    # Back home and into 我的订单: the booking is there.
    await press(page, "Enter")  # 返回
    await expect(page.locator("main h1")).to_have_text("黎文华，您好！")
    await press(page, "2")  # by its key, the same as on the phone
    await expect(page.locator("main h1")).to_have_text("上门服务")
    await press(page, "Backspace")
    await expect(page.locator("main h1")).to_have_text("黎文华，您好！")
    await press(page, "3")
    await expect(page.locator("main h1")).to_have_text("我的订单")
    assert service  # (the first service was offered)
    await expect(page.locator("main .item")).not_to_have_count(0)


async def test_the_red_key_raises_the_alarm_and_the_screen_follows_it_live(tv: Served, browser: Browser) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    await remote(page, 403)  # the red key, as HbbTV reports it
    state = page.locator("main .alarm-state")
    await expect(state).to_contain_text("已通知")
    await expect(page.locator("body")).to_have_class("alarm")
    await check_screen(page)
    worker = await tv.sign_in(GRID_WORKER)
    alarms = await tv.op("staff/OpenEmergencies", {}, worker)
    alert_id = alarms["data"]["openEmergencies"][0]["id"]
    acknowledged = await tv.op("staff/AcknowledgeEmergency", {"emergencyId": alert_id}, worker)
    assert acknowledged["data"]["acknowledgeEmergency"]["__typename"] == "Emergency", acknowledged
    await expect(state).to_contain_text("已收到您的呼叫")
    await tv.op("staff/MarkEmergencyEnRoute", {"emergencyId": alert_id}, worker)
    await expect(state).to_contain_text("正在赶来")
    await tv.op("staff/MarkEmergencyArrived", {"emergencyId": alert_id}, worker)
    await expect(state).to_contain_text("已经到了")
    await press(page, "Backspace")
    await expect(page.locator("body")).not_to_have_class("alarm")
    # 9 on the home is the alarm too, as on the phone: the same alarm, pressed again
    await press(page, "9")
    await expect(page.locator("body")).to_have_class("alarm")
    for _ in range(50):
        again = await tv.op("staff/OpenEmergencies", {}, worker)
        if again["data"]["openEmergencies"][0]["presses"] == 2:
            break
        await asyncio.sleep(0.1)
    assert again["data"]["openEmergencies"][0]["presses"] == 2, again


async def box_is_on(db: Database) -> None:
    """The box's live connection has marked it seen (the tv path delivers to boxes that are on)."""
    for _ in range(100):
        async with db.factory() as session:
            seen = await session.scalar(select(Device.last_seen_at).where(Device.kind == DeviceKind.TV))
        if seen is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the box was never marked on")


async def test_a_message_shows_over_any_screen_read_aloud_and_ok_confirms_it(
    tv: Served, browser: Browser, db: Database, people: dict[str, int]
) -> None:
    elder = await tv.sign_in(ELDER)
    chosen = await tv.op("app/UpdateNotificationSettings", {"paths": ["tv", "sms"]}, elder)
    assert chosen["data"]["updateNotificationSettings"]["paths"] == ["tv", "sms"], chosen
    page = await screen_of(browser)
    await pair(page, tv)
    await press(page, "7")  # 活动和课程: any screen will do
    await expect(page.locator("main h1")).to_have_text("活动和课程")
    await box_is_on(db)

    son = await tv.sign_in(FAMILY)
    await tv.op("app/TopUpWallet", {"amountFen": 5000, "method": "ONLINE", "idempotencyKey": uuid.uuid4().hex}, son)
    mother = str(people[ELDER])
    menu = await tv.op("app/TodayMenu", {"personId": mother}, son)
    dish = next(m for m in menu["data"]["todayMenu"] if m["open"] and m["dishes"])["dishes"][0]
    placed = await tv.op(
        "app/PlaceOrder",
        {
            "items": [{"productCode": dish["productCode"], "quantity": 1}],
            "idempotencyKey": uuid.uuid4().hex,
            "personId": mother,
            "payFrom": "ME",
        },
        son,
    )
    assert placed["data"]["placeOrder"]["__typename"] == "CommerceOrder", placed
    overlay = page.locator("#overlay")
    await expect(overlay).to_be_visible()
    await expect(overlay).to_contain_text("秦磊燕")
    await expect(page.locator("#overlay-hint")).to_have_text("按确定键表示收到")
    await check_screen(page)
    await press(page, "Enter")
    await expect(overlay).to_be_hidden()
    await expect(page.locator("main h1")).to_have_text("活动和课程")  # still where she was

    async def delivered_by() -> str | None:
        feed = await tv.op("app/Notifications", {}, elder)
        return feed["data"]["notifications"]["nodes"][0]["deliveredBy"]

    for _ in range(50):
        if await delivered_by() == "tv":
            break
        await asyncio.sleep(0.1)
    assert await delivered_by() == "tv"


async def test_signing_up_for_a_class_and_asking_for_a_call_back_by_remote(tv: Served, browser: Browser) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    await press(page, "7")  # 活动和课程
    await expect(page.locator("main h1")).to_have_text("活动和课程")
    first = page.locator("main .item").nth(0)
    # Tomorrow at nine: the 7:30 tai chi class has begun, the phone class is next.
    await expect(first).to_contain_text("老年大学·智能手机课")
    await expect(first).to_contain_text("还有20个名额")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_contain_text("报名老年大学·智能手机课")
    await check_screen(page)
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_contain_text("报好了：老年大学·智能手机课")
    await press(page, "Enter", "7")
    await expect(page.locator("main .item").nth(0)).to_contain_text("您已报名")
    roster_of = await tv.op("app/CommunityEvents", {}, await tv.sign_in(ELDER))
    phones = next(e for e in roster_of["data"]["communityEvents"] if e["title"] == "老年大学·智能手机课")
    assert phones["mySignup"] == "CONFIRMED" and phones["placesLeft"] == 19

    await press(page, "Backspace", "0")  # 请社区回电话
    await expect(page.locator("main .say")).to_contain_text("请社区服务中心给您回电话吗")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_contain_text("已经告诉社区服务中心了，他们会打电话到138****0001")
    await check_screen(page)
    asked = await tv.op("staff/CallbackRequests", {}, await tv.sign_in(GRID_WORKER))
    assert [r["personName"] for r in asked["data"]["callbackRequests"]] == ["黎文华"]


async def test_an_unpaired_box_goes_back_to_its_pairing_screen_at_once_and_its_token_opens_nothing(
    tv: Served, browser: Browser, db: Database
) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    await box_is_on(db)
    token = await page.evaluate("localStorage.getItem('linli.tv.token')")
    assert (await tv.client.get("/tv/portal/api/home", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    elder = await tv.sign_in(ELDER)
    [box] = (await tv.op("app/TvDevices", {}, elder))["data"]["tvDevices"]
    unpaired = await tv.op("app/UnpairTvDevice", {"deviceId": box["id"]}, elder)
    assert unpaired["data"]["unpairTvDevice"]["__typename"] == "TvDeviceUnpaired", unpaired
    # No reload: the live connection says so, and the box shows a new code.
    await expect(page.locator("#user-code")).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    refused = await tv.client.get("/tv/portal/api/home", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json() == {"code": "UNPAIRED"}
    # Nor can it raise an alarm in the home any more.
    assert (
        await tv.client.post("/tv/portal/api/alarm", json={}, headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401


async def test_an_official_warning_covers_the_screen_at_once_and_a_roll_call_is_answered_with_ok(
    tv: Served, browser: Browser, db: Database
) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    await box_is_on(db)
    assert (await send(tv, message()[1])).status_code == 200
    overlay = page.locator("#overlay")
    await expect(overlay).to_be_visible()
    await expect(overlay).to_have_class("full")
    await expect(page.locator("#overlay-title")).to_have_text("渝中区暴雨橙色预警")
    await expect(page.locator("#overlay-body")).to_contain_text("请不要外出")
    await check_screen(page)
    await press(page, "Enter")
    await expect(overlay).to_be_hidden()

    admin = await tv.sign_in(ADMIN)
    community = (await tv.op("app/Me", {}, await tv.sign_in(ELDER)))["data"]["me"]["household"]["community"]["id"]
    started = await tv.op("staff/StartRollCall", {"communityId": community, "reason": "暴雨过后报平安"}, admin)
    call = started["data"]["startRollCall"]
    await expect(overlay).to_be_visible()
    await expect(page.locator("#overlay-title")).to_have_text("报平安")
    await expect(page.locator("#overlay-body")).to_contain_text("暴雨过后报平安")
    await expect(page.locator("#overlay-hint")).to_have_text("平安请按确定键")
    await check_screen(page)
    await press(page, "Enter")
    await expect(overlay).to_be_hidden()
    await expect(page.locator("#voice")).to_have_attribute("src", re.compile("/read-aloud/"))
    for _ in range(50):
        standing = (await tv.op("staff/RollCall", {"id": call["id"]}, admin))["data"]["rollCall"]
        if standing["answered"] == 1:
            break
        await asyncio.sleep(0.1)
    assert standing["answered"] == 1
    assert "黎文华" not in [n for home in standing["notAnswered"] for n in home["names"]]


async def test_the_elder_finds_an_answer_by_topic_and_asks_a_person_when_it_is_not_enough(
    tv: Served, browser: Browser
) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    await press(page, "5")  # 咨询
    await expect(page.locator("main h1")).to_have_text("咨询")
    await check_screen(page)
    await press(page, "Enter")  # 惠民政策
    first = page.locator("main .item").nth(0)
    await expect(first).to_contain_text("高龄津贴怎么领？")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_have_text("满80岁每月有高龄津贴，带身份证到社区服务中心登记。")
    await check_screen(page)
    await press(page, "ArrowDown", "Enter")  # 还要问人
    await expect(page.locator("main .say")).to_contain_text("高龄津贴怎么领？")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_contain_text("已经告诉社区办公室了，会打电话到138****0001回答您。")
    # The question waits at the office desk, with the number to ring back.
    queue = await tv.op("staff/DeskQueue", {"communityId": "1"}, await tv.sign_in(SERVICE_CENTRE))
    [thread] = queue["data"]["deskQueue"]
    assert (thread["elderName"], thread["door"], thread["question"]) == ("黎文华", "tv", "高龄津贴怎么领？")
    assert thread["ringBack"] == "+8613800000001" and thread["status"] == "WAITING"


async def test_the_elder_asks_a_neighbour_for_help_and_says_ok_when_it_is_done(tv: Served, browser: Browser) -> None:
    page = await screen_of(browser)
    await pair(page, tv)
    await press(page, "6")  # 邻里互助
    await expect(page.locator("main h1")).to_have_text("邻里互助")
    await check_screen(page)
    await page.locator("main .item", has_text="读报").click()
    await expect(page.locator("main .say")).to_have_text("什么时候？")
    await press(page, "Enter")  # the first time offered
    await expect(page.locator("main .say")).to_contain_text("来帮您读报吗？按确定键。")
    await press(page, "Enter")
    # The demo volunteer of her grid reads to people: she is asked.
    await expect(page.locator("main .say")).to_have_text("已经告诉附近的志愿者了，有人答应会告诉您。")
    volunteer = await tv.sign_in("+8613400000001")
    [asked] = (await tv.op("app/HelpAskedOfMe", {}, volunteer))["data"]["helpAskedOfMe"]
    going = await tv.op("app/AcceptHelpRequest", {"id": asked["id"]}, volunteer)
    assert going["data"]["acceptHelpRequest"]["status"] == "MATCHED"

    for _ in range(4):
        if await page.locator("main h1").text_content() == "黎文华，您好！":
            break
        await press(page, "Backspace")
        await page.wait_for_timeout(300)
    await expect(page.locator("main h1")).to_have_text("黎文华，您好！")
    await press(page, "6")
    await expect(page.locator("main h1")).to_have_text("邻里互助")
    mine = page.locator("main .item").nth(0)
    await expect(mine).to_contain_text("读报")
    await expect(mine).to_contain_text("陈思雨会来")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_contain_text("陈思雨帮您读报，帮完了吗？")
    await press(page, "Enter")
    await expect(page.locator("main .say")).to_have_text("谢谢，已经给志愿者记上时间了。")
    bank = await tv.op("app/TimeBank", {}, volunteer)
    assert bank["data"]["timeBank"]["balanceMinutes"] == 60


async def test_the_box_asks_for_the_days_check_in_and_ok_gives_it(tv: Served, browser: Browser) -> None:
    elder = await tv.sign_in(ELDER)
    planned = await tv.op("app/SetCheckInPlan", {"active": True, "byTime": "10:00"}, elder)
    assert planned["data"]["setCheckInPlan"]["active"] is True
    page = await screen_of(browser)
    await pair(page, tv)
    overlay = page.locator("#overlay")
    await expect(overlay).to_be_visible()
    await expect(page.locator("#overlay-title")).to_have_text("平安报")
    await expect(page.locator("#overlay-hint")).to_have_text("按确定键报平安")
    await check_screen(page)
    await press(page, "Enter")
    await expect(overlay).to_be_hidden()
    me = (await tv.op("app/Me", {}, elder))["data"]["me"]["id"]
    for _ in range(50):
        today = (await tv.op("app/WellbeingToday", {"personId": me}, await tv.sign_in(FAMILY)))["data"][
            "wellbeingToday"
        ]
        if today["via"]:
            break
        await asyncio.sleep(0.1)
    assert today["via"] == "tv" and today["line"].endswith("报平安（在电视上报了平安）")
