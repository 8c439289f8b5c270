"""The process's parts as background work is handed them, and how a session carries them.

The composition root (`backend/runtime.py`) builds the parts once. Event consumers and job
handlers receive them as an argument. The session factory it builds puts them in every
session's `info`, so what runs when a transaction commits (handing event ids to the
transport, publishing live messages, waking job runners) reaches the parts of the process
that opened the session: nothing looks the running process up in a global.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from backend.config import Settings

if TYPE_CHECKING:  # types only: the parts are built above the domains that use them
    from backend.consultation.knowledge import KnowledgeBase
    from backend.content.catalog import Catalog
    from backend.content.read_aloud import ReadAloud
    from backend.emergency.desk import AlarmDesk
    from backend.events import Transport
    from backend.gateways.payments import PaymentGateway
    from backend.gateways.sms import SmsSender
    from backend.live import LiveFanout
    from backend.notify.paths import Path
    from backend.personal import Plan
    from backend.tokens import Tokens
    from speech.tts import Synthesizer

KEY = "linli.parts"


class Parts(Protocol):
    settings: Settings
    catalog: Catalog
    tokens: Tokens
    factory: async_sessionmaker[AsyncSession]
    alarm_desk: AlarmDesk  # every front door's presses, stored in groups
    read_aloud: ReadAloud
    knowledge: KnowledgeBase  # the community's questions and answers, searched in Chinese
    synthesizer: Synthesizer  # pyttsx3/espeak-ng in worker processes: read-aloud, the line, the channel
    live: LiveFanout
    paths: dict[str, Path]  # delivery paths by name, each built with its sender
    sms: SmsSender  # sign-in codes go straight out, not as stored notices
    payments: PaymentGateway | None  # online top-ups
    transport: Transport | None
    personal: Plan  # every domain's personal data and its steps when an account is deleted

    def wake_jobs(self, run_at: dt.datetime) -> None:
        """A job was scheduled for `run_at`: runners may want to look now."""


def carried_by(session: AsyncSession | Session) -> Any:
    """The parts the session's factory was built with (None: a bare session, a script)."""
    return session.info.get(KEY)
