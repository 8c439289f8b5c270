"""The rules of an alarm: raise (or join), escalate until a person answers, and close."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.access.subject import Actor, Door
from backend.community import duty
from backend.community import repository as community_repository
from backend.community.models import Building, Community, Household, Person, Role
from backend.config import Settings
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.emergency import repository
from backend.emergency.errors import AlertClosed
from backend.emergency.models import (
    LIVE_STATUSES,
    Alert,
    AlertEvent,
    AlertSource,
    AlertStatus,
    EscalationPolicy,
    Outcome,
)
from backend.emergency.policy import DEFAULT_REPEAT_EVERY_S, Policy, checked, default_policy, from_json
from backend.errors import InvalidInput, NotFound
from backend.events import emit, emit_many
from backend.mutual_help import repository as mutual_help
from backend.mutual_help.models import Volunteer
from backend.notify import preferences
from backend.notify import service as notify

ESCALATE = "emergency.escalate"
REPEAT = "emergency.repeat"
EN_ROUTE_CHECK = "emergency.en_route_check"
MAX_NOTE = 500
# A second press tells the responders again, but not more often than this: an elder pressing
# in panic must not turn into a hundred calls to the same phone.
RENOTIFY_EVERY_S = 60


def _record(session: AsyncSession, alert: Alert, kind: str, actor_id: int | None = None, **detail: object) -> None:
    session.add(AlertEvent(**_step(alert, kind, actor_id, **detail)))


def _step(alert: Alert, kind: str, actor_id: int | None = None, **detail: object) -> dict[str, object]:
    """A line of the alarm's timeline."""
    return {"alert_id": alert.id, "kind": kind, "actor_id": actor_id, "detail": detail, "at": utcnow()}


VOLUNTEERS = "emergency.volunteers"  # job: the neighbours who volunteer are told
MOST_VOLUNTEERS = 5


def alert_ref(alert_id: int) -> str:
    """What the alarm's notifications are about: answering it stops chasing responders."""
    return f"alert:{alert_id}"


def update_ref(alert_id: int) -> str:
    """What news of an alarm (answered, on the way, resolved) is about: answering the alarm
    must not stop that news from reaching people."""
    return f"alert-update:{alert_id}"


def volunteers_key(alert_id: int) -> str:
    return f"alert:{alert_id}:volunteers"


def escalate_key(alert_id: int) -> str:
    return f"alert:{alert_id}:escalate"


def en_route_key(alert_id: int) -> str:
    return f"alert:{alert_id}:en_route"


async def policy_of(session: AsyncSession, settings: Settings, alert: Alert) -> Policy:
    return (await policies_of(session, settings, [alert.community_id]))[alert.community_id]


async def policies_of(session: AsyncSession, settings: Settings, community_ids: Iterable[int]) -> dict[int, Policy]:
    """The escalation policy of each community (its staff's, else the default from content/),
    for a group of alarms in one query."""
    wanted = set(community_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            Community.id,
            Community.code,
            EscalationPolicy.tiers,
            EscalationPolicy.en_route_timeout_s,
            EscalationPolicy.repeat_every_s,
        )
        .outerjoin(EscalationPolicy, EscalationPolicy.community_id == Community.id)
        .where(Community.id.in_(wanted))
    )
    found = {
        cid: _with_volunteers(from_json(tiers, timeout, repeat), default_policy(settings.content_dir, code))
        if tiers is not None
        else default_policy(settings.content_dir, code)
        for cid, code, tiers, timeout, repeat in rows
    }
    return {cid: found.get(cid) or default_policy(settings.content_dir, "") for cid in wanted}


def _with_volunteers(policy: Policy, default: Policy) -> Policy:
    """Staff's own tiers keep the volunteers' tier of the community's file."""
    return dataclasses.replace(policy, volunteers_after_s=default.volunteers_after_s)


POLICY_EDITORS = frozenset({Role.ADMIN, Role.SERVICE_CENTRE})


