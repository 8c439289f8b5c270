"""Calling out through the community's own exchange: the `voice` delivery path for people
whose phone is a landline. Linli registers the call it is about to make (with the words it
will say), asks Asterisk to ring the number (AMI Originate), and the answered call comes
back over AudioSocket into the line's dialog with the message first: "确认请按1"."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.gateways.ami import AmiOriginator, OriginateRefused
from backend.gateways.calls import CallRefused
from backend.gateways.sms import Sms
from backend.phone import service
from backend.phone.models import Direction

REF_PREFIX = "line-call:"


class LineCaller:
    """A `gateways.calls.Caller` through the line itself: it can say any message, not only
    approved templates, so it carries everyday messages as well as alarms."""

    name = "asterisk"
    every_message = True

    def __init__(self, originator: AmiOriginator) -> None:
        self.originator = originator
        # A round's calls go out together, but one session takes one statement at a time.
        self._registering = asyncio.Lock()

    async def call(self, phone: str, message: Sms, out_id: str, *, spoken: str, session: AsyncSession) -> str:
        """Registered in the delivery's transaction (the line waits a moment for it to commit
        when the answered call arrives first)."""
        call_id = str(uuid.uuid4())
        ref = REF_PREFIX + call_id
        async with self._registering:
            await service.register(
                session,
                call_ref=call_id,
                bridge="audiosocket",
                caller=phone,
                called=None,
                direction=Direction.OUT,
                message_ref=ref,
                message={"text": spoken, "out_id": out_id},
            )
        try:
            await self.originator.originate(phone, call_id)
        except OriginateRefused as exc:
            raise CallRefused(f"asterisk: {exc}") from exc
        return ref
