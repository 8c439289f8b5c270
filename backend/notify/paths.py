"""The paths a message can take to a person, behind one interface.

push (FCM) and sms are here; the TV channel and the voice line plug in with `register_path`
when those parts run. A path says what happened: `sent` (handed over, awaiting the device's
confirmation), `delivered` (handed over to something that cannot confirm, such as an SMS
gateway), `failed` or `unavailable` (the person has no way in on this path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend import runtime
from backend.community.models import Person
from backend.notify import devices
from backend.notify.models import Notification, Urgency
from backend.notify.push import PushMessage


@dataclass(frozen=True)
class Attempt:
    result: str  # sent | delivered | failed | unavailable
    detail: str | None = None


class Path(Protocol):
    name: str

    async def deliver(self, session: AsyncSession, person: Person, n: Notification) -> Attempt: ...


def payload_data(n: Notification) -> dict[str, str]:
    # The app confirms receipt with this id (confirmNotification), which stops the fallback.
    return {**n.data, "notificationId": str(n.id)}


class PushPath:
    name = "push"

    async def deliver(self, session: AsyncSession, person: Person, n: Notification) -> Attempt:
        channel = runtime.current().push
        if channel is None:
            return Attempt("unavailable", "push not configured")
        tokens = (await devices.tokens_of(session, [person.id])).get(person.id, [])
        if not tokens:
            return Attempt("unavailable", "no app")
        emergency = n.urgency == Urgency.EMERGENCY
        # The ladder is the retry: a refused push hands over to the next path at once rather than
        # waiting out FCM's backoff (and, here, inside the caller's transaction).
        results = await channel.send(
            [
                PushMessage(token=t, title=n.title, body=n.body, data=payload_data(n), emergency=emergency)
                for t in tokens
            ],
            max_retries=0 if emergency else 1,
        )
        await devices.prune(session, [r.token for r in results if r.unregistered])
        if any(r.delivered for r in results):
            return Attempt("sent", f"{sum(r.delivered for r in results)}/{len(results)} phones")
        return Attempt("failed", ",".join(sorted({r.error or "?" for r in results})))


class SmsPath:
    name = "sms"

    async def deliver(self, session: AsyncSession, person: Person, n: Notification) -> Attempt:
        try:
            await runtime.current().sms.send(person.phone, n.body)
        except Exception as exc:  # a gateway error is a failed attempt, then the next path
            return Attempt("failed", type(exc).__name__)
        return Attempt("delivered", "gateway accepted")


_paths: dict[str, Path] = {"push": PushPath(), "sms": SmsPath()}


def register_path(path: Path) -> None:
    """The TV channel and the voice line add themselves here."""
    _paths[path.name] = path


def get_path(name: str) -> Path | None:
    return _paths.get(name)