async def set_policy(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    tiers: Sequence[tuple[int, Sequence[str], bool]],
    en_route_timeout_s: int,
    repeat_every_s: int | None = None,
) -> Policy:
    """The community's admins and service centre decide who is told and when. It applies to
    the next escalation step of every alarm, open ones included; steps already due keep
    their time."""
    if not actor.roles_in(community_id) & POLICY_EDITORS:
        raise NotFound()
    policy = checked(tiers, en_route_timeout_s, repeat_every_s or DEFAULT_REPEAT_EVERY_S)
    row = await session.get(EscalationPolicy, community_id, with_for_update=True)
    if row is None:
        row = EscalationPolicy(community_id=community_id)
        session.add(row)
    row.tiers, row.en_route_timeout_s = policy.tiers_as_json(), policy.en_route_timeout_s
    row.repeat_every_s = policy.repeat_every_s
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    return policy


def repeat_key(alert_id: int) -> str:
    return f"alert:{alert_id}:repeat"


def _when_unanswered(
    policy: Policy, alert: Alert, after: dt.datetime
) -> tuple[str, tuple[dt.datetime, dict[str, int], str]]:
    """What happens if nobody answers: the next tier after its delay, or after the last tier
    every tier again, every `repeat_every_s`. (kind, (when, payload, key))."""
    nxt = policy.tier(alert.tier + 1)
    current = policy.tier(alert.tier)
    if nxt is None:
        when = after + dt.timedelta(seconds=policy.repeat_every_s)
        return REPEAT, (when, {"alert_id": alert.id}, repeat_key(alert.id))
    delay = nxt.after_s - (current.after_s if current else 0)
    payload = {"alert_id": alert.id, "tier": nxt.tier}
    return ESCALATE, (after + dt.timedelta(seconds=max(0, delay)), payload, escalate_key(alert.id))


async def _schedule_next(session: AsyncSession, policy: Policy, alert: Alert, after: dt.datetime) -> None:
    kind, (run_at, payload, key) = _when_unanswered(policy, alert, after)
    await jobs.schedule(session, kind, run_at, payload, key=key)


async def _cancel_chasing(session: AsyncSession, alert: Alert) -> None:
    """Someone answered: no next tier, no repeat, no more messages about the alarm itself."""
    await jobs.cancel(session, escalate_key(alert.id))
    await jobs.cancel(session, repeat_key(alert.id))
    await jobs.cancel(session, volunteers_key(alert.id))
    await notify.settle(session, alert_ref(alert.id))


class Place(Protocol):
    """Where an alarm is, which decides who answers it: a stored alarm or a press."""

    @property
    def person_id(self) -> int: ...
    @property
    def household_id(self) -> int | None: ...
    @property
    def community_id(self) -> int: ...


@dataclass(frozen=True)
class Told:
    """Who is told of an alarm, by responder group (in the tier's order)."""

    by_group: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return list(dict.fromkeys(p for people in self.by_group.values() for p in people))

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(g for g, people in self.by_group.items() if people)


@dataclass(frozen=True)
class Pressed:
    """What one press did, for the reply: words that say only what happened."""

    alert: Alert
    new: bool
    told: tuple[str, ...] = ()  # the groups told (or being told) by this press, or earlier
    again: bool = False  # someone was told again because of this press
    responder: str | None = None  # who answered, when someone has


@dataclass(frozen=True)
class Press:
    """One press of the button, from any front door."""

    person_id: int
    household_id: int | None
    community_id: int
    source: AlertSource
    idempotency_key: str | None = None


# The source a door's press is recorded under, unless the door says more (the app's button or
# its shake; a band's fall or out-of-range reading).
SOURCE_OF_DOOR = {Door.APP: AlertSource.APP, Door.TV: AlertSource.TV, Door.PHONE: AlertSource.VOICE}


def press_by(raiser: rules.Raiser, key: str | None, source: AlertSource | None = None) -> Press:
    """The one place a press is made, whatever the door: whose alarm, in which community."""
    person = raiser.person
    chosen = source or SOURCE_OF_DOOR.get(raiser.door, AlertSource.BAND)
    return Press(person.id, person.household_id, raiser.community_id, chosen, key)


