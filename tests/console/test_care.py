"""The console's care round in Debian's Chromium: a grid worker sees the open check-in alert
and the visit plan with who is at risk, records a visit in one tap, and the alert stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from backend.community.models import Membership, Person, Role
from backend.db import transaction
from tests.conftest import ELDER, FAMILY, GRID_WORKER, Database, Served, make_settings, run_due_jobs, serve
from tests.console.test_console_page import enter_code_on_page
from tests.emergency.test_sos_webhook import SECRET, post


@pytest.fixture(autouse=True)
def nine_in_the_morning(local_clock: Any) -> None:
    """Before the 10:00 window, so the missed window is today's whatever the real hour."""
    local_clock("09:00")


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


async def test_a_fall_shows_where_the_band_was_when_asked_and_only_with_her_consent(
    tmp_path: Path, db: Database, people: dict[str, int], browser: Browser
) -> None:
    async with serve(make_settings(tmp_path, db.url, sos_vendor_secrets={"demo-band": SECRET})) as served:
        await served.op("app/GiveHealthConsent", {"scope": "LOCATION"}, await served.sign_in(ELDER))
        where = {"lat": 39.6309, "lon": 118.1802, "accuracy_m": 15}
        fall = await post(served, {"device_id": "BAND-0001", "event_id": "f-9", "kind": "fall", "location": where})
        page = await browser.new_page()
        await enter_code_on_page(page, served, GRID_WORKER)
        card = page.locator(f'#alarms .alarm[data-id="{fall.json()["alert_id"]}"]')
        await expect(card).to_contain_text("手环：疑似跌倒")
        await expect(card).not_to_contain_text("纬度")  # asked for, not shown to whoever looks
        await card.locator('button[name="location"]').click()
        await expect(card).to_contain_text("纬度39.63090，经度118.18020（误差约15米）")


async def test_a_long_plan_comes_fifty_at_a_time(
    served: Served, db: Database, people: dict[str, int], browser: Browser
) -> None:
    # 50 more elders in her block (her grids have 10): 60 due, two pages.
    async with transaction(db.factory) as session:
        elder = await session.get(Person, people[ELDER])
        assert elder is not None
        for n in range(50):
            newcomer = Person(
                phone=f"+86138010000{n:02d}", name=f"新住户{n:02d}", household_id=elder.household_id, elder_flag=True
            )
            session.add(newcomer)
            await session.flush()
            session.add(Membership(person_id=newcomer.id, community_id=1, role=Role.RESIDENT))
    page = await browser.new_page()
    await enter_code_on_page(page, served, GRID_WORKER)
    plan = page.locator("#care-list")
    await expect(plan.locator(".count")).to_have_text("共60位，其中逾期0位。")
    await expect(plan.locator(".visit-due")).to_have_count(50)
    await plan.locator('button[name="more"]').click()
    await expect(plan.locator(".visit-due")).to_have_count(60)
    await expect(plan.locator('button[name="more"]')).to_have_count(0)
    names = await plan.locator(".visit-due h4").all_inner_texts()
    assert len({n.split(" ")[0] for n in names}) == 60  # nobody twice, nobody missed
