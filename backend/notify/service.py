"""Tell a person something on the path they actually use, and make sure it arrived.

Each message is stored with its delivery record. It goes out on the person's first path; a
path that fails hands over to the next at once, and one that was only handed over (FCM took
it, but FCM does not reach mainland China) is given a short time to be confirmed by the
device before the next path is tried: 10 s for an alarm. Quiet hours hold everyday messages
until they end; alarms ignore them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs, live
from backend.access.rules import acting_for
from backend.access.subject import Actor
from backend.community.models import Person
from backend.config import Settings
from backend.db import insert_returning, utcnow
from backend.errors import NotFound
from backend.gateways.sms import Sms
from backend.live import person_channel
from backend.notify import preferences
from backend.notify.models import PATHS, Delivery, Notification, NotificationSettings, NotificationState, Urgency
from backend.notify.paths import Attempt
from backend.parts import Parts

log = logging.getLogger(__name__)

NEXT_PATH = "notify.next_path"
OPEN_STATES = (NotificationState.PENDING, NotificationState.HELD)
# Kinds the community sends everyone alike, with nothing of the person's own in them: a door
# that knows only a number may read these out (`access.subject.ON_CALLER_ID`).
WARNING = "warning"  # an official warning
ROLL_CALL = "roll_call"  # is your home safe?
PUBLIC_KINDS = frozenset({WARNING, ROLL_CALL})


RefCheck = Callable[[AsyncSession, str], Awaitable[bool]]
_ref_checks: dict[str, RefCheck] = {}


def register_ref_check(prefix: str, check: RefCheck) -> None:
    """Domains say whether what a message is about ("alert:12") still needs anyone told."""
    _ref_checks[prefix] = check


async def _still_needed(session: AsyncSession, ref: str) -> bool:
    check = _ref_checks.get(ref.partition(":")[0])
    return True if check is None else await check(session, ref)


# Domains act when a person takes a message about something of theirs (1 on a check-in call
# is the check-in): called with the message and how it was taken (app, tv, or the path).
ArrivalHook = Callable[[AsyncSession, Notification, str], Awaitable[None]]
_arrival_hooks: dict[str, ArrivalHook] = {}


def register_arrival_hook(prefix: str, hook: ArrivalHook) -> None:
    _arrival_hooks[prefix] = hook


def next_path_key(notification_id: int) -> str:
    return f"notification:{notification_id}:next"


@dataclass(frozen=True)
class Outgoing:
    """A message to store and send."""

    person: Person
    kind: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    urgency: Urgency = Urgency.NORMAL
    ref: str | None = None
    sms: Sms | None = None  # the template it goes as by SMS (else alarm or notice)


def _sms_hint(sms: Sms | None) -> dict[str, Any] | None:
    return {"template": sms.template, "params": dict(sms.params)} if sms is not None else None


async def send_many(session: AsyncSession, parts: Parts, outgoing: Sequence[Outgoing]) -> list[Notification]:
    """Store the messages and send each on the first path that takes it; messages going out
    together go through each path together (one push per phone)."""
    rows = [
        {"person_id": o.person.id, "kind": o.kind, "urgency": o.urgency, "title": o.title, "body": o.body}
        | {"data": o.data, "ref": o.ref, "sms": _sms_hint(o.sms)}
        for o in outgoing
    ]
    ns = await insert_returning(session, Notification, rows)
    await advance_many(session, parts, [(o.person, n) for o, n in zip(outgoing, ns, strict=True)], fresh=True)
    live.after_commit(session, [(person_channel(n.person_id), {"kind": "notification", "id": n.id}) for n in ns])
    return ns


async def send(
    session: AsyncSession,
    parts: Parts,
    person: Person,
    *,
    kind: str,
    title: str,
    body: str,
    data: dict[str, str] | None = None,
    urgency: Urgency = Urgency.NORMAL,
    ref: str | None = None,
    sms: Sms | None = None,
) -> Notification:
    """Store the message and send it on the first path that takes it."""
    [n] = await send_many(session, parts, [Outgoing(person, kind, title, body, data or {}, urgency, ref, sms)])
    return n


async def tell(
    session: AsyncSession,
    parts: Parts,
    person: Person,
    *,
    title: str,
    text: str,
    data: dict[str, str] | None = None,
    sms: Sms | None = None,
) -> Notification:
    kind = (data or {}).get("kind", "general")
    return await send(session, parts, person, kind=kind, title=title, body=text, data=data, sms=sms)


async def advance(session: AsyncSession, parts: Parts, n: Notification, person: Person | None = None) -> None:
    person = person or await session.get(Person, n.person_id)
    if person is None:
        n.state = NotificationState.FAILED
        return
    await advance_many(session, parts, [(person, n)])


Climber = tuple[Person, Notification, list[str]]  # a message, its person and the paths to try
Timer = tuple[dt.datetime, dict[str, object], str]


async def advance_many(
    session: AsyncSession, parts: Parts, items: Sequence[tuple[Person, Notification]], *, fresh: bool = False
) -> None:
    """Try the next path(s) until one takes each message, then wait for its confirmation.
    `fresh`: the messages were just stored, so none has a timer yet."""
    prefs = await preferences.settings_of_many(session, {person.id for person, _ in items})
    deliveries: list[dict[str, object]] = []
    timers: list[Timer] = []
    climbing = _ladders(parts.settings, items, prefs, deliveries, timers)
    while climbing:
        climbing = await _next_rung(session, parts, climbing, deliveries, timers)
    if deliveries:
        await session.execute(insert(Delivery), deliveries)
    if fresh:
        await jobs.schedule_new(session, NEXT_PATH, timers)
        return
    for run_at, payload, key in timers:
        await jobs.schedule(session, NEXT_PATH, run_at, payload, key=key)


def _ladders(
    settings: Settings,
    items: Sequence[tuple[Person, Notification]],
    prefs: dict[int, NotificationSettings],
    deliveries: list[dict[str, object]],
    timers: list[Timer],
) -> list[Climber]:
    """Each open message with the paths it will climb; an everyday one in its person's quiet
    hours is held until they end instead."""
    now = utcnow()
    climbing: list[Climber] = []
    for person, n in items:
        if n.state not in OPEN_STATES:
            continue
        if n.urgency == Urgency.NORMAL:
            held_until = preferences.quiet_until(prefs[person.id], now, settings.zone)
            if held_until is not None:
                if n.state != NotificationState.HELD:
                    deliveries.append(_delivery(n, "-", Attempt("held", "quiet hours"), now))
                n.state = NotificationState.HELD
                timers.append((held_until, {"notification_id": n.id}, next_path_key(n.id)))
                continue
            n.state = NotificationState.PENDING
        # A message that is a call (the check-in call) goes by that path alone.
        only = (n.data or {}).get("path")
        climbing.append((person, n, [only] if only in PATHS else preferences.ladder(prefs[person.id], n.urgency)))
    return climbing


async def _next_rung(
    session: AsyncSession,
    parts: Parts,
    climbing: list[Climber],
    deliveries: list[dict[str, object]],
    timers: list[Timer],
) -> list[Climber]:
    """Everyone still climbing takes their next rung; each path is asked once per round.
    Returns those whose path failed or is missing: they try the next one at once."""
    by_path: dict[str, list[Climber]] = {}
    for person, n, ladder in climbing:
        if n.next_path >= len(ladder):
            _end_of_ladder(n)
            continue
        n.next_path += 1
        by_path.setdefault(ladder[n.next_path - 1], []).append((person, n, ladder))
    still: list[Climber] = []
    for name, group in by_path.items():
        path = parts.paths.get(name)
        attempts = (
            await path.deliver_many(session, [(person, n) for person, n, _ in group])
            if path
            else [Attempt("unavailable", "not connected")] * len(group)
        )
        if path:
            path.health.record(attempts)
        for (person, n, ladder), attempt in zip(group, attempts, strict=True):
            deliveries.append(_delivery(n, name, attempt, utcnow()))
            if attempt.result not in ("sent", "delivered"):
                still.append((person, n, ladder))
                continue
            _taken(parts, n, name, ladder, attempt, timers)
    return still


def _taken(parts: Parts, n: Notification, name: str, ladder: list[str], attempt: Attempt, timers: list[Timer]) -> None:
    """A path took the message: done, or waiting for its confirmation before the next path."""
    if attempt.result == "delivered":
        n.delivered_at, n.delivered_by = utcnow(), name
    can_fall_back = any(parts.paths.get(p) for p in ladder[n.next_path :])
    # A push awaits the phone's confirmation; an everyday message an SMS gateway took
    # is done, while an alarm goes on to the next path unless confirmed.
    if can_fall_back and (attempt.result == "sent" or n.urgency == Urgency.EMERGENCY):
        n.state = NotificationState.PENDING
        timers.append((_confirmation_due(n, parts.settings), {"notification_id": n.id}, next_path_key(n.id)))
        return
    n.state, n.delivered_at, n.delivered_by = NotificationState.DELIVERED, n.delivered_at or utcnow(), name


def _delivery(n: Notification, path: str, attempt: Attempt, at: dt.datetime) -> dict[str, object]:
    return {
        "notification_id": n.id,
        "path": path,
        "result": attempt.result,
        "detail": attempt.detail,
        "provider_ref": attempt.provider_ref,
        "at": at,
    }


def _end_of_ladder(n: Notification) -> None:
    if n.delivered_at is None:
        n.state = NotificationState.FAILED
        log.warning("notification %s reached nobody: every path failed", n.id)
    else:
        n.state = NotificationState.DELIVERED


def _confirmation_due(n: Notification, settings: Settings) -> dt.datetime:
    """When the next path takes over unless the device confirmed."""
    wait = settings.notify_fallback_emergency_s if n.urgency == Urgency.EMERGENCY else settings.notify_fallback_normal_s
    return utcnow() + dt.timedelta(seconds=wait)


async def next_path_due(session: AsyncSession, parts: Parts, notification_id: int) -> None:
    """The wait is over: unless the device confirmed meanwhile, go on to the next path."""
    n = await session.get(Notification, notification_id, with_for_update=True)
    if n is None:
        return
    if n.state in OPEN_STATES and n.ref and not await _still_needed(session, n.ref):
        n.state = NotificationState.SETTLED  # answered meanwhile (a race with `settle`)
        return
    if n.state == NotificationState.PENDING and n.next_path > 0:
        last = await _last_attempt(session, n.id)
        if last is not None and last.confirmed_at is None:
            session.add(Delivery(notification_id=n.id, path=last.path, result="unconfirmed", detail="no confirmation"))
    await advance(session, parts, n)


async def _last_attempt(session: AsyncSession, notification_id: int) -> Delivery | None:
    return (
        await session.execute(
            select(Delivery)
            .where(Delivery.notification_id == notification_id, Delivery.result.in_(("sent", "delivered")))
            .order_by(Delivery.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def confirm(session: AsyncSession, actor: Actor, notification_id: int, *, by: str = "app") -> Notification:
    """The phone showed it (or the person opened it, or heard it on the phone line and pressed
    1): it arrived, stop trying other paths."""
    n = await session.get(Notification, notification_id, with_for_update=True)
    if n is None or n.person_id != actor.id:
        raise NotFound()
    last = await _last_attempt(session, n.id)
    await _arrived(session, n, last, by)
    return n


async def confirm_at_home(
    session: AsyncSession, residents: Collection[int], notification_id: int, *, by: str
) -> Notification:
    """Confirmed on the home's TV: a message for anyone living there (the box is theirs)."""
    n = await session.get(Notification, notification_id, with_for_update=True)
    if n is None or n.person_id not in residents:
        raise NotFound()
    await _arrived(session, n, await _last_attempt(session, n.id), by)
    return n