def check_key(key: str | None) -> None:
    """A press's idempotency key, refused before anything is stored if malformed."""
    if key is not None and not 8 <= len(key) <= 100:
        raise InvalidInput("idempotencyKey", field="idempotencyKey")


async def trigger_many(
    session: AsyncSession, *, settings: Settings, presses: Sequence[Press]
) -> list[Pressed | InvalidInput]:
    """Store the alarms (and the events to tell people) of presses that arrived together, in
    the caller's transaction, before anyone is answered: a few statements for the whole group
    rather than a few per press.

    Per press: what it did, or the error for that press alone. A replayed request returns the
    same alarm; a second press while an alarm is open joins it, raises its urgency and tells
    the responders again (once a minute at most)."""
    keys = {p.idempotency_key for p in presses if p.idempotency_key is not None}
    replays = {a.idempotency_key: a for a in await repository.by_idempotency_keys(session, keys)}
    person_ids = sorted({p.person_id for p in presses})
    await repository.lock_people(session, person_ids)
    live = {a.person_id: a for a in await repository.live_alerts_of(session, person_ids)}
    now = utcnow()
    creators = _creators(presses, replays, live)
    policies = await policies_of(
        session,
        settings,
        {p.community_id for p in creators.values()}
        | {a.community_id for a in live.values()}
        | {a.community_id for a in replays.values()},
    )
    first = await _first_tiers(session, policies, list(creators.values()), now)
    raised = await _raise(session, policies, list(creators.values()), first, now)
    live.update((a.person_id, a) for a in raised)
    results, again, looked_up = _answers(presses, replays, live, creators, first)
    renotified = await _press_again(session, policies, [a for _, a in looked_up], {a.id for a, _ in again}, now)
    for i, alert in looked_up:
        pressed = renotified[alert.id]
        results[i] = Pressed(alert, False, pressed.told, pressed.again, pressed.responder)
    await _record_raised(session, raised, again, first)
    await _schedule_escalation(session, policies, raised, now)
    return results


def _creators(presses: Sequence[Press], replays: dict[str | None, Alert], live: dict[int, Alert]) -> dict[int, Press]:
    """The press that raises each new alarm: the first fresh press of each person with none open."""
    creators: dict[int, Press] = {}
    seen_keys = set(replays)
    for press in presses:
        if press.idempotency_key is not None:
            if press.idempotency_key in seen_keys:
                continue  # a replay (or someone else's key): creates nothing
            seen_keys.add(press.idempotency_key)
        if press.person_id not in live:
            creators.setdefault(press.person_id, press)
    return creators


async def _raise(
    session: AsyncSession,
    policies: dict[int, Policy],
    creators: list[Press],
    first: dict[int, tuple[int, Told]],
    now: dt.datetime,
) -> list[Alert]:
    """The new alarms, in one statement, each at its first tier with someone in it."""
    return await repository.insert_alerts(
        session,
        [
            {
                "person_id": p.person_id,
                "community_id": p.community_id,
                "household_id": p.household_id,
                "source": p.source,
                "idempotency_key": p.idempotency_key,
                "raised_at": now,
                "notified_at": now,
                "tier": first[p.person_id][0],
                "call_emergency_services": policies[p.community_id].calls_emergency_services(first[p.person_id][0]),
                "unanswered_at": None if first[p.person_id][1].ids else now,
            }
            for p in creators
        ],
    )


