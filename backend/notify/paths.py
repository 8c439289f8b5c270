"""The paths a message can take to a person, behind one interface.

push (FCM) and sms are here, each built with its sender by the composition root
(`build_paths`); the TV channel and the voice line add theirs there. A path says what
happened: `sent` (handed over, awaiting the device's confirmation), `delivered` (handed over
to something that cannot confirm, such as an SMS gateway), `failed` or `unavailable` (the
person has no way in on this path).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend.community.models import Person
from backend.content.catalog import Catalog
from backend.gateways.push import FcmChannel, PushMessage, PushResult
from backend.gateways.sms import NumberCannotReceive, Sms, SmsSender
from backend.notify import devices
from backend.notify.models import Notification, Urgency


@dataclass(frozen=True)
class Attempt:
    result: str  # sent | delivered | failed | unavailable
    detail: str | None = None


class Path(Protocol):
    name: str

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        """One attempt per (person, message), in order. Messages that go out together (a
        burst of alarms) are handed over together."""
        ...


def payload_data(n: Notification) -> dict[str, str]:
    # The app confirms receipt with this id (confirmNotification), which stops the fallback.
    return {**n.data, "notificationId": str(n.id)}


# FCM refuses a message over 4,096 bytes (title, body and data together, in UTF-8: a Chinese
# character is 3). A phone's messages go out in as few pushes as fit.
PUSH_BYTES = 3800  # of 4,096: room left for field names and the platform options
DATA_BUDGET = 2400  # the rest is the title and as much of the bodies as fits


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def bundles(
    ns: Sequence[Notification], locale: str, catalog: Catalog
) -> list[tuple[str, str, dict[str, str], list[int]]]:
    """A phone's messages in a round as few pushes as FCM takes: (title, body, data, indexes
    into `ns`). FCM takes at most a few messages a minute per device: a thousand alarms at
    once would otherwise be throttled, and the phone would ring a thousand times. The data
    carries every message of the push for the app to show and confirm one by one."""
    chunks: list[list[int]] = []
    used = DATA_BUDGET
    for i, n in enumerate(ns):
        size = _size(json.dumps(payload_data(n), ensure_ascii=False, separators=(",", ":"))) + 1
        if used + size > DATA_BUDGET:
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += size
    return [(*bundle([ns[i] for i in chunk], locale, catalog), chunk) for chunk in chunks]


def bundle(ns: Sequence[Notification], locale: str, catalog: Catalog) -> tuple[str, str, dict[str, str]]:
    """Messages for one phone as one push (title, body, data), body cut to what fits."""
    if len(ns) == 1:
        title, body, data = ns[0].title, ns[0].body, payload_data(ns[0])
    else:
        title = catalog.text(locale, "notify.bundle_title", title=ns[0].title, count=len(ns))
        body = "\n".join(n.body for n in ns)
        items = json.dumps([payload_data(n) for n in ns], ensure_ascii=False, separators=(",", ":"))
        data = {"kind": ns[0].kind, "count": str(len(ns)), "items": items}
    room = PUSH_BYTES - _size(title) - sum(_size(k) + _size(v) for k, v in data.items())
    if _size(body) > room:
        body = body.encode("utf-8")[: max(0, room - 3)].decode("utf-8", "ignore") + "…"
    return title, body, data


class PushPath:
    name = "push"

    def __init__(self, channel: FcmChannel | None, catalog: Catalog) -> None:
        self.channel = channel  # None: push is not configured here
        self.catalog = catalog

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        channel = self.channel
        if channel is None:
            return [Attempt("unavailable", "push not configured")] * len(items)
        tokens = await devices.tokens_of(session, list({person.id for person, _ in items}))
        # One push per phone and urgency, carrying every message for it.
        per_phone: dict[tuple[str, bool], list[int]] = {}
        for i, (person, n) in enumerate(items):
            for token in tokens.get(person.id, []):
                per_phone.setdefault((token, n.urgency == Urgency.EMERGENCY), []).append(i)
        pushes = []
        for (token, emergency), indexes in per_phone.items():
            messages = [items[i][1] for i in indexes]
            for title, body, data, chunk in bundles(messages, items[indexes[0]][0].locale, self.catalog):
                message = PushMessage(token=token, title=title, body=body, data=data, emergency=emergency)
                pushes.append((message, [indexes[c] for c in chunk]))
        # The ladder is the retry: a refused alarm push hands over to the next path at once
        # rather than waiting out FCM's backoff (and, here, inside the caller's transaction).
        phones: list[list[PushResult]] = [[] for _ in items]
        unregistered: list[str] = []
        for emergency in (True, False):
            picked = [(m, indexes) for m, indexes in pushes if m.emergency == emergency]
            if not picked:
                continue
            sent = await channel.send([m for m, _ in picked], max_retries=0 if emergency else 1)
            for (_message, indexes), result in zip(picked, sent, strict=True):
                for i in indexes:
                    phones[i].append(result)
            unregistered += [r.token for r in sent if r.unregistered]
        await devices.prune(session, unregistered)
        return [_push_attempt(found) for found in phones]


def _push_attempt(results: list[PushResult]) -> Attempt:
    if not results:
        return Attempt("unavailable", "no app")
    if any(r.delivered for r in results):
        return Attempt("sent", f"{sum(r.delivered for r in results)}/{len(results)} phones")
    return Attempt("failed", ",".join(sorted({r.error or "?" for r in results})))


class SmsPath:
    name = "sms"

    def __init__(self, sms: SmsSender) -> None:
        self.sms = sms

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        return [await self._one(person, n) for person, n in items]

    async def _one(self, person: Person, n: Notification) -> Attempt:
        try:
            await self.sms.send(person.phone, as_sms(n, person.locale))
        except NumberCannotReceive as exc:  # not worth another try on this path
            return Attempt("failed", f"cannot receive: {exc}")
        except Exception as exc:  # a gateway error is a failed attempt, then the next path
            return Attempt("failed", type(exc).__name__)
        return Attempt("delivered", "gateway accepted")


def as_sms(n: Notification, locale: str) -> Sms:
    """The template a notification goes as by SMS: its own, else the alarm or notice template
    with the title and the start of the body (each provider caps a variable's length)."""
    if n.sms:
        return Sms(n.sms["template"], n.sms.get("params", {}), locale)
    if n.urgency == Urgency.EMERGENCY:
        return Sms("alarm", {"summary": n.body}, locale)
    return Sms("notice", {"title": n.title, "summary": n.body}, locale)


def build_paths(*, push: FcmChannel | None, sms: SmsSender, catalog: Catalog) -> dict[str, Path]:
    """The delivery paths by name, each with its sender."""
    paths: list[Path] = [PushPath(push, catalog), SmsPath(sms)]
    return {path.name: path for path in paths}
