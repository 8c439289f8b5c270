"""The phone room's personal data (backend.personal): calls on the line and call-backs."""

from __future__ import annotations

from sqlalchemy import select

from backend.community.models import Person
from backend.personal import Declared, Erase, Held
from backend.phone.models import CallbackRequest, PhoneCall, PhoneCallEvent

DATA: tuple[Declared, ...] = (
    Held(
        PhoneCall,
        "phone_calls",
        why="her calls on the community's line: when, how they ended (the number only while the call lasts)",
        about=("person_id",),
        words=("caller", "caller_masked", "message"),
        erase=Erase.BLANK,
        blank={"caller": None, "caller_masked": "****", "message": None},
        kept="kept for the line's staff without her number: a call happened",
    ),
    Held(
        PhoneCallEvent,
        "phone_call_turns",
        why="each turn of her calls: what the line heard and answered (staff read it to mend the line)",
        rows=lambda pid: PhoneCallEvent.call_id.in_(select(PhoneCall.id).where(PhoneCall.person_id == pid)),
        words=("detail",),
    ),
    Held(
        CallbackRequest,
        "callback_requests",
        why="her requests to be rung back, and the number to ring",
        about=("person_id",),
        rows=lambda pid: CallbackRequest.phone.in_(select(Person.phone).where(Person.id == pid)),
        acting=("done_by_id",),
        words=("phone",),
        public=("reason",),
        erase=Erase.BLANK,
        blank={"phone": ""},
        kept="closed when her account is deleted; kept for the centre's record without her number",
        notice_key="callbackId",
    ),
)
