"""/console: the grid workers' page for open alarms, the phone line's call-back requests, the
noticeboard, the consultation desk and the care round (visits and open check-in alerts).

One plain HTML page with a small script, no build step: it signs in with a phone code,
lists open alarms (unanswered first), follows them live over the same GraphQL subscription
the apps use, and sounds while something is unacknowledged. It sends only trusted
documents from graphql/operations, so it works in production unchanged; its words come
from content/ like every other text.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.content.catalog import Catalog
from backend.page_security import STATIC, page_headers

HERE = Path(__file__).resolve().parent
# app/ documents for signing in, staff/ ones for the alarms.
DOCUMENTS = (
    "app/RequestLoginCode",
    "app/SignIn",
    "staff/ConsoleAlarms",
    "staff/EmergencyUpdates",
    "staff/AcknowledgeEmergency",
    "staff/MarkEmergencyEnRoute",
    "staff/MarkEmergencyArrived",
    "staff/ResolveEmergency",
    "staff/CallbackRequests",
    "staff/MarkCallbackDone",
    "staff/EmergencyBandLocation",
    # The noticeboard section (board.js).
    "app/Me",
    "app/CommunityContacts",
    "staff/StaffAnnouncements",
    "staff/PublishAnnouncement",
    "staff/WithdrawAnnouncement",
    "staff/CreateCommunityEvent",
    "staff/SetCommunityContacts",
    "staff/StartRollCall",
    "staff/OpenRollCalls",
    # The consultation desk (desk.js).
    "staff/MyDesks",
    "staff/DeskQueue",
    "staff/AssignConsultation",
    "staff/ConsultationHealthProfile",
    "app/ReplyToConsultation",
    "app/CloseConsultation",
    # The care round (care.js).
    "staff/MissedCheckIns",
    "staff/VisitPlan",
    "staff/RecordVisit",
    "staff/MarkFollowUpDone",
)


def router(catalog: Catalog, operations_dir: Path, locale: str = "zh-CN") -> APIRouter:
    documents = {name.split("/")[1]: (operations_dir / f"{name}.graphql").read_text("utf-8") for name in DOCUMENTS}
    config = json.dumps({"texts": catalog.section(locale, "console"), "documents": documents}, ensure_ascii=False)
    # The JSON data block's "<" escaped: no text can end the block early or open a comment.
    html = (
        (HERE / "console.html")
        .read_text("utf-8")
        .replace("__CONFIG__", config.replace("<", "\\u003c"))
        .replace("__TITLE__", catalog.text(locale, "console.title"))
    )
    scripts = {name: (HERE / name).read_text("utf-8") for name in ("console.js", "board.js", "desk.js", "care.js")}
    headers = page_headers(html)
    api = APIRouter()

    @api.get("/console", include_in_schema=False)
    async def console() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    @api.get("/console/{name}", include_in_schema=False)
    async def console_script(name: str) -> Response:
        if name not in scripts:
            return Response(status_code=404)
        return Response(scripts[name], media_type="text/javascript", headers={"Cache-Control": "no-cache", **STATIC})

    return api
