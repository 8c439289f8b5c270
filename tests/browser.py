"""Debian's headless Chromium, driven by Playwright (never a downloaded browser): the staff
console and the TV portal are tested in it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
# Chromium on this machine runs as root without a GPU or a network beyond localhost.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    # Never skipped: ./dev test installs Debian's chromium, so its absence is a failure.
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing (./dev test installs Debian's chromium)")
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            headless=True,
        )
        yield b
        await b.close()
