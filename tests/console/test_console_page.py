"""The staff console in a real browser: Debian's headless Chromium driven by Playwright,
against the app served by uvicorn (HTTP and WebSocket) on a local port."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlalchemy import update

from backend.db import utcnow
from backend.emergency.models import Alert
from tests.conftest import ELDER, GRID_WORKER, Database, Served


async def enter_code_on_page(page: Page, served: Served, phone: str) -> None:
    await page.goto(f"{served.base}/console")
    await expect(page.locator("h1")).to_have_text("邻里 · 紧急呼叫值班台")
    await page.fill("#phone", phone)
    await page.click("#send-code")
    await expect(page.locator("#message")).to_contain_text("验证码已发送")
    await page.fill("#code", await served.login_code(phone))
    await page.click("#sign-in-button")


async def test_an_alarm_appears_live_sounds_until_acknowledged_and_a_click_acknowledges_it(
    served: Served, browser: Browser
) -> None:
    elder = await served.sign_in(ELDER)
    await served.op("app/GiveHealthConsent", {}, elder)
    await served.op("app/UpdateEmergencyProfile", {"notes": "独居，备用钥匙在302", "allergies": "青霉素"}, elder)
    page = await browser.new_page()
    await enter_code_on_page(page, served, GRID_WORKER)
    await expect(page.locator("#connection")).to_have_text("实时连接")
    await expect(page.locator("#alarms")).to_contain_text("目前没有未处理的紧急呼叫")
    await expect(page.locator("body")).not_to_have_attribute("data-sounding", "yes")

    raised = await served.op("app/TriggerEmergency", {}, elder)
    alert_id = raised["data"]["triggerEmergency"]["emergency"]["id"]
    alarm = page.locator(f".alarm[data-id='{alert_id}']")
    # No reload: the subscription brings it.
    await expect(alarm).to_have_attribute("data-status", "OPEN")
    await expect(alarm).to_contain_text("等待确认")
    await expect(alarm).to_contain_text("幸福街道幸福社区1号楼")
    await expect(alarm).to_contain_text("独居，备用钥匙在302")
    await expect(alarm).to_contain_text("青霉素")
    await expect(alarm).to_contain_text("+8613900000001")  # the son's phone, to call
    await expect(page.locator("body")).to_have_attribute("data-sounding", "yes")
    await expect(page.locator("#banner")).to_have_text("有 1 个紧急呼叫无人确认！")

    await alarm.locator("button[name=acknowledge]").click()
    await expect(alarm).to_have_attribute("data-status", "ACKNOWLEDGED")
    await expect(page.locator("body")).to_have_attribute("data-sounding", "no")
    worker = await page.evaluate("sessionStorage.getItem('linli.console.token')")
    seen = await served.op("app/Emergency", {"id": alert_id}, worker)
    assert seen["data"]["emergency"]["status"] == "ACKNOWLEDGED"
    assert seen["data"]["emergency"]["acknowledgedAt"] is not None

    await alarm.locator("select[name=outcome]").select_option("HELPED_ON_SITE")
    await alarm.locator("input[name=note]").fill("扶起，无外伤")
    await alarm.locator("button[name=resolve]").click()
    await expect(alarm).to_have_count(0)
    await expect(page.locator("#alarms")).to_contain_text("目前没有未处理的紧急呼叫")


async def test_the_console_is_for_staff_only(served: Served, browser: Browser) -> None:
    page = await browser.new_page()
    await enter_code_on_page(page, served, ELDER)
    await expect(page.locator("#message")).to_have_text("此页面仅供社区工作人员使用。")
    await expect(page.locator("#sign-in")).to_be_visible()


async def test_an_alarm_nobody_answered_says_so_and_a_responder_can_say_she_arrived(
    served: Served, browser: Browser, db: Database
) -> None:
    elder = await served.sign_in(ELDER)
    raised = await served.op("app/TriggerEmergency", {}, elder)
    alert_id = raised["data"]["triggerEmergency"]["emergency"]["id"]
    # Every tier was told and the repeats began (what the escalation jobs do over 5 minutes).
    async with db.factory() as session, session.begin():
        await session.execute(update(Alert).where(Alert.id == int(alert_id)).values(unanswered_at=utcnow(), tier=3))
    page = await browser.new_page()
    await enter_code_on_page(page, served, GRID_WORKER)
    alarm = page.locator(f".alarm[data-id='{alert_id}']")
    await expect(alarm.locator(".unanswered")).to_have_text("无人应答：已通知到最后一级，正在重复通知所有人")

    await alarm.locator("button[name=en-route]").click()
    await expect(alarm).to_have_attribute("data-status", "EN_ROUTE")
    await expect(alarm.locator(".unanswered")).to_have_count(0)
    await alarm.locator("button[name=arrived]").click()
    await expect(alarm).to_have_attribute("data-status", "ARRIVED")
    await expect(alarm).to_contain_text("已到达")
    await expect(alarm.locator("button[name=en-route]")).to_have_count(0)


async def test_call_back_requests_are_listed_an_unknown_callers_call_for_help_sounds_and_done_clears_it(
    served: Served, browser: Browser, db: Database
) -> None:
    from backend.db import transaction
    from backend.phone.models import CallbackFor, CallbackRequest

    async with transaction(db.factory) as session:
        session.add(
            CallbackRequest(
                community_id=1, person_id=None, phone="+8613312345678", asked_of=CallbackFor.CENTRE, reason="alarm"
            )
        )
    page = await browser.new_page()
    await enter_code_on_page(page, served, GRID_WORKER)
    request = page.locator(".callback.alarm")
    await expect(request).to_contain_text("+8613312345678")
    await expect(request).to_contain_text("紧急求助：未登记号码，请马上回电")
    await expect(page.locator("body")).to_have_attribute("data-sounding", "yes")
    await request.locator("button[name=done]").click()
    await expect(request).to_have_count(0)
    await expect(page.locator("#callbacks")).to_contain_text("没有待回的电话")
    await expect(page.locator("body")).to_have_attribute("data-sounding", "no")
