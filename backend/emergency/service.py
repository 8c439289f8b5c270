"""The rules of an alarm: raise (or join), escalate until a person answers, and close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.community import repository as community_repository
from backend.community.models import Community, Person, Role
from backend.config import Settings
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
from backend.emergency.policy import Policy, checked, default_policy, from_json
from backend.errors import InvalidInput, NotFound
from backend.events import emit, emit_many
from backend.notify import service as notify

ESCALATE = "emergency.escalate"
EN_ROUTE_CHECK = "emergency.en_route_check"
MAX_NOTE = 500


def _record(session: AsyncSession, alert: Alert, kind: str, actor_id: int | None = None, **detail: object) -> None:
    session.add(AlertEvent(**_step(alert, kind, actor_id, **detail)))


def _step(alert: Alert, kind: str, actor_id: int | None = None, **detail: object) -> dict[str, object]:
    """A line of the alarm's timeline."""
    return {"alert_id": alert.id, "kind": kind, "actor_id": actor_id, "detail": detail, "at": utcnow()}


def alert_ref(alert_id: int) -> str:
    """What the alarm's notifications are about: answering it stops chasing responders."""
    return f"alert:{alert_id}"


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
    rows = await session.execute(
        select(Community.id, Community.code, EscalationPolicy.tiers, EscalationPolicy.en_route_timeout_s)
        .outerjoin(EscalationPolicy, EscalationPolicy.community_id == Community.id)
        .where(Community.id.in_(wanted))
    )
    found = {
        cid: from_json(tiers, timeout) if tiers is not None else default_policy(settings.content_dir, code)
        for cid, code, tiers, timeout in rows
    }
    return {cid: found.get(cid) or default_policy(settings.content_dir, "") for cid in wanted}


POLICY_EDITORS = frozenset({Role.ADMIN, Role.SERVICE_CENTRE})


async def set_policy(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    tiers: Sequence[tuple[int, Sequence[str], bool]],
    en_route_timeout_s: int,
) -> Policy:
    """The community's admins and service centre decide who is told and when. It applies to
    the next escalation step of every alarm, open ones included; steps already due keep
    their time."""
    if not actor.roles_in(community_id) & POLICY_EDITORS:
        raise NotFound()
    policy = checked(tiers, en_route_timeout_s)
    row = await session.get(EscalationPolicy, community_id, with_for_update=True)
    if row is None:
        row = EscalationPolicy(community_id=community_id)
        session.add(row)
    row.tiers, row.en_route_timeout_s = policy.tiers_as_json(), policy.en_route_timeout_s
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    return policy


def _next_tier_job(policy: Policy, alert: Alert, after: dt.datetime) -> tuple[dt.datetime, dict[str, int], str] | None:
    """The escalation timer to the next tier, if there is one: (when, payload, key)."""
    nxt = policy.tier(alert.tier + 1)
    current = policy.tier(alert.tier)
    if nxt is None:
        return None
    delay = nxt.after_s - (current.after_s if current else 0)
    return after + dt.timedelta(seconds=max(0, delay)), {"alert_id": alert.id, "tier": nxt.tier}, escalate_key(alert.id)


async def _schedule_next_tier(session: AsyncSession, policy: Policy, alert: Alert, after: dt.datetime) -> None:
    job = _next_tier_job(policy, alert, after)
    if job is not None:
        run_at, payload, key = job
        await jobs.schedule(session, ESCALATE, run_at, payload, key=key)


@dataclass(frozen=True)
class Press:
    """One press of the button, from any front door."""

    person_id: int
    household_id: int | None
    community_id: int
    source: AlertSource
    idempotency_key: str | None = None


def check_key(key: str | None) -> None:
    """A press's idempotency key, refused before anything is stored if malformed."""
    if key is not None and not 8 <= len(key) <= 100:
        raise InvalidInput("idempotencyKey", field="idempotencyKey")


