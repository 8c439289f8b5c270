"""The console's noticeboard in Debian's Chromium: a grid worker publishes a notice and an
event, starts a roll-call and watches the homes that have not answered."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.conftest import ELDER, GRID_WORKER, Served
from tests.console.test_console_page import enter_code_on_page


async def test_a_grid_worker_publishes_and_runs_a_roll_call_from_the_console(served: Served, browser: Browser) -> None:
    page = await browser.new_page()
    await enter_code_on_page(page, served, GRID_WORKER)
    board = page.locator("#board")
    await expect(board).to_be_visible()
    await expect(page.locator("#notice-list")).to_contain_text("周六停水通知")  # the demo's

    await page.select_option("#notice-kind", "POLICY")
    await page.fill("#notice-title", "冬季取暖补贴")
    await page.fill("#notice-plain", "70岁以上老人每月有取暖补贴。")
    await page.fill("#notice-body", "12月到2月，70岁以上老人每月可领取暖补贴50元，到服务中心登记。")
    await page.fill("#notice-min-age", "70")
    await page.click("#publish")
    await expect(page.locator("#message")).to_have_text("已发布，电视频道会在几秒内更新。")
    await expect(page.locator("#notice-list")).to_contain_text("惠民政策 · 冬季取暖补贴")
    seen = await served.op("app/Announcements", {}, await served.sign_in(ELDER))
    assert "冬季取暖补贴" in [a["title"] for a in seen["data"]["announcements"]]

    # A plain form left empty is refused by the browser; a wrong one by the server, in words.
    await page.fill("#event-title", "包饺子")
    await page.fill("#event-plain", "一起包饺子。")
    await page.fill("#event-place", "社区食堂")
    await page.fill("#event-starts", "2020-01-01T10:00")
    await page.click("#create-event")
    await expect(page.locator("#message")).to_contain_text("填写的内容有误")

    await page.fill("#roll-call-reason", "寒潮过后报平安")
    await page.click("#start-roll-call")
    await expect(page.locator("#message")).to_contain_text("已发起报平安")
    roll_call = page.locator("#roll-call-list .roll-call")
    await expect(roll_call).to_contain_text("寒潮过后报平安 · 已回应 0/")
    await expect(roll_call).to_contain_text("黎文华")
    call_id = await roll_call.get_attribute("data-id")
    answered = await served.op("app/AnswerRollCall", {"rollCallId": call_id}, await served.sign_in(ELDER))
    assert answered["data"]["answerRollCall"]["answered"] is True
    await page.select_option("#board-community", await page.locator("#board-community").input_value())
    await expect(roll_call).to_contain_text("已回应 1/")
    await expect(roll_call).not_to_contain_text("黎文华")