def _answers(
    presses: Sequence[Press],
    replays: dict[str | None, Alert],
    live: dict[int, Alert],
    creators: dict[int, Press],
    first: dict[int, tuple[int, Told]],
) -> tuple[list[Pressed | InvalidInput], list[tuple[Alert, Press]], list[tuple[int, Alert]]]:
    """Per press, in order: what it did (raised, joined an open alarm, a replay, or refused);
    the presses that joined one; and the answers whose words wait for who was told again."""
    results: list[Pressed | InvalidInput] = []
    again: list[tuple[Alert, Press]] = []
    looked_up: list[tuple[int, Alert]] = []  # (index into results, alert): replies name who was told
    for press in presses:
        replay = replays.get(press.idempotency_key) if press.idempotency_key is not None else None
        if replay is not None:
            if replay.person_id != press.person_id:
                results.append(InvalidInput("idempotencyKey", field="idempotencyKey"))
            else:
                looked_up.append((len(results), replay))
                results.append(Pressed(replay, False))
            continue
        alert = live[press.person_id]
        if creators.get(press.person_id) is press:
            results.append(Pressed(alert, True, first[press.person_id][1].groups))
        else:
            alert.presses += 1
            again.append((alert, press))
            looked_up.append((len(results), alert))
            results.append(Pressed(alert, False))
        if press.idempotency_key is not None:
            replays[press.idempotency_key] = alert
    return results, again, looked_up


async def _record_raised(
    session: AsyncSession, raised: list[Alert], again: list[tuple[Alert, Press]], first: dict[int, tuple[int, Told]]
) -> None:
    """Each alarm's timeline, and the events that tell people (after commit, by the consumers)."""
    timeline = [
        _step(a, "raised", a.person_id, source=a.source.value, told=list(first[a.person_id][1].groups)) for a in raised
    ]
    timeline += [_step(a, "pressed_again", p.person_id, source=p.source.value, presses=a.presses) for a, p in again]
    await repository.add_steps(session, timeline)
    await emit_many(
        session,
        "emergency.raised",
        [{"alert_id": a.id, "tier": a.tier, "to": first[a.person_id][1].ids, "why": "raised"} for a in raised],
    )
    await emit_many(session, "emergency.pressed_again", [{"alert_id": a.id} for a, _ in again])


async def _schedule_escalation(
    session: AsyncSession, policies: dict[int, Policy], raised: list[Alert], now: dt.datetime
) -> None:
    """When a new alarm goes unanswered, the next tier; and when the neighbours are asked."""
    timers: dict[str, list[tuple[dt.datetime, dict[str, int], str]]] = {}
    for a in raised:
        kind, timer = _when_unanswered(policies[a.community_id], a, now)
        timers.setdefault(kind, []).append(timer)
        after_s = policies[a.community_id].volunteers_after_s
        if after_s is not None and a.household_id is not None:
            neighbours_at = now + dt.timedelta(seconds=after_s)
            timers.setdefault(VOLUNTEERS, []).append((neighbours_at, {"alert_id": a.id}, volunteers_key(a.id)))
    for kind, due in timers.items():
        await jobs.schedule_new(session, kind, due)


async def _first_tiers(
    session: AsyncSession, policies: dict[int, Policy], presses: Sequence[Press], at: dt.datetime
) -> dict[int, tuple[int, Told]]:
    """Each new alarm's first tier that has someone to tell (a tier with nobody in it is
    skipped, not waited out), and who: by person. Nobody in any tier: the last tier, nobody."""
    found: dict[int, tuple[int, Told]] = {}
    pending = list(presses)
    n = 1
    while pending:
        asks = [(p, policies[p.community_id].tier(n)) for p in pending]
        for p, tier in asks:
            if tier is None:  # past the last tier: nobody anywhere
                found[p.person_id] = (policies[p.community_id].last.tier, Told())
        asks_here = [(p, tier) for p, tier in asks if tier is not None]
        told = await responders_many(session, [(p, tier.notify) for p, tier in asks_here], on_duty_at=at)
        pending = []
        for (p, _tier), who in zip(asks_here, told, strict=True):
            if who.ids:
                found[p.person_id] = (n, who)
            else:
                pending.append(p)
        n += 1
    return found


