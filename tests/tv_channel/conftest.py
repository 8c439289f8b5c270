"""Debian's Chromium for the tests here."""

from tests.browser import browser  # noqa: F401 (the fixture, shared)