async def confirm_by_provider(session: AsyncSession, provider_ref: str) -> int:
    """The provider reports the person took it (pressed 1 on the call): every message the
    attempt carried arrived, as if tapped in the app. How many were confirmed."""
    attempts = await _attempts_by_ref(session, provider_ref)
    for attempt in attempts:
        n = await session.get(Notification, attempt.notification_id, with_for_update=True)
        if n is not None:
            await _arrived(session, n, attempt, attempt.path)
    return len(attempts)


async def sms_receipt(session: AsyncSession, parts: Parts, provider_ref: str, *, received: bool, detail: str) -> int:
    """The SMS gateway's delivery receipt: the phone received it, or it did not (off, out of
    service, refused by the carrier). A message that did not arrive goes on to the next path at
    once, without waiting out its confirmation time. How many attempts the receipt named."""
    attempts = await _attempts_by_ref(session, provider_ref)
    for attempt in attempts:
        if attempt.result != "delivered":
            continue  # already settled by an earlier receipt
        attempt.detail = f"receipt: {detail}"[:200]
        if received:
            continue
        attempt.result = "failed"
        n = await session.get(Notification, attempt.notification_id, with_for_update=True)
        if n is None or n.read_at is not None:
            continue
        if n.delivered_by == "sms" and n.state in (NotificationState.DELIVERED, NotificationState.PENDING):
            # What the gateway took did not arrive: it counts as not delivered (yet).
            n.state, n.delivered_at, n.delivered_by = NotificationState.PENDING, None, None
        if n.state == NotificationState.PENDING and not (n.ref and not await _still_needed(session, n.ref)):
            await jobs.cancel(session, next_path_key(n.id))
            await advance(session, parts, n)
    return len(attempts)


