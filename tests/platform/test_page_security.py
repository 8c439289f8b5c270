"""The pages that hold a token (the TV portal keeps a box's year-long token, the approval page and
the staff console a sign-in) run only the house's script files: in Debian's Chromium their own
scripts work under the policy, and a script injected inline is blocked."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser import browser  # noqa: F401 (the fixture, shared)
from tests.conftest import Served

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

PAGES = {
    "/console": ("#send-code", re.compile(r".+")),
    "/app/tv": ("#send-code", re.compile(r".+")),
    "/tv/portal?serial=BOX-CSP-1": ("#user-code", re.compile(r"^\d{4} \d{4}$")),
}


async def test_token_pages_send_a_policy_without_inline_script(served: Served) -> None:
    for path in PAGES:
        response = await served.client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", (path, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    for script in ("/console/console.js", "/tv/portal/static/portal.js"):
        assert (await served.client.get(script)).headers["x-content-type-options"] == "nosniff"


async def test_the_pages_own_scripts_run_under_the_policy_and_an_injected_one_does_not(
    served: Served,
    browser: Browser,  # noqa: F811
) -> None:
    for path, (selector, shows) in PAGES.items():
        page = await browser.new_page()
        violations: list[str] = []
        page.on("console", lambda m, v=violations: v.append(m.text) if "Content Security Policy" in m.text else None)
        await page.goto(f"{served.base}{path}")
        await expect(page.locator(selector)).to_have_text(shows)  # the page's own script drew it
        assert violations == [], (path, violations)
        # A script slipped into the page (a stored text rendered as markup, say) does not run.
        ran = await page.evaluate(
            """() => new Promise(done => {
                 document.addEventListener('securitypolicyviolation', () => done(window.injected === true));
                 const s = document.createElement('script'); s.textContent = 'window.injected = true';
                 document.body.appendChild(s);
               })"""
        )
        assert ran is False, path
        await page.close()