async def _press_again(
    session: AsyncSession, policies: dict[int, Policy], alerts: Sequence[Alert], pressed: set[int], now: dt.datetime
) -> dict[int, Pressed]:
    """For presses on an alarm already raised (and replays): who has been told, and, for a
    fresh press, tell them again unless they were told less than a minute ago. On an answered
    alarm that is the person who answered."""
    found: dict[int, Pressed] = {}
    unique = list(dict.fromkeys(alerts))
    if not unique:
        return found  # a burst of first presses: nothing to look up
    answered = {a.id: a.arrived_by_id or a.en_route_by_id or a.acknowledged_by_id for a in unique}
    # A closed alarm (a replay after it was resolved or cancelled) waits for nobody.
    waiting = [a for a in unique if answered[a.id] is None and a.status in LIVE_STATUSES]
    told = await responders_many(
        session, [(a, policies[a.community_id].groups_of(a.tier)) for a in waiting], on_duty_at=now
    )
    responder_ids = [r for r in answered.values() if r is not None]
    names = (
        {p.id: p.name for p in await community_repository.people_by_ids(session, responder_ids)}
        if responder_ids
        else {}
    )
    told_by_alert = {a.id: who for a, who in zip(waiting, told, strict=True)}
    events: list[dict[str, Any]] = []
    due = now - dt.timedelta(seconds=RENOTIFY_EVERY_S)
    for alert in unique:
        responder_id, who = answered[alert.id], told_by_alert.get(alert.id)
        to = who.ids if who is not None else [responder_id] if responder_id is not None else []
        again = (
            alert.id in pressed
            and alert.status in LIVE_STATUSES
            and bool(to)
            and (alert.notified_at is None or alert.notified_at <= due)
        )
        if again:
            alert.notified_at = now
            events.append({"alert_id": alert.id, "tier": alert.tier, "to": to, "why": "again"})
        responder = names.get(responder_id) if responder_id is not None else None
        found[alert.id] = Pressed(alert, False, who.groups if who is not None else (), again, responder)
    await emit_many(session, "emergency.renotify", events)
    return found


async def escalate(session: AsyncSession, *, settings: Settings, alert_id: int, tier: int) -> None:
    """Nobody answered in time: tell the next tier, and schedule what comes after. Staff of
    the tier who are on duty come first; those the tier before held back (off duty) are told
    now, since the people on duty did not answer."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or alert.status != AlertStatus.OPEN or alert.tier >= tier:
        return  # answered meanwhile, or this step already ran
    policy = await policy_of(session, settings, alert)
    step = policy.tier(tier)
    if step is None:
        return
    previous = policy.tier(alert.tier)
    now = utcnow()
    alert.tier, alert.notified_at = tier, now
    if step.call_emergency_services:
        alert.call_emergency_services = True
    [told] = await responders_many(session, [(alert, step.notify)], on_duty_at=now)
    to = told.ids
    if previous is not None:
        [held_back] = await responders_many(session, [(alert, previous.notify)])
        already = (await notify.told_about(session, [alert_ref(alert.id)]))[alert_ref(alert.id)]
        to += [p for p in held_back.ids if p not in already and p not in to]
    _record(session, alert, "escalated", tier=tier, call_emergency_services=alert.call_emergency_services)
    emit(session, "emergency.escalated", {"alert_id": alert.id, "tier": tier, "to": to, "why": "escalated"})
    await _schedule_next(session, policy, alert, now)


async def repeat(session: AsyncSession, *, settings: Settings, alert_id: int) -> None:
    """Past the last tier and still nobody: every tier is told again, everyone with the role
    (on duty or not), and again after `repeat_every_s` until someone answers."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or alert.status != AlertStatus.OPEN:
        return
    policy = await policy_of(session, settings, alert)
    now = utcnow()
    if alert.unanswered_at is None:
        alert.unanswered_at = now
    alert.notified_at = now
    groups = tuple(dict.fromkeys(g for t in policy.tiers for g in t.notify))
    [told] = await responders_many(session, [(alert, groups)])
    _record(session, alert, "repeated", people=len(told.ids))
    emit(session, "emergency.repeated", {"alert_id": alert.id, "tier": alert.tier, "to": told.ids, "why": "repeat"})
    await _schedule_next(session, policy, alert, now)  # past the last tier: the next repeat