async def _attempts_by_ref(session: AsyncSession, provider_ref: str) -> list[Delivery]:
    """The attempts a provider's report names (one SMS or call may have carried several)."""
    query = select(Delivery).where(Delivery.provider_ref == provider_ref).order_by(Delivery.id)
    return list((await session.scalars(query)).all())


async def _arrived(session: AsyncSession, n: Notification, last: Delivery | None, by: str) -> None:
    now = utcnow()
    if last is not None and last.confirmed_at is None:
        last.confirmed_at = now
    if n.state in (NotificationState.PENDING, NotificationState.HELD):
        n.state = NotificationState.DELIVERED
        n.delivered_at, n.delivered_by = n.delivered_at or now, last.path if last else by
        await jobs.cancel(session, next_path_key(n.id))
    if n.read_at is None:
        n.read_at = now
    hook = _arrival_hooks.get((n.ref or "").partition(":")[0])
    if hook is not None:
        await hook(session, n, by)


async def settle(session: AsyncSession, ref: str) -> int:
    """What the messages were about has been answered: stop chasing people with them."""
    ids = list(
        (
            await session.execute(
                select(Notification.id).where(Notification.ref == ref, Notification.state.in_(OPEN_STATES))
            )
        ).scalars()
    )
    if not ids:
        return 0
    await session.execute(update(Notification).where(Notification.id.in_(ids)).values(state=NotificationState.SETTLED))
    for notification_id in ids:
        await jobs.cancel(session, next_path_key(notification_id))
    return len(ids)


