"""The portal's page and files, the pairing screen's QR code and words, and the page a family
member opens to approve a TV (the RFC 8628 `verification_uri`, `/app/tv`)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from pathlib import Path

import segno
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from backend.page_security import STATIC, origin, page_headers
from backend.parts import Parts

HERE = Path(__file__).resolve().parent / "static"
LOCALES = ("zh-CN", "yue", "ko")
# The approval page signs in by SMS code, lists the elders whose settings the person manages
# and binds the TV: the app's own trusted documents.
VERIFY_DOCUMENTS = ("app/RequestLoginCode", "app/SignIn", "app/Me", "app/FamilyLinks", "app/ApproveTvDevice")
_CODE = re.compile(r"^[0-9]{4} ?[0-9]{4}$")


def _inline(config: Mapping[str, object]) -> str:
    # The JSON data block's "<" escaped: no text can end the block early or open a comment.
    return json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")


def verification_url(parts: Parts, code: str | None = None) -> str:
    base = f"{parts.settings.public_base_url.rstrip('/')}/app/tv"
    return f"{base}?code={code.replace(' ', '')}" if code else base


def _portal_pages(parts: Parts) -> dict[str, str]:
    """The portal's page in each language, its texts inlined."""
    catalog = parts.catalog

    def page(locale: str) -> str:
        config = {"lang": locale, "texts": catalog.section(locale, "tv.portal")}
        return (
            (HERE / "portal.html")
            .read_text("utf-8")
            .replace("__CONFIG__", _inline(config))
            .replace("__TITLE__", catalog.text(locale, "tv.portal.title"))
            .replace("__LANG__", locale)
        )

    return {locale: page(locale) for locale in LOCALES}


def _verify_page(parts: Parts) -> str:
    """The family's approval page, with the GraphQL documents it sends."""
    documents = {
        name.split("/")[1]: (parts.settings.operations_dir / f"{name}.graphql").read_text("utf-8")
        for name in VERIFY_DOCUMENTS
    }
    config = {"texts": parts.catalog.section("zh-CN", "tv.verify"), "documents": documents}
    return (
        (HERE / "verify.html")
        .read_text("utf-8")
        .replace("__CONFIG__", _inline(config))
        .replace("__TITLE__", parts.catalog.text("zh-CN", "tv.verify.title"))
    )


def router(parts: Parts) -> APIRouter:
    catalog = parts.catalog
    api = APIRouter(include_in_schema=False)
    files = {name: (HERE / name).read_text("utf-8") for name in ("portal.js", "portal.css", "verify.js")}
    types = {".js": "text/javascript", ".css": "text/css"}
    pages, verify = _portal_pages(parts), _verify_page(parts)
    media = [origin(parts.settings.public_base_url)]
    portal_headers = page_headers(pages["zh-CN"], media_from=media, cache="no-cache")
    verify_headers = page_headers(verify, media_from=media)

    @api.get("/tv/portal")
    async def portal(lang: str = "zh-CN") -> HTMLResponse:
        """`lang`: the box's language before it is paired (then the elder's)."""
        return HTMLResponse(pages.get(lang, pages["zh-CN"]), headers=portal_headers)

    @api.get("/tv/portal/static/{name}")
    async def static(name: str) -> Response:
        if name not in files:
            return Response(status_code=404)
        return Response(
            files[name], media_type=types[Path(name).suffix], headers={"Cache-Control": "max-age=300", **STATIC}
        )

    @api.get("/tv/portal/pairing/words")
    async def pairing(code: str, lang: str = "zh-CN") -> JSONResponse:
        """The pairing screen's QR code (the approval page with the code filled in) and the
        code read aloud digit by digit."""
        if not _CODE.match(code):
            return JSONResponse({"code": "INVALID_INPUT"}, status_code=400)
        locale = lang if lang in LOCALES else "zh-CN"
        digits = " ".join(ch for ch in code if ch.isdigit())
        text = catalog.text(locale, "tv.portal.pairing.say", digits=digits)
        return JSONResponse(
            {
                "qr": f"/tv/portal/pairing/qr.svg?code={code.replace(' ', '')}",
                "readAloudUrl": parts.read_aloud.url(text, locale=locale, slow=True, shared=True),
            }
        )

    @api.get("/tv/portal/pairing/qr.svg")
    async def qr(code: str) -> Response:
        if not _CODE.match(code):
            return Response(status_code=400)
        out = io.BytesIO()
        segno.make(verification_url(parts, code), error="m").save(out, kind="svg", scale=8, border=2)
        return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "max-age=600"})

    @api.get("/app/tv")
    async def approve() -> HTMLResponse:
        return HTMLResponse(verify, headers=verify_headers)

    return api