async def trigger_many(
    session: AsyncSession, *, settings: Settings, presses: Sequence[Press]
) -> list[tuple[Alert, bool] | InvalidInput]:
    """Store the alarms (and the events to tell people) of presses that arrived together, in
    the caller's transaction, before anyone is answered: a few statements for the whole group
    rather than a few per press.

    Per press: (alert, new), or the error for that press alone. A replayed request returns
    the same alarm; a second press while an alarm is open joins it and raises its urgency."""
    keys = {p.idempotency_key for p in presses if p.idempotency_key is not None}
    replays = {a.idempotency_key: a for a in await repository.by_idempotency_keys(session, keys)}
    person_ids = sorted({p.person_id for p in presses})
    await repository.lock_people(session, person_ids)
    live = {a.person_id: a for a in await repository.live_alerts_of(session, person_ids)}
    now = utcnow()
    # First the new alarms, in one statement: the first fresh press of each person with none open.
    creators: dict[int, Press] = {}
    seen_keys = set(replays)
    for press in presses:
        if press.idempotency_key is not None:
            if press.idempotency_key in seen_keys:
                continue  # a replay (or someone else's key): creates nothing
            seen_keys.add(press.idempotency_key)
        if press.person_id not in live:
            creators.setdefault(press.person_id, press)
    raised = await repository.insert_alerts(
        session,
        [
            {
                "person_id": p.person_id,
                "community_id": p.community_id,
                "household_id": p.household_id,
                "source": p.source,
                "idempotency_key": p.idempotency_key,
                "raised_at": now,
            }
            for p in creators.values()
        ],
    )
    live.update((a.person_id, a) for a in raised)
    results: list[tuple[Alert, bool] | InvalidInput] = []
    again: list[tuple[Alert, Press]] = []
    for press in presses:
        replay = replays.get(press.idempotency_key) if press.idempotency_key is not None else None
        if replay is not None:
            same_person = replay.person_id == press.person_id
            results.append((replay, False) if same_person else InvalidInput("idempotencyKey", field="idempotencyKey"))
            continue
        alert = live[press.person_id]
        if creators.get(press.person_id) is press:
            results.append((alert, True))
        else:
            alert.presses += 1
            again.append((alert, press))
            results.append((alert, False))
        if press.idempotency_key is not None:
            replays[press.idempotency_key] = alert
    policies = await policies_of(session, settings, {a.community_id for a in raised}) if raised else {}
    timeline = [_step(a, "raised", a.person_id, source=a.source.value) for a in raised]
    timeline += [_step(a, "pressed_again", p.person_id, source=p.source.value, presses=a.presses) for a, p in again]
    await repository.add_steps(session, timeline)
    await emit_many(session, "emergency.raised", [{"alert_id": a.id, "tier": 1} for a in raised])
    await emit_many(session, "emergency.pressed_again", [{"alert_id": a.id} for a, _ in again])
    timers = [_next_tier_job(policies[a.community_id], a, now) for a in raised]
    await jobs.schedule_new(session, ESCALATE, [t for t in timers if t is not None])
    return results


async def trigger(
    session: AsyncSession,
    *,
    settings: Settings,
    person: Person,
    source: AlertSource,
    idempotency_key: str | None = None,
    community_id: int,
) -> tuple[Alert, bool]:
    """One press in the caller's transaction (the group path with a group of one)."""
    press = Press(person.id, person.household_id, community_id, source, idempotency_key)
    check_key(press.idempotency_key)
    [result] = await trigger_many(session, settings=settings, presses=[press])
    if isinstance(result, InvalidInput):
        raise result
    return result