async def told_about(session: AsyncSession, refs: Sequence[str]) -> dict[str, set[int]]:
    """Who has been sent anything about each of `refs` (whatever became of it)."""
    found: dict[str, set[int]] = {ref: set() for ref in refs}
    if refs:
        rows = await session.execute(
            select(Notification.ref, Notification.person_id).where(Notification.ref.in_(list(refs))).distinct()
        )
        for ref, person_id in rows.all():
            found[str(ref)].add(person_id)
    return found


async def record_about(session: AsyncSession, ref: str) -> list[tuple[Delivery, int]]:
    """Every attempt to tell anyone about `ref`, oldest first, with whom it was for."""
    rows = await session.execute(
        select(Delivery, Notification.person_id)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.ref == ref)
        .order_by(Delivery.at, Delivery.id)
    )
    return [(d, person_id) for d, person_id in rows.all()]


async def unread(session: AsyncSession, person_id: int, *, limit: int, public_only: bool = False) -> list[Notification]:
    """Messages the person has not read yet, newest first (the phone line reads them out).
    `public_only`: only what the community sent everyone alike (`PUBLIC_KINDS`)."""
    query = select(Notification).where(Notification.person_id == person_id, Notification.read_at.is_(None))
    if public_only:
        query = query.where(Notification.kind.in_(PUBLIC_KINDS))
    return list((await session.execute(query.order_by(Notification.id.desc()).limit(limit))).scalars())


async def page(session: AsyncSession, person_id: int, *, before_id: int | None, limit: int) -> list[Notification]:
    query = select(Notification).where(Notification.person_id == person_id)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list((await session.execute(query.order_by(Notification.id.desc()).limit(limit))).scalars())


async def deliveries_of(session: AsyncSession, notification_ids: list[int]) -> dict[int, list[Delivery]]:
    found: dict[int, list[Delivery]] = {i: [] for i in notification_ids}
    if notification_ids:
        rows = await session.execute(
            select(Delivery).where(Delivery.notification_id.in_(notification_ids)).order_by(Delivery.id)
        )
        for d in rows.scalars():
            found[d.notification_id].append(d)
    return found


async def update_settings(
    session: AsyncSession,
    actor: Actor,
    person_id: int | None,
    *,
    paths: list[str] | None,
    quiet: tuple[dt.time, dt.time] | None,
) -> NotificationSettings:
    """My paths and quiet hours, or those of someone I act for."""
    whose = (await acting_for(session, actor, person_id)).person
    start, end = quiet if quiet is not None else (None, None)
    return await preferences.update(session, whose.id, by_id=actor.id, paths=paths, quiet_start=start, quiet_end=end)


async def mine(session: AsyncSession, person_id: int, notification_id: int) -> Notification | None:
    """A message if it is this person's (a live update is checked again when it is read)."""
    n = await session.get(Notification, notification_id)
    return n if n is not None and n.person_id == person_id else None


# --- erasure: what others were told about a person who has gone (privacy.deletion) ---------


def naming(key: str, ids: Sequence[str]) -> ColumnElement[bool]:
    """Notices whose data names one of these rows (an alarm's alertId, an order's orderId)."""
    return Notification.data[key].as_string().in_(list(ids))


async def blank_told_about(
    session: AsyncSession, person_id: int, named: ColumnElement[bool], marks: Sequence[str]
) -> None:
    """Others' notices `named` that carry one of the marks (her name, her phone, her flat) keep
    their delivery record; their text and SMS variables (which name her too) go."""
    await session.execute(
        update(Notification)
        .where(
            Notification.person_id != person_id,
            named,
            or_(*(Notification.body.contains(mark) for mark in marks if mark)),
        )
        .values(body="", sms=None)
    )


async def ids_named(session: AsyncSession, named: ColumnElement[bool]) -> list[int]:
    return list((await session.execute(select(Notification.id).where(named))).scalars())


async def delete_notices(session: AsyncSession, notice_ids: Sequence[int]) -> None:
    """The notices themselves (what depends on them goes first, by the erasure plan)."""
    await session.execute(delete(Notification).where(Notification.id.in_(list(notice_ids))))
