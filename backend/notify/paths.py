"""The paths a message can take to a person, behind one interface.

push (FCM, JPush), sms, tv (the home's set-top box, over its live connection) and voice
(notification calls) are here, each built with its sender by the composition root
(`build_paths`). A path says what
happened: `sent` (handed over, awaiting the device's confirmation), `delivered` (handed over
to something that cannot confirm, such as an SMS gateway), `failed` or `unavailable` (the
person has no way in on this path).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter, Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import live
from backend.community.models import Device, DeviceKind, Person
from backend.content.catalog import Catalog
from backend.content.read_aloud import ReadAloud
from backend.db import utcnow
from backend.gateways.calls import Caller
from backend.gateways.push import PushMessage, PushResult
from backend.gateways.sms import NumberCannotReceive, Sms, SmsSender
from backend.notify import devices
from backend.notify.models import Notification, Urgency


@dataclass(frozen=True)
class Attempt:
    result: str  # sent | delivered | failed | unavailable
    detail: str | None = None
    provider_ref: str | None = None  # what the provider's report will name it by


ATTEMPTS = Counter(
    "linli_delivery_attempts_total", "Attempts to deliver a message, by path and result", ["path", "result"]
)
LAST_SUCCESS = Gauge("linli_path_last_success_timestamp_seconds", "When a path last took a message", ["path"])
RECENT_WINDOW_S = 600


class PathHealth:
    """What a path has done lately in this process, for /readyz and /metrics: whether it is
    configured, when it last took a message, and how many attempts failed in the last 10
    minutes (an unreachable person, "unavailable", is not the path's failure)."""

    def __init__(self, name: str, configured: str | None) -> None:
        self.name = name
        self.configured = configured  # how it is set up ("aliyun,tencent"), or None: not configured
        self.last_success: float | None = None
        self.failures: deque[float] = deque(maxlen=10_000)

    def record(self, attempts: Sequence[Attempt]) -> None:
        now = time.time()
        for attempt in attempts:
            ATTEMPTS.labels(self.name, attempt.result).inc()
            if attempt.result in ("sent", "delivered"):
                self.last_success = now
                LAST_SUCCESS.labels(self.name).set(now)
            elif attempt.result == "failed":
                self.failures.append(now)

    def state(self) -> dict[str, object]:
        cutoff = time.time() - RECENT_WINDOW_S
        while self.failures and self.failures[0] < cutoff:
            self.failures.popleft()
        return {
            "configured": self.configured is not None,
            "via": self.configured,
            "lastSuccessAt": dt.datetime.fromtimestamp(self.last_success, dt.UTC).isoformat()
            if self.last_success
            else None,
            "recentFailures": len(self.failures),
        }


class Path(Protocol):
    name: str
    health: PathHealth

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


class PushChannel(Protocol):
    async def send(self, messages: Sequence[PushMessage], *, max_retries: int | None = None) -> list[PushResult]: ...


class PushPath:
    """Pushes to a person's phones, each through the service that reaches it (FCM outside the
    mainland, JPush inside it)."""

    name = "push"

    def __init__(self, channels: Mapping[str, PushChannel | None], catalog: Catalog) -> None:
        self.channels = {name: channel for name, channel in channels.items() if channel is not None}
        self.catalog = catalog
        self.health = PathHealth(self.name, ",".join(self.channels) or None)

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        if not self.channels:
            return [Attempt("unavailable", "push not configured")] * len(items)
        tokens = await devices.tokens_of(session, list({person.id for person, _ in items}))
        # One push per phone and urgency, carrying every message for it.
        per_phone: dict[tuple[str, str, bool], list[int]] = {}
        for i, (person, n) in enumerate(items):
            for token, service in tokens.get(person.id, []):
                if service in self.channels:
                    per_phone.setdefault((service, token, n.urgency == Urgency.EMERGENCY), []).append(i)
        pushes: list[tuple[str, PushMessage, list[int]]] = []
        for (service, token, emergency), indexes in per_phone.items():
            messages = [items[i][1] for i in indexes]
            for title, body, data, chunk in bundles(messages, items[indexes[0]][0].locale, self.catalog):
                message = PushMessage(token=token, title=title, body=body, data=data, emergency=emergency)
                pushes.append((service, message, [indexes[c] for c in chunk]))
        # The ladder is the retry: a refused alarm push hands over to the next path at once
        # rather than waiting out the service's backoff (and, here, inside the caller's
        # transaction). The services are asked at the same time.
        batches = [
            (
                service,
                emergency,
                [(m, indexes) for s, m, indexes in pushes if s == service and m.emergency == emergency],
            )
            for service in self.channels
            for emergency in (True, False)
        ]
        batches = [(service, emergency, picked) for service, emergency, picked in batches if picked]
        answers = await asyncio.gather(
            *(
                self.channels[service].send([m for m, _ in picked], max_retries=0 if emergency else 1)
                for service, emergency, picked in batches
            )
        )
        phones: list[list[PushResult]] = [[] for _ in items]
        unregistered: list[str] = []
        for (_service, _emergency, picked), sent in zip(batches, answers, strict=True):
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


def per_person(items: Sequence[tuple[Person, Notification]], *, only: Urgency | None = None) -> list[list[int]]:
    """The items' indexes, grouped by person (of `only` that urgency): one SMS or one call per
    person per round, however many messages."""
    found: dict[int, list[int]] = {}
    for i, (person, n) in enumerate(items):
        if only is None or n.urgency == only:
            found.setdefault(person.id, []).append(i)
    return list(found.values())


def in_words(ns: Sequence[Notification], locale: str) -> Sms:
    """What one SMS or call says for a person's messages of a round: the message itself, or
    how many there are."""
    return as_sms(ns[0], locale) if len(ns) == 1 else as_one_sms(ns, locale)


class SmsPath:
    name = "sms"
    CONCURRENCY = 20  # gateway requests in flight at once

    def __init__(self, sms: SmsSender) -> None:
        self.sms = sms
        self.health = PathHealth(self.name, sms.name)
        self._slots = asyncio.Semaphore(self.CONCURRENCY)

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        """One SMS per person per round: a grid worker with a thousand alarms at once gets one
        SMS that says how many and where to look, not a thousand. People are texted at the
        same time, not one after the other."""
        groups = per_person(items)
        sent = await asyncio.gather(*(self._one(items[g[0]][0], [items[i][1] for i in g]) for g in groups))
        attempts: list[Attempt] = [Attempt("failed")] * len(items)
        for indexes, attempt in zip(groups, sent, strict=True):
            for i in indexes:
                attempts[i] = attempt
        return attempts

    async def _one(self, person: Person, ns: Sequence[Notification]) -> Attempt:
        bundled = f" ({len(ns)} in one)" if len(ns) > 1 else ""
        try:
            async with self._slots:
                ref = await self.sms.send(person.phone, in_words(ns, person.locale))
        except NumberCannotReceive as exc:  # not worth another try on this path
            return Attempt("failed", f"cannot receive: {exc}{bundled}")
        except Exception as exc:  # a gateway error is a failed attempt, then the next path
            return Attempt("failed", f"{type(exc).__name__}{bundled}")
        return Attempt("delivered", f"gateway accepted{bundled}", provider_ref=ref)


def as_sms(n: Notification, locale: str) -> Sms:
    """The template a notification goes as by SMS: its own, else the alarm or notice template
    with the title and the start of the body (each provider caps a variable's length)."""
    if n.sms:
        return Sms(n.sms["template"], n.sms.get("params", {}), locale)
    if n.urgency == Urgency.EMERGENCY:
        return Sms("alarm", {"summary": n.body}, locale)
    return Sms("notice", {"title": n.title, "summary": n.body}, locale)


def as_one_sms(ns: Sequence[Notification], locale: str) -> Sms:
    """Several messages for one person in one SMS: how many, and where to read them."""
    urgent = any(n.urgency == Urgency.EMERGENCY for n in ns)
    return Sms("alarm_many" if urgent else "notice_many", {"count": str(len(ns))}, locale)


class VoicePath:
    """A phone call that speaks the message and asks to press 1 (for people whose phone did not
    confirm, or whose phone is a landline). Through a provider's templates only alarms ring a
    phone; through the community's own line every message may. One call per person per round
    however many messages."""

    name = "voice"

    def __init__(self, caller: Caller | None) -> None:
        self.caller = caller
        self.health = PathHealth(self.name, caller.name if caller is not None else None)

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        caller = self.caller
        if caller is None:
            return [Attempt("unavailable", "voice calls not configured")] * len(items)
        attempts = [Attempt("unavailable", "calls are for alarms")] * len(items)
        groups = per_person(items, only=None if caller.every_message else Urgency.EMERGENCY)
        calls = []
        for indexes in groups:
            person, first = items[indexes[0]]
            ns = [items[i][1] for i in indexes]
            spoken = " ".join(f"{n.title}: {n.body}" for n in ns)
            calls.append(
                caller.call(
                    person.phone, in_words(ns, person.locale), out_id=str(first.id), spoken=spoken, session=session
                )
            )
        answers = await asyncio.gather(*calls, return_exceptions=True)
        for indexes, answer in zip(groups, answers, strict=True):
            attempt = (
                Attempt("failed", type(answer).__name__)
                if isinstance(answer, BaseException)
                else Attempt("sent", "call placed", provider_ref=answer)
            )
            for i in indexes:
                attempts[i] = attempt
        return attempts


# A box's live connection marks it seen at least this often (tv_channel/portal/live.py); one
# not seen for longer is off, and the message goes on to the next path at once.
BOX_SEEN_WITHIN = dt.timedelta(seconds=90)


class TvPath:
    """The home's TV: shown on every box of the person's home that is on (its live connection
    open), read aloud, and confirmed with OK on the remote. Not confirmed in time, the next
    path takes over, as for a push."""

    name = "tv"

    def __init__(self, read_aloud: ReadAloud) -> None:
        self.read_aloud = read_aloud
        self.health = PathHealth(self.name, "live")

    async def deliver_many(self, session: AsyncSession, items: Sequence[tuple[Person, Notification]]) -> list[Attempt]:
        homes = {person.household_id for person, _ in items if person.household_id is not None}
        boxes: dict[int, list[int]] = {}
        if homes:
            rows = await session.execute(
                select(Device.id, Device.household_id).where(
                    Device.kind == DeviceKind.TV,
                    Device.household_id.in_(homes),
                    Device.last_seen_at > utcnow() - BOX_SEEN_WITHIN,
                )
            )
            for device_id, household_id in rows.all():
                boxes.setdefault(household_id or 0, []).append(device_id)
        attempts, messages = [], []
        for person, n in items:
            on = boxes.get(person.household_id or 0, [])
            if n.kind == "warning":  # an official warning reaches every box of its area by itself
                attempts.append(Attempt("unavailable", "shown on the boxes as a warning"))
                continue
            if not on:
                attempts.append(Attempt("unavailable", "no TV on at home"))
                continue
            shown = {
                "kind": "notification",
                "id": n.id,
                "title": n.title,
                "body": n.body,
                "urgency": n.urgency.value,
                "readAloudUrl": self.read_aloud.url(
                    f"{n.title}。{n.body}", locale=person.locale, slow=person.slow_speech
                ),
            }
            messages += [(live.box_channel(device_id), shown) for device_id in on]
            attempts.append(Attempt("sent", f"{len(on)} TV box(es)"))
        # Shown once the delivery record is committed, so OK on the remote finds it.
        live.after_commit(session, messages)
        return attempts


def build_paths(
    *,
    push: Mapping[str, PushChannel | None],
    sms: SmsSender,
    calls: Caller | None,
    catalog: Catalog,
    read_aloud: ReadAloud,
) -> dict[str, Path]:
    """The delivery paths by name, each with its sender (`push`: the push services by name)."""
    paths: list[Path] = [PushPath(push, catalog), SmsPath(sms), TvPath(read_aloud), VoicePath(calls)]
    return {path.name: path for path in paths}