async def escalate(session: AsyncSession, *, settings: Settings, alert_id: int, tier: int) -> None:
    """Nobody answered in time: tell the next tier, and schedule the one after."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or alert.status != AlertStatus.OPEN or alert.tier >= tier:
        return  # answered meanwhile, or this step already ran
    policy = await policy_of(session, settings, alert)
    step = policy.tier(tier)
    if step is None:
        return
    alert.tier = tier
    if step.call_emergency_services:
        alert.call_emergency_services = True
    _record(session, alert, "escalated", tier=tier, call_emergency_services=alert.call_emergency_services)
    emit(session, "emergency.escalated", {"alert_id": alert.id, "tier": tier})
    await _schedule_next_tier(session, policy, alert, utcnow())


async def en_route_overdue(session: AsyncSession, *, settings: Settings, alert_id: int) -> None:
    """En route for too long without arriving: treated as no responder."""
    alert = await repository.get(session, alert_id, for_update=True)
    if alert is None or alert.status != AlertStatus.EN_ROUTE:
        return
    alert.status = AlertStatus.OPEN
    _record(session, alert, "en_route_overdue")
    policy = await policy_of(session, settings, alert)
    next_tier = alert.tier + 1 if policy.tier(alert.tier + 1) else alert.tier
    alert.tier = next_tier - 1  # escalate() moves it to next_tier and tells them
    await escalate(session, settings=settings, alert_id=alert.id, tier=next_tier)


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
    await jobs.cancel(session, escalate_key(alert.id))
    await notify.settle(session, alert_ref(alert.id))
    _record(session, alert, "acknowledged", actor.id)
    emit(session, "emergency.updated", {"alert_id": alert.id, "change": "acknowledged", "by": actor.id})
    return alert


async def mark_en_route(session: AsyncSession, actor: Actor, *, settings: Settings, alert_id: int) -> Alert:
    alert = await _for_responder(session, actor, alert_id)
    now = utcnow()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = now, actor.id
    alert.status, alert.en_route_at, alert.en_route_by_id = AlertStatus.EN_ROUTE, now, actor.id
    await jobs.cancel(session, escalate_key(alert.id))
    await notify.settle(session, alert_ref(alert.id))
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


async def _close(
    session: AsyncSession, alert: Alert, actor: Actor, status: AlertStatus, outcome: Outcome, note: str | None
) -> Alert:
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput("note", field="note")
    alert.status, alert.outcome, alert.note = status, outcome, note
    alert.closed_at, alert.closed_by_id = utcnow(), actor.id
    await jobs.cancel(session, escalate_key(alert.id))
    await jobs.cancel(session, en_route_key(alert.id))
    await notify.settle(session, alert_ref(alert.id))
    _record(session, alert, status.value, actor.id, outcome=outcome.value)
    emit(session, "emergency.updated", {"alert_id": alert.id, "change": status.value, "by": actor.id})
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


async def responders(session: AsyncSession, alert: Alert, groups: tuple[str, ...]) -> list[int]:
    return (await responders_many(session, [(alert, groups)]))[0]


_ROLE_GROUPS = {
    "community_staff": Role.GRID_WORKER,
    "service_centre": Role.SERVICE_CENTRE,
    "admin": Role.ADMIN,
}


async def responders_many(session: AsyncSession, asks: Sequence[tuple[Alert, tuple[str, ...]]]) -> list[list[int]]:
    """Who to tell about each alarm (the elder never), with a few queries for all of them."""
    households = {a.household_id for a, groups in asks if "grid_worker" in groups and a.household_id is not None}
    workers = await repository.grid_workers_of_households(session, households) if households else {}
    elders = {a.person_id for a, groups in asks if "family" in groups}
    families = await rules.families_receiving_alerts(session, elders) if elders else {}
    by_role: dict[tuple[int, str], list[int]] = {}
    found: list[list[int]] = []
    for alert, groups in asks:
        people: list[int] = []
        for group in groups:
            if group == "grid_worker" and alert.household_id is not None:
                people += workers.get(alert.household_id, [])
            elif group == "family":
                people += families.get(alert.person_id, [])
            elif group in _ROLE_GROUPS:
                key = (alert.community_id, group)
                if key not in by_role:
                    by_role[key] = await community_repository.with_role(
                        session, alert.community_id, [_ROLE_GROUPS[group]]
                    )
                people += by_role[key]
        found.append(list(dict.fromkeys(p for p in people if p != alert.person_id)))
    return found


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
