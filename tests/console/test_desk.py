"""The console's consultation desk in Debian's Chromium: the family doctor, who is not
community staff, sees only her desk's queue, is refused the health profile of an elder who
did not consent, and answers; the elder hears the answer."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.conftest import ELDER, Served
from tests.console.test_console_page import enter_code_on_page

DOCTOR = "+8613300000001"  # 何春梅


async def test_the_family_doctor_answers_from_the_console(served: Served, browser: Browser) -> None:
    asked = await served.op(
        "app/AskDesk", {"desk": "DOCTOR", "question": "血压160要去医院吗？"}, await served.sign_in(ELDER)
    )
    thread_id = asked["data"]["askDesk"]["id"]
    page = await browser.new_page()
    await enter_code_on_page(page, served, DOCTOR)
    desk = page.locator("#desk")
    await expect(desk).to_be_visible()
    card = page.locator(f'#desk-list .thread[data-id="{thread_id}"]')
    await expect(card).to_contain_text("家庭医生 · 黎文华 · App")
    await expect(card).to_contain_text("血压160要去医院吗？")
    await expect(card).to_contain_text("负责人：何春梅")
    await expect(card.locator(".clock")).to_contain_text("前回复")
    # She is not community staff: no alarms, no call-back list, and still signed in.
    await expect(page.locator("#alarms")).to_be_hidden()
    await expect(page.locator("#sign-out")).to_be_visible()

    await card.locator('button[name="health"]').click()
    await expect(card).to_contain_text("长辈本人还没有同意登记健康信息")

    await card.locator("textarea").fill("先休息半小时再量一次，还是160以上就来卫生站。")
    await card.locator('button[name="reply"]').click()
    await expect(page.locator("#message")).to_have_text("已回复黎文华，对方会收到通知。")
    await expect(card.locator(".clock")).to_have_text("已回复，等居民回应")
    mine = await served.op("app/Consultation", {"id": thread_id}, await served.sign_in(ELDER))
    assert mine["data"]["consultation"]["messages"][-1]["text"] == "先休息半小时再量一次，还是160以上就来卫生站。"
