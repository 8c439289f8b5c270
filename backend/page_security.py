"""Headers for the pages that hold a token (the TV portal keeps a box's year-long token, the
approval page and the staff console a person's sign-in): a Content-Security-Policy that runs
only the house's own script files (no inline script: a page's settings travel as a JSON data
block, which is never run), styles from the house or the page's own <style> by its hash, no
framing by anyone, nothing sniffed, no referrer sent on."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*(?:\bsrc=|type=\"application/json\"))[^>]*>", re.I)

STATIC = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def page_headers(html: str, *, media_from: Iterable[str] = (), cache: str = "no-store") -> dict[str, str]:
    """The headers of one page. `media_from`: other origins its read-aloud audio comes from (the
    public base URL, when the page is reached by another name)."""
    if _INLINE_SCRIPT.search(html):
        raise ValueError("a page with a token runs no inline script")
    styles = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in _STYLE.findall(html)
    )
    media = " ".join(sorted({o for o in media_from if o}))
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' {styles}".strip(),
            "img-src 'self' data:",
            f"media-src 'self' {media}".strip(),
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "Cache-Control": cache,
        **STATIC,
    }
