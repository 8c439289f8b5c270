"""Voice notification calls through Alibaba Cloud's voice service (dyvmsapi 2017-05-25,
`IvrCall`) and its async SDK: the phone rings, a TTS template speaks the alarm and asks to
press 1 (content/locales `calls.alarm`); the key pressed comes back in the provider's call report (HTTP push to
`/callbacks/aliyun/voice/<token>`), which confirms the notification like a tap in the app.

Like SMS, a call speaks only a template approved at the provider (content/calls/templates.json,
the words in `calls.<template>` per locale), with short variables.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

from alibabacloud_dyvmsapi20170525 import models as vms_models
from alibabacloud_dyvmsapi20170525.client import Client as VmsClient
from darabonba.runtime import RuntimeOptions
from sqlalchemy.ext.asyncio import AsyncSession

from backend.gateways.sms import Sms, Templates, aliyun_config
from backend.phones import mask_phone

log = logging.getLogger(__name__)

CONFIRM_KEY = "1"


class CallRefused(Exception):
    """The provider did not place the call."""


class Caller(Protocol):
    name: str  # which provider, for the path's health report
    # Whether it can say any message (the community's own line) or only approved alarm
    # templates (a provider's voice notification): only the first carries everyday messages.
    every_message: bool

    async def call(self, phone: str, message: Sms, out_id: str, *, spoken: str, session: AsyncSession) -> str:
        """Place the call; the provider's reference of it ("aliyun-call:<CallId>"), which its
        call report names. `out_id` comes back in the report too. `message` is the approved
        template; `spoken` the messages in plain words, for a line that may say them; `session`
        the delivery's own (what a caller records commits with the attempt)."""
        ...


class AliyunVoiceCalls:
    name = "aliyun"
    every_message = False

    def __init__(
        self,
        templates: Templates,
        *,
        access_key_id: str,
        access_key_secret: str,
        show_number: str,
        endpoint: str,
        timeout_s: float,
        key_wait_s: float = 15.0,
    ) -> None:
        ms = int(timeout_s * 1000)
        self.client = VmsClient(aliyun_config(access_key_id, access_key_secret, endpoint, timeout_s))
        # No retry inside the SDK: an unanswered alarm is repeated by its escalation.
        self.runtime = RuntimeOptions(connect_timeout=ms, read_timeout=ms, autoretry=False)
        self.templates = templates
        self.show_number = show_number
        self.key_wait_ms = int(key_wait_s * 1000)

    async def call(
        self, phone: str, message: Sms, out_id: str, *, spoken: str = "", session: AsyncSession | None = None
    ) -> str:
        rendered = self.templates.render(message)
        confirmed = Sms("confirmed", {}, message.locale)
        request = vms_models.IvrCallRequest(
            called_number=phone.removeprefix("+86"),
            called_show_number=self.show_number,
            start_code=self.templates.code(self.name, message),
            start_tts_params=json.dumps(rendered.params, ensure_ascii=False),
            menu_key_map=[
                vms_models.IvrCallRequestMenuKeyMap(key=CONFIRM_KEY, code=self.templates.code(self.name, confirmed))
            ],
            play_times=3,
            timeout=self.key_wait_ms,
            out_id=out_id[:15],
        )
        try:
            answer = await self.client.ivr_call_with_options_async(request, self.runtime)
        except Exception as exc:  # the SDK raises its own errors for HTTP failures and timeouts
            raise CallRefused(f"aliyun: {type(exc).__name__}") from exc
        body = answer.body
        if body is None or body.code != "OK" or not body.call_id:
            raise CallRefused(f"aliyun: {body.code if body is not None else None}")
        log.info("voice call to %s (%s)", mask_phone(phone), message.template)
        return f"aliyun-call:{body.call_id}"