async def en_route_overdue(session: AsyncSession, *, settings: Settings, alert_id: int) -> None:
    """En route for too long without arriving: treated as no responder."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or alert.status != AlertStatus.EN_ROUTE:
        return  # arrived, or closed
    alert.status = AlertStatus.OPEN
    _record(session, alert, "en_route_overdue")
    policy = await policy_of(session, settings, alert)
    if policy.tier(alert.tier + 1) is None:
        await repeat(session, settings=settings, alert_id=alert.id)  # already at the last tier
        return
    await escalate(session, settings=settings, alert_id=alert.id, tier=alert.tier + 1)


async def neighbour_volunteers(session: AsyncSession, alert: Alert) -> list[tuple[Person, Volunteer]]:
    """The volunteers of the alarm's grid who agreed to be called, same building first: the
    neighbours who can be at the door in minutes."""
    household = await session.get(Household, alert.household_id) if alert.household_id is not None else None
    building = await session.get(Building, household.building_id) if household is not None else None
    if building is None:
        return []
    rows = await mutual_help.alarm_volunteers_in_grid(session, building.grid_id, besides=alert.person_id)
    found = sorted(rows, key=lambda row: (row[2] != building.id, row[0].id))
    return [(person, volunteer) for person, volunteer, _ in found[:MOST_VOLUNTEERS]]


async def volunteers_to_tell(session: AsyncSession, alert: Alert, zone: ZoneInfo) -> list[Person]:
    """The neighbours to call now, nobody having answered: those in their quiet hours only if
    they chose to be woken. The step goes on the timeline."""
    found = await neighbour_volunteers(session, alert)
    prefs = await preferences.settings_of_many(session, [p.id for p, _ in found])
    now = utcnow()
    chosen = [p for p, v in found if v.alarms_in_quiet_hours or preferences.quiet_until(prefs[p.id], now, zone) is None]
    _record(session, alert, "volunteers_told", told=len(chosen), quiet=len(found) - len(chosen))
    return chosen


async def volunteer_going(session: AsyncSession, actor: Actor, *, alert_id: int) -> Alert:
    """A neighbour who volunteers says 我去: on the timeline, and the elder and everyone told
    hear someone is coming. The ladder goes on: a neighbour is help, not the answer."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or actor.id not in {p.id for p, _ in await neighbour_volunteers(session, alert)}:
        raise NotFound()
    if alert.status not in LIVE_STATUSES:
        raise AlertClosed()
    _record(session, alert, "volunteer_going", actor.id)
    emit(session, "emergency.updated", {"alert_id": alert.id, "change": "volunteer_going", "by": actor.id})
    return alert


async def seen_by(session: AsyncSession, actor: Actor, alert_id: int) -> Alert | None:
    """The alarm as its elder or one of its responders sees it; None for anyone else."""
    alert = await repository.get(session, alert_id)
    if alert is None or (alert.person_id != actor.id and not await can_respond(session, actor, alert)):
        return None
    return alert


async def can_respond(session: AsyncSession, actor: Actor, alert: Alert) -> bool:
    if actor.is_staff_of(alert.community_id):
        return True
    return actor.id in await rules.family_receiving_alerts(session, alert.person_id)


async def _for_responder(session: AsyncSession, actor: Actor, alert_id: int) -> Alert:
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or not await can_respond(session, actor, alert):
        raise NotFound()
    if alert.status not in LIVE_STATUSES:
        raise AlertClosed()
    return alert


async def acknowledge(session: AsyncSession, actor: Actor, *, alert_id: int) -> Alert:
    alert = await _for_responder(session, actor, alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), actor.id
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
    await _cancel_chasing(session, alert)
    _record(session, alert, "acknowledged", actor.id)
    emit(session, "emergency.updated", {"alert_id": alert.id, "change": "acknowledged", "by": actor.id})
    return alert


