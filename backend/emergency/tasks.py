"""Escalation timers and the alarm notifications: every responder of a tier is told, on their
first path at once and on the next ones until a device confirms (FCM does not reach mainland
China); every attempt is on the alarm's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, jobs, live
from backend.access import rules
from backend.community import repository as community
from backend.community.models import Household, Person
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.emergency import repository, service
from backend.emergency.models import LIVE_STATUSES, Alert, AlertSource, AlertStatus
from backend.events import Event, consumer, group_consumer
from backend.gateways.sms import Sms
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


@jobs.job_handler(service.REPEAT)
async def run_repeat(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.repeat(session, settings=parts.settings, alert_id=int(run.payload["alert_id"]))


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
    why: str,
    alert: Alert,
    elder: Person,
    household: Household | None,
    locale: str,
    catalog: Catalog,
    tz: ZoneInfo,
) -> str:
    params = {
        "name": elder.name,
        "age": elder.age(clock.today(tz)) or "",
        "address": household.address if household else "",
        "minutes": max(1, int((utcnow() - alert.raised_at).total_seconds() // 60)),
        "presses": alert.presses,
    }
    if why == "again":
        return catalog.text(locale, "emergency.again_body", **params)
    if why == "repeat":
        return catalog.text(locale, "emergency.unanswered_body", **params)
    if alert.call_emergency_services:
        return catalog.text(locale, "emergency.call_120_body", **params)
    if why == "escalated":
        return catalog.text(locale, "emergency.escalated_body", **params)
    if alert.source == AlertSource.FALL:
        return catalog.text(locale, "emergency.fall_body", **params)
    if alert.source == AlertSource.VITALS:
        return catalog.text(locale, "emergency.vitals_body", **params)
    return catalog.text(locale, "emergency.alarm_body", **params)


async def _notify_tiers(session: AsyncSession, group: list[Event], parts: Parts) -> None:
    """Tell the people each event names (a tier raised or escalated to, a second press, a
    repeat after the last tier), for all the alarms of the group together: a handful of
    queries and one round of pushes, each responder's phone getting one push."""
    alerts = await repository.get_many(session, {int(ev.payload["alert_id"]) for ev in group})
    asks: list[tuple[Alert, str, list[int]]] = []
    for ev in group:
        alert = alerts.get(int(ev.payload["alert_id"]))
        if alert is None or alert.status not in LIVE_STATUSES:
            continue
        why = str(ev.payload.get("why", "raised"))
        if alert.status != AlertStatus.OPEN and why != "again":
            continue  # answered before anyone needed telling
        asks.append((alert, why, [int(p) for p in ev.payload.get("to", [])]))
    if not asks:
        return
    elders = {p.id: p for p in await community.people_by_ids(session, list({a.person_id for a, _, _ in asks}))}
    home_ids = list({a.household_id for a, _, _ in asks if a.household_id is not None})
    homes = {h.id: h for h in await community.households_by_ids(session, home_ids)}
    people = {p.id: p for p in await community.people_by_ids(session, list({p for _, _, ids in asks for p in ids}))}
    outgoing: list[notify.Outgoing] = []
    for alert, why, person_ids in asks:
        elder = elders.get(alert.person_id)
        if elder is None:
            continue
        home = homes.get(alert.household_id) if alert.household_id is not None else None
        # A second press on an answered alarm goes to the one who answered, as news, not as
        # an alarm to chase (it is answered).
        answered = alert.status != AlertStatus.OPEN
        for person_id in person_ids:
            person = people.get(person_id)
            if person is None:
                continue
            body = _alarm_text(why, alert, elder, home, person.locale, parts.catalog, parts.settings.zone)
            # Stored with its delivery record; the first path now, the next after 10 s unconfirmed.
            outgoing.append(
                notify.Outgoing(
                    person,
                    kind="emergency",
                    title=parts.catalog.text(person.locale, "emergency.alarm_title"),
                    body=body,
                    data={"kind": "emergency", "alertId": str(alert.id), "tier": str(alert.tier)},
                    urgency=Urgency.PROMPT if answered else Urgency.EMERGENCY,
                    ref=service.update_ref(alert.id) if answered else service.alert_ref(alert.id),
                    # An alarm goes as the alarm template anyway; news to the one who answered
                    # is still about an alarm.
                    sms=Sms("alarm", {"summary": body}) if answered else None,
                )
            )
    await notify.send_many(session, parts, outgoing)
    for alert, _why, person_ids in asks:
        _tell_live(session, alert, person_ids)


def _tell_live(session: AsyncSession, alert: Alert, person_ids: Sequence[int]) -> None:
    """Open apps and consoles see the alarm change once it is committed."""
    message = {"kind": "emergency", "alert_id": alert.id}
    channels = [*(person_channel(p) for p in person_ids), community_channel(alert.community_id)]
    live.after_commit(session, [(channel, message) for channel in channels])


