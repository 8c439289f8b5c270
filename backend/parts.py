"""The process's parts as background work is handed them, and how a session carries them.

The composition root (`backend/runtime.py`) builds the parts once. Event consumers and job
handlers receive them as an argument. The session factory it builds puts them in every
session's `info` (`db.carried_by`), so what runs when a transaction commits (handing event
ids to the transport, publishing live messages, waking job runners) reaches the parts of the
process that opened the session: nothing looks the running process up in a global.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.alarm_pressure import AlarmPressure
from backend.config import Settings

if TYPE_CHECKING:  # ground types only: nothing here names a domain's (that would be an import circle)
    from backend.content.catalog import Catalog
    from backend.content.read_aloud import ReadAloud
    from backend.events import Transport
    from backend.gateways.payments import PaymentGateway
    from backend.gateways.sms import SmsSender
    from backend.live import LiveFanout
    from backend.personal import Plan
    from backend.tokens import Tokens
    from speech.tts import Synthesizer


# The parts a domain builds are described here by their shape alone; the domain that owns
# one names its types where it uses the answers (`pressed: service.Pressed = await ...`).


class AlarmDesk(Protocol):
    """emergency.desk.AlarmDesk: every front door's presses, stored in groups."""

    pressure: AlarmPressure

    async def press(self, press: Any, /) -> Any: ...

    async def press_signed(self, press: Any, /) -> Any: ...


class Knowledge(Protocol):
    """consultation.knowledge.KnowledgeBase: the community's questions and answers."""

    async def search(self, text: str, locale: str, *, k: int = 3) -> list[Any]: ...

    def articles(self, locale: str) -> Sequence[Any]: ...

    async def by_topic(self, locale: str, topic: str) -> list[Any]: ...


class DeliveryPath(Protocol):
    """notify.paths.Path: one way a message reaches a person (push, SMS, a call, the TV)."""

    name: str
    health: Any

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Any, Any]], /) -> list[Any]: ...


@dataclass(frozen=True)
class Screen:
    """One entry of the home as its room shows it, in the person's words: its lines, or what
    to say when there are none. Every door renders it its own way (a list on the TV, sentences
    on the line, a speaker's reply); none composes the words."""

    lines: tuple[str, ...]
    empty: str

    @property
    def said(self) -> tuple[str, ...]:
        return self.lines or (self.empty,)


class Reader(Protocol):
    """A room's screen for one home entry (the registry's `Domain.screens`), for a signed-in
    person (`access.subject.Actor`) in her language."""

    def __call__(self, session: AsyncSession, parts: Parts, actor: Any, locale: str, /) -> Awaitable[Screen]: ...


class Parts(Protocol):
    settings: Settings
    catalog: Catalog
    tokens: Tokens
    factory: async_sessionmaker[AsyncSession]
    read_aloud: ReadAloud
    synthesizer: Synthesizer  # pyttsx3/espeak-ng in worker processes: read-aloud, the line, the channel
    live: LiveFanout
    paths: dict[str, DeliveryPath]  # delivery paths by name, each built with its sender
    sms: SmsSender  # sign-in codes go straight out, not as stored notices
    payments: PaymentGateway | None  # online top-ups
    transport: Transport | None
    personal: Plan  # every domain's personal data and its steps when an account is deleted
    screens: Mapping[str, Reader]  # each home entry's screen, by the entry's key, from its room

    # Read-only, so the process may hold the domain's own type of each (a subtype of its shape).
    @property
    def alarm_desk(self) -> AlarmDesk:  # every front door's presses, stored in groups
        ...

    @property
    def knowledge(self) -> Knowledge:  # the community's questions and answers, searched in Chinese
        ...

    def wake_jobs(self, run_at: dt.datetime) -> None:
        """A job was scheduled for `run_at`: runners may want to look now."""