async def mark_en_route(session: AsyncSession, actor: Actor, *, settings: Settings, alert_id: int) -> Alert:
    alert = await _for_responder(session, actor, alert_id)
    if alert.status == AlertStatus.ARRIVED:
        return alert  # someone is already there
    now = utcnow()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = now, actor.id
    alert.status, alert.en_route_at, alert.en_route_by_id = AlertStatus.EN_ROUTE, now, actor.id
    await _cancel_chasing(session, alert)
    policy = await policy_of(session, settings, alert)
    await jobs.schedule(
        session,
        EN_ROUTE_CHECK,
        now + dt.timedelta(seconds=policy.en_route_timeout_s),
        {"alert_id": alert.id},
        key=en_route_key(alert.id),
    )
    _record(session, alert, "en_route", actor.id)
    emit(session, "emergency.updated", {"alert_id": alert.id, "change": "en_route", "by": actor.id})
    return alert


async def mark_arrived(session: AsyncSession, actor: Actor, *, alert_id: int) -> Alert:
    """A responder is with the elder: the en-route check stops here, not at resolution."""
    alert = await _for_responder(session, actor, alert_id)
    now = utcnow()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = now, actor.id
    alert.status, alert.arrived_at, alert.arrived_by_id = AlertStatus.ARRIVED, now, actor.id
    await _cancel_chasing(session, alert)
    await jobs.cancel(session, en_route_key(alert.id))
    _record(session, alert, "arrived", actor.id)
    emit(session, "emergency.updated", {"alert_id": alert.id, "change": "arrived", "by": actor.id})
    return alert


async def _close(
    session: AsyncSession, alert: Alert, actor: Actor, status: AlertStatus, outcome: Outcome, note: str | None
) -> Alert:
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput("note", field="note")
    alert.status, alert.outcome, alert.note = status, outcome, note
    alert.closed_at, alert.closed_by_id = utcnow(), actor.id
    await _cancel_chasing(session, alert)
    await jobs.cancel(session, en_route_key(alert.id))
    _record(session, alert, status.value, actor.id, outcome=outcome.value)
    emit(
        session,
        "emergency.updated",
        {"alert_id": alert.id, "change": status.value, "by": actor.id, "outcome": outcome.value},
    )
    return alert


async def resolve(session: AsyncSession, actor: Actor, *, alert_id: int, outcome: Outcome, note: str | None) -> Alert:
    alert = await _for_responder(session, actor, alert_id)
    return await _close(session, alert, actor, AlertStatus.RESOLVED, outcome, note)


