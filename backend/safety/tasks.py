"""What follows an official warning and a roll-call: residents told on their own paths (and,
for a severe warning, every path), a roll-call started by the community's policy, the
warning taken off when its time is up, and the homes that did not answer followed up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.community import repository as community_repository
from backend.community.models import Household, Person
from backend.events import Event, consumer
from backend.jobs import JobRun
from backend.notify import service as notify
from backend.notify.models import Urgency
from backend.parts import Parts
from backend.safety import roll_call, service
from backend.safety.models import OfficialWarning, RollCall, Severity


async def _residents(session: AsyncSession, household_ids: list[int]) -> list[Person]:
    rows = await session.scalars(
        select(Person).where(Person.household_id.in_(household_ids), Person.deleted_at.is_(None)).order_by(Person.id)
    )
    return list(rows)


async def _homes_of(session: AsyncSession, community_id: int) -> list[int]:
    return list((await session.scalars(select(Household.id).where(Household.community_id == community_id))).all())


@consumer(service.ISSUED, name="safety.tell_residents")
async def tell_residents(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Everyone living in the area hears it on their own paths; a severe or extreme warning is
    chased like an alarm, every path (the phone line included) until one confirms."""
    warning = await session.get(OfficialWarning, int(event.payload["warning_id"]))
    if warning is None or warning.ended_at is not None:
        return
    urgent = warning.severity.rank >= Severity.SEVERE.rank
    people = []
    for community_id in event.payload["community_ids"]:
        people += await _residents(session, await _homes_of(session, int(community_id)))
    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind=notify.WARNING,
                title=parts.catalog.text(p.locale, "safety.warning_title", event=warning.event or warning.headline),
                body=service.words(warning),
                data={"kind": "warning", "warningId": str(warning.id)},
                urgency=Urgency.EMERGENCY if urgent else Urgency.NORMAL,
                ref=f"warning:{warning.id}",
            )
            for p in people
        ],
    )


@consumer(service.ISSUED, name="safety.roll_call_by_policy")
async def roll_call_by_policy(session: AsyncSession, event: Event, parts: Parts) -> None:
    warning = await session.get(OfficialWarning, int(event.payload["warning_id"]))
    if warning is None or warning.ended_at is not None:
        return
    community_ids = [int(c) for c in event.payload["community_ids"]]
    for community_id, policy in (await service.policies(session, community_ids)).items():
        if policy.roll_call_from is not None and warning.severity.rank >= policy.roll_call_from.rank:
            await roll_call.start(
                session,
                community_id=community_id,
                grid_id=None,
                minutes=policy.roll_call_minutes,
                reason=warning.headline or warning.event,
                warning_id=warning.id,
            )


async def _warning_still_on(session: AsyncSession, ref: str) -> bool:
    warning = await session.get(OfficialWarning, int(ref.partition(":")[2]))
    return warning is not None and warning.ended_at is None


notify.register_ref_check("warning", _warning_still_on)


@jobs.job_handler(service.EXPIRE)
async def expire(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.expired(session, int(run.payload["warning_id"]))


def _until(parts: Parts, call: RollCall) -> str:
    return f"{call.answer_by.astimezone(parts.settings.zone):%H:%M}"


@consumer(roll_call.STARTED, name="safety.ask_homes")
async def ask_homes(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Everyone living in the homes asked hears the question on their own paths."""
    call = await session.get(RollCall, int(event.payload["roll_call_id"]))
    if call is None or call.closed_at is not None:
        return
    homes = await roll_call.homes_of(session, call.id)
    people = await _residents(session, homes)
    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind=notify.ROLL_CALL,
                title=parts.catalog.text(p.locale, "safety.roll_call_title"),
                body=parts.catalog.text(
                    p.locale, "safety.roll_call_ask", reason=call.reason, until=_until(parts, call)
                ),
                data={"kind": "roll_call", "rollCallId": str(call.id)},
                urgency=Urgency.PROMPT,
                ref=f"roll_call:{call.id}:{p.household_id}",
            )
            for p in people
        ],
    )


async def _home_not_answered(session: AsyncSession, ref: str) -> bool:
    _, call_id, household_id = ref.split(":")
    return await roll_call.still_waiting(session, int(call_id), int(household_id))


notify.register_ref_check("roll_call", _home_not_answered)


@jobs.job_handler(roll_call.DUE)
async def due(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """The time is up: each home that did not answer, to its family and its grid workers."""
    closed = await roll_call.close(session, int(run.payload["roll_call_id"]))
    if closed is None:
        return
    call, silent = closed
    if not silent:
        return
    residents = await _residents(session, silent)
    workers = await roll_call.grid_workers_of(session, silent)
    families = await rules.families_receiving_alerts(session, [p.id for p in residents])
    homes = {h.id: h for h in await community_repository.households_by_ids(session, silent)}
    outgoing = []
    for household_id in silent:
        living = [p for p in residents if p.household_id == household_id]
        told = set(workers.get(household_id, [])) | {f for p in living for f in families.get(p.id, [])}
        for person in await community_repository.people_by_ids(session, sorted(told)):
            outgoing.append(
                notify.Outgoing(
                    person,
                    kind=notify.ROLL_CALL,
                    title=parts.catalog.text(person.locale, "safety.roll_call_title"),
                    body=parts.catalog.text(
                        person.locale,
                        "safety.roll_call_silent",
                        address=homes[household_id].address,
                        names="、".join(p.name for p in living),
                        until=_until(parts, call),
                    ),
                    data={"kind": "roll_call", "rollCallId": str(call.id), "householdId": str(household_id)},
                    urgency=Urgency.PROMPT,
                )
            )
    await notify.send_many(session, parts, outgoing)