for _topic in ("emergency.raised", "emergency.escalated", "emergency.renotify", "emergency.repeated"):
    group_consumer(_topic, name=f"emergency.notify.{_topic}")(_notify_tiers)


@consumer("emergency.pressed_again", name="emergency.live.pressed_again")
async def show_second_press(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Open apps and consoles see the press count rise."""
    alert = await repository.get(session, int(event.payload["alert_id"]))
    if alert is not None:
        told = (await notify.told_about(session, [service.alert_ref(alert.id)]))[service.alert_ref(alert.id)]
        _tell_live(session, alert, [alert.person_id, *told])


@consumer("emergency.updated", name="emergency.story.updated")
async def tell_everyone_involved(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Every step of the alarm (answered, on the way, arrived, resolved, cancelled) reaches the
    elder, family receiving alerts and everyone told of the alarm, on their own paths; the one
    who took the step knows already."""
    alert = await repository.get(session, int(event.payload["alert_id"]))
    if alert is None:
        return
    elder = await session.get(Person, alert.person_id)
    if elder is None:
        return
    change = str(event.payload["change"])
    by_id = int(event.payload["by"])
    ref = service.alert_ref(alert.id)
    told = (await notify.told_about(session, [ref]))[ref]
    family = await rules.family_receiving_alerts(session, alert.person_id)
    involved = [p for p in dict.fromkeys([*family, *sorted(told)]) if p not in (by_id, alert.person_id)]
    _tell_live(session, alert, [alert.person_id, *involved, by_id])
    people = {p.id: p for p in await community.people_by_ids(session, [by_id, *involved])}
    by = people.get(by_id)
    responder = by.name if by else ""
    outcome = str(event.payload.get("outcome", ""))
    data = {"kind": "emergency", "alertId": str(alert.id), "change": change}
    outgoing: list[notify.Outgoing] = []
    if by_id != alert.person_id:
        text = parts.catalog.text(elder.locale, f"emergency.{change}", responder=responder)
        title = parts.catalog.text(elder.locale, "emergency.update_title")
        outgoing.append(
            notify.Outgoing(elder, "emergency", title, text, data, Urgency.PROMPT, service.update_ref(alert.id))
        )
    for person_id in involved:
        person = people.get(person_id)
        if person is None:
            continue
        words = _update_words(parts.catalog, person.locale, change, responder=responder, outcome=outcome)
        text = (
            parts.catalog.text(person.locale, "emergency.cancelled", name=elder.name)
            if change == "cancelled"
            else parts.catalog.text(person.locale, "emergency.responders_update", name=elder.name, status=words)
        )
        outgoing.append(
            notify.Outgoing(
                person,
                "emergency",
                parts.catalog.text(person.locale, "emergency.update_title"),
                text,
                data,
                Urgency.PROMPT,
                service.update_ref(alert.id),
                Sms("alarm_update", {"name": elder.name, "status": words}),
            )
        )
    await notify.send_many(session, parts, outgoing)


def _update_words(catalog: Catalog, locale: str, change: str, *, responder: str, outcome: str) -> str:
    """The step in a few words ("张网格正在赶往", "已处理：送医")."""
    if change == "resolved" and outcome:
        return catalog.text(
            locale, "emergency.update.resolved", outcome=catalog.text(locale, f"emergency.outcome.{outcome}")
        )
    return catalog.text(locale, f"emergency.update.{change}", responder=responder)


@jobs.job_handler(service.VOLUNTEERS)
async def call_neighbours(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """Nobody has answered yet: the neighbours who volunteer are asked to look in."""
    alert = await repository.get(session, int(run.payload["alert_id"]))
    if alert is None or alert.status != AlertStatus.OPEN:
        return  # answered before the neighbours were needed
    elder = await session.get(Person, alert.person_id)
    home = await session.get(Household, alert.household_id) if alert.household_id is not None else None
    if elder is None or home is None:
        return
    people = await service.volunteers_to_tell(session, alert, parts.settings.zone)
    catalog = parts.catalog
    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind="emergency",
                title=catalog.text(p.locale, "emergency.alarm_title"),
                body=catalog.text(p.locale, "emergency.volunteer_body", name=elder.name, address=home.address),
                data={"kind": "emergency", "alertId": str(alert.id), "volunteer": "1"},
                # Reaches them on their own paths, and stops being chased once someone answers.
                urgency=Urgency.PROMPT,
                ref=service.alert_ref(alert.id),
            )
            for p in people
        ],
    )
    _tell_live(session, alert, [p.id for p in people])