async def cancel(session: AsyncSession, actor: Actor, *, alert_id: int) -> Alert:
    """The elder pressed by mistake: recorded, responders told, nothing deleted."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or alert.person_id != actor.id:
        raise NotFound()
    if alert.status not in LIVE_STATUSES:
        raise AlertClosed()
    return await _close(session, alert, actor, AlertStatus.CANCELLED, Outcome.FALSE_ALARM, None)


_ROLE_GROUPS = {
    "community_staff": Role.GRID_WORKER,
    "service_centre": Role.SERVICE_CENTRE,
    "admin": Role.ADMIN,
}


async def responders_many(
    session: AsyncSession, asks: Sequence[tuple[Place, tuple[str, ...]]], *, on_duty_at: dt.datetime | None = None
) -> list[Told]:
    """Who to tell about each alarm (the elder never), by group, with a few queries for all
    of them. With `on_duty_at`, a staff group goes to those of it on the duty rota then, and
    to all of it only when none of it is on duty."""
    households = {a.household_id for a, groups in asks if "grid_worker" in groups and a.household_id is not None}
    workers = await repository.grid_workers_of_households(session, households) if households else {}
    elders = {a.person_id for a, groups in asks if "family" in groups}
    families = await rules.families_receiving_alerts(session, elders) if elders else {}
    staffed = {a.community_id for a, groups in asks if set(groups) & set(_ROLE_GROUPS)}
    on_duty = await duty.on_duty(session, staffed, on_duty_at) if on_duty_at is not None and staffed else {}
    by_role: dict[tuple[int, str], list[int]] = {}
    found: list[Told] = []
    for alert, groups in asks:
        told: dict[str, list[int]] = {}
        for group in groups:
            people: list[int] = []
            if group == "grid_worker" and alert.household_id is not None:
                people = workers.get(alert.household_id, [])
            elif group == "family":
                people = families.get(alert.person_id, [])
            elif group in _ROLE_GROUPS:
                key = (alert.community_id, group)
                if key not in by_role:
                    by_role[key] = await community_repository.with_role(
                        session, alert.community_id, [_ROLE_GROUPS[group]]
                    )
                people = by_role[key]
                working = on_duty.get(alert.community_id, set())
                people = [p for p in people if p in working] or people
            told[group] = [p for p in people if p != alert.person_id]
        found.append(Told(told))
    return found


async def as_it_stands(session: AsyncSession, settings: Settings, alert_id: int) -> Pressed | None:
    """An alarm as the one who raised it hears it now, without pressing again: who has been
    told, or who answered (the phone line reads each change to a caller who stays on)."""
    alert = await repository.get(session, alert_id)
    if alert is None:
        return None
    policies = await policies_of(session, settings, {alert.community_id})
    return (await _press_again(session, policies, [alert], set(), utcnow()))[alert.id]


def reply_text(catalog: Catalog, locale: str, pressed: Pressed) -> str:
    """What the elder hears after pressing: who was told, by role, and "again" only when
    someone was told again."""
    status = pressed.alert.status
    if status == AlertStatus.RESOLVED:
        return catalog.text(locale, "emergency.resolved")
    if status == AlertStatus.CANCELLED:
        return catalog.text(locale, "emergency.reply.cancelled")
    if pressed.responder is not None and status == AlertStatus.ARRIVED and not pressed.again:
        return catalog.text(locale, "emergency.arrived", responder=pressed.responder)
    if pressed.responder is not None:
        coming = status in (AlertStatus.EN_ROUTE, AlertStatus.ARRIVED)
        key = "emergency.reply.coming" if coming else "emergency.reply.answered"
        return catalog.text(locale, key + ("_again" if pressed.again else ""), responder=pressed.responder)
    if not pressed.told:
        return catalog.text(locale, "emergency.reply.nobody")
    names = [catalog.text(locale, f"emergency.group.{g}") for g in pressed.told]
    who = names[-1]
    if len(names) > 1:
        who = (
            catalog.text(locale, "emergency.group.join").join(names[:-1])
            + catalog.text(locale, "emergency.group.and")
            + who
        )
    key = "told" if pressed.new else "told_again" if pressed.again else "waiting"
    return catalog.text(locale, f"emergency.reply.{key}", who=who)


async def visible_alert(session: AsyncSession, actor: Actor, alert_id: int) -> Alert:
    """The elder, staff of the community, and family receiving alerts; nobody else."""
    alert = await repository.get(session, alert_id)
    if alert is None or (alert.person_id != actor.id and not await can_respond(session, actor, alert)):
        raise NotFound()
    return alert


@dataclass(frozen=True)
class Step:
    """One line of an alarm's story: what happened, when, by whom, and the details."""

    kind: str
    at: dt.datetime
    actor_name: str | None
    detail: Any  # JSON


async def timeline(
    session: AsyncSession, alert: Alert, names_of: Callable[[list[int]], Awaitable[list[str | None]]]
) -> list[Step]:
    """Everything that happened to an alarm, oldest first: its own steps and every attempt to
    tell someone (by whom, which path, whether it arrived). `names_of` gives people's names in
    order (a request batches them across alarms)."""
    steps = await repository.timeline(session, alert.id)
    attempts = await notify.record_about(session, alert_ref(alert.id))
    actors = await names_of([s.actor_id or 0 for s in steps])
    told = await names_of([person_id for _, person_id in attempts])
    story = [Step(s.kind, s.at, name, s.detail) for s, name in zip(steps, actors, strict=True)]
    story += [
        Step(
            "notified",
            d.at,
            None,
            {
                "person": name,
                "path": d.path,
                "result": d.result,
                "detail": d.detail,
                "confirmedAt": d.confirmed_at.isoformat() if d.confirmed_at else None,
            },
        )
        for (d, _), name in zip(attempts, told, strict=True)
    ]
    return sorted(story, key=lambda step: step.at)
