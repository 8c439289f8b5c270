"""The console's care round in Debian's Chromium: a grid worker sees the open check-in alert
and the visit plan with who is at risk, records a visit in one tap, and the alert stops."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.conftest import ELDER, FAMILY, GRID_WORKER, Database, Served, run_due_jobs
from tests.console.test_console_page import enter_code_on_page


async def test_a_grid_worker_sees_who_to_visit_and_records_it_in_one_tap(
    served: Served, db: Database, browser: Browser
) -> None:
    # 黎文华 missed her check-in window: the alert is open.
    await served.op("app/SetCheckInPlan", {"active": True, "byTime": "10:00"}, await served.sign_in(ELDER))
    await run_due_jobs(served, db, ("wellbeing.window",))

    page = await browser.new_page()
    await enter_code_on_page(page, served, GRID_WORKER)
    care = page.locator("#care")
    await expect(care).to_be_visible()
    alert = page.locator("#care-alerts .care-alert").first
    await expect(alert).to_contain_text("黎文华 · 没有按时报平安")
    hers = page.locator("#care-list .visit-due").filter(has_text="黎文华").first
    await expect(hers).to_contain_text("【独居、80岁以上、近期有平安报提醒】")
    await expect(hers).to_contain_text("还没有巡访过，今天到期")

    await hers.locator('input[name="note"]').fill("在家做饭，精神好")
    await hers.locator('input[name="followUp"]').fill("帮她约体检")
    await hers.locator('button[name="visit-well"]').click()
    await expect(page.locator("#message")).to_have_text("已记下黎文华的巡访。")
    await expect(page.locator("#care-alerts")).to_contain_text("没有待跟进的平安报。")
    # The plan shows what was seen; only the due are listed, so show all.
    await page.locator("#care-due-only").uncheck()
    hers = page.locator("#care-list .visit-due").filter(has_text="黎文华").first
    await expect(hers).to_contain_text("下次：")
    await expect(hers).to_contain_text("上门，很好（赵晓燕）在家做饭，精神好")
    await expect(hers).to_contain_text("待跟进")
    await hers.locator('button[name="follow-up-done"]').click()
    await expect(hers).not_to_contain_text("待跟进")

    # Seeing her was her check-in: her family's daily line says so.
    elder_id = (await served.op("app/Me", {}, await served.sign_in(ELDER)))["data"]["me"]["id"]
    today = await served.op("app/WellbeingToday", {"personId": elder_id}, await served.sign_in(FAMILY))
    assert today["data"]["wellbeingToday"]["line"].endswith("报平安（赵晓燕看到了，说很好）")
