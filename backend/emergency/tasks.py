"""Escalation timers and the alarm notifications: every responder of a tier is told, on their
first path at once and on the next ones until a device confirms (FCM does not reach mainland
China); every attempt is on the alarm's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, jobs, live
from backend.community import repository as community
from backend.community.models import Household, Person
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.emergency import repository, service
from backend.emergency.models import Alert, AlertStatus
from backend.events import Event, consumer, group_consumer
from backend.jobs import JobRun
from backend.live import person_channel
from backend.notify import service as notify
from backend.notify.models import Urgency
from backend.parts import Parts


@jobs.job_handler(service.ESCALATE)
async def run_escalation(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.escalate(
        session,
        settings=parts.settings,
        alert_id=int(run.payload["alert_id"]),
        tier=int(run.payload["tier"]),
    )


@jobs.job_handler(service.EN_ROUTE_CHECK)
async def run_en_route_check(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.en_route_overdue(session, settings=parts.settings, alert_id=int(run.payload["alert_id"]))


async def _alarm_still_open(session: AsyncSession, ref: str) -> bool:
    alert = await repository.get(session, int(ref.partition(":")[2]))
    return alert is not None and alert.status == AlertStatus.OPEN


notify.register_ref_check("alert", _alarm_still_open)


def community_channel(community_id: int) -> str:
    return f"community:{community_id}:emergency"


def _alarm_text(
    alert: Alert, elder: Person, household: Household | None, locale: str, catalog: Catalog, tz: ZoneInfo
) -> str:
    params = {
        "name": elder.name,
        "age": elder.age(clock.today(tz)) or "",
        "address": household.address if household else "",
        "minutes": max(1, int((utcnow() - alert.raised_at).total_seconds() // 60)),
    }
    if alert.call_emergency_services:
        return catalog.text(locale, "emergency.call_120_body", **params)
    if alert.tier > 1:
        return catalog.text(locale, "emergency.escalated_body", **params)
    return catalog.text(locale, "emergency.alarm_body", **params)


async def _notify_tiers(session: AsyncSession, group: list[Event], parts: Parts) -> None:
    """Tell each alarm's tier, for all the alarms raised (or escalated) together: a handful of
    queries and one round of pushes for the group, each responder's phone getting one push."""
    alerts = await repository.get_many(session, {int(ev.payload["alert_id"]) for ev in group})
    policies = await service.policies_of(session, parts.settings, {a.community_id for a in alerts.values()})
    asks: list[tuple[Alert, tuple[str, ...]]] = []
    for ev in group:
        alert = alerts.get(int(ev.payload["alert_id"]))
        if alert is None or alert.status != AlertStatus.OPEN:
            continue  # answered before anyone needed telling
        step = policies[alert.community_id].tier(int(ev.payload.get("tier", alert.tier)))
        if step is not None:
            asks.append((alert, step.notify))
    if not asks:
        return
    told = await service.responders_many(session, asks)
    elders = {p.id: p for p in await community.people_by_ids(session, list({a.person_id for a, _ in asks}))}
    home_ids = list({a.household_id for a, _ in asks if a.household_id is not None})
    homes = {h.id: h for h in await community.households_by_ids(session, home_ids)}
    people = {p.id: p for p in await community.people_by_ids(session, list({p for ids in told for p in ids}))}
    outgoing: list[notify.Outgoing] = []
    for (alert, _groups), person_ids in zip(asks, told, strict=True):
        elder = elders.get(alert.person_id)
        if elder is None:
            continue
        home = homes.get(alert.household_id) if alert.household_id is not None else None
        for person_id in person_ids:
            person = people.get(person_id)
            if person is None:
                continue
            # Stored with its delivery record; the first path now, the next after 10 s unconfirmed.
            outgoing.append(
                notify.Outgoing(
                    person,
                    kind="emergency",
                    title=parts.catalog.text(person.locale, "emergency.alarm_title"),
                    body=_alarm_text(alert, elder, home, person.locale, parts.catalog, parts.settings.zone),
                    data={"kind": "emergency", "alertId": str(alert.id), "tier": str(alert.tier)},
                    urgency=Urgency.EMERGENCY,
                    ref=service.alert_ref(alert.id),
                )
            )
    await notify.send_many(session, parts, outgoing)
    for alert, person_ids in zip((a for a, _ in asks), told, strict=True):
        _tell_live(session, alert, person_ids)


def _tell_live(session: AsyncSession, alert: Alert, person_ids: Sequence[int]) -> None:
    """Open apps and consoles see the alarm change once it is committed."""
    message = {"kind": "emergency", "alert_id": alert.id}
    channels = [*(person_channel(p) for p in person_ids), community_channel(alert.community_id)]
    live.after_commit(session, [(channel, message) for channel in channels])


for _topic in ("emergency.raised", "emergency.escalated"):
    group_consumer(_topic, name=f"emergency.notify.{_topic}")(_notify_tiers)


@consumer("emergency.pressed_again", name="emergency.live.pressed_again")
@consumer("emergency.updated", name="emergency.live.updated")
async def tell_everyone_involved(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Every change reaches the elder and everyone told so far, live; the elder also in words."""
    alert = await repository.get(session, int(event.payload["alert_id"]))
    if alert is None:
        return
    elder = await session.get(Person, alert.person_id)
    if elder is None:
        return
    policy = await service.policy_of(session, parts.settings, alert)
    groups = tuple(g for t in policy.tiers if t.tier <= alert.tier for g in t.notify)
    involved = await service.responders(session, alert, groups)
    _tell_live(session, alert, [alert.person_id, *involved])
    change = event.payload.get("change")
    if change in ("acknowledged", "en_route", "resolved"):
        by = await session.get(Person, int(event.payload["by"]))
        text = parts.catalog.text(elder.locale, f"emergency.{change}", responder=by.name if by else "")
        await notify.tell(
            session,
            parts,
            elder,
            title=parts.catalog.text(elder.locale, "emergency.update_title"),
            text=text,
            data={"kind": "emergency", "alertId": str(alert.id)},
        )
