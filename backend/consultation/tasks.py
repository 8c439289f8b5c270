"""Who is told what about a thread: the desk of a new question or follow-up, the desk again
before its promise runs out, the desk's lead when it has, the asker the moment an answer
comes (on their own paths), and the service centre of every 不满意."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, jobs
from backend.access import rules
from backend.community import repository as community_repository
from backend.community.models import Community, Person, Role
from backend.consultation import service
from backend.consultation.models import ConsultDesk, ConsultMessage, ConsultThread, Satisfaction, ThreadStatus
from backend.db import utcnow
from backend.events import Event, consumer
from backend.jobs import JobRun
from backend.notify import service as notify
from backend.parts import Parts


async def _tell(
    session: AsyncSession, parts: Parts, people_ids: Iterable[int], thread: ConsultThread, key: str, **words: str
) -> None:
    people = await community_repository.people_by_ids(session, sorted(set(people_ids)))
    desk = await session.get(ConsultDesk, thread.desk_id)
    elder = await session.get(Person, thread.elder_id)
    catalog = parts.catalog
    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind="consultation",
                title=catalog.text(p.locale, "consultation.title"),
                body=catalog.text(
                    p.locale,
                    f"consultation.{key}",
                    desk=catalog.text(p.locale, f"consultation.desks.{desk.kind.value}") if desk else "",
                    elder=elder.name if elder else "",
                    question=thread.question[:60],
                    **words,
                ),
                data={"kind": "consultation", "threadId": str(thread.id)},
            )
            for p in people
        ],
    )


async def _desk_people(session: AsyncSession, thread: ConsultThread, *, leads: bool = False) -> list[int]:
    """The assignee, else everyone of the desk; with `leads`, the desk's leads (else the
    community's service centre, who answers for a desk without one)."""
    if not leads and thread.assignee_id is not None:
        return [thread.assignee_id]
    found = await service.members(session, thread.desk_id)
    if not leads:
        return [m.person_id for m in found]
    chosen = [m.person_id for m in found if m.lead]
    if chosen:
        return chosen
    desk = await session.get(ConsultDesk, thread.desk_id)
    return await community_repository.with_role(session, desk.community_id, [Role.SERVICE_CENTRE]) if desk else []


async def _local(session: AsyncSession, parts: Parts, thread: ConsultThread, at: dt.datetime) -> str:
    desk = await session.get(ConsultDesk, thread.desk_id)
    community = await session.get(Community, desk.community_id) if desk else None
    zone = service.zone_of(community) if community else parts.settings.zone
    return clock.clock_time(at, zone)


@consumer(service.ASKED, name="consultation.tell_desk")
async def tell_desk(session: AsyncSession, event: Event, parts: Parts) -> None:
    thread = await session.get(ConsultThread, int(event.payload["thread_id"]))
    if thread is None or thread.status != ThreadStatus.WAITING or thread.due_at is None:
        return
    key = "follow_up" if event.payload.get("follow_up") else "asked"
    if thread.ring_back and key == "asked":
        key = "ring_back"
    await _tell(
        session,
        parts,
        await _desk_people(session, thread),
        thread,
        key,
        due=await _local(session, parts, thread, thread.due_at),
        phone=thread.ring_back or "",
    )


def _still_due(thread: ConsultThread | None, run: JobRun) -> bool:
    """The job belongs to the turn the clock is on (a reply or a follow-up moves it)."""
    return (
        thread is not None
        and thread.status == ThreadStatus.WAITING
        and thread.due_at is not None
        and thread.due_at == dt.datetime.fromisoformat(str(run.payload["due"]))
    )


@jobs.job_handler(service.REMIND)
async def remind(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    thread = await session.get(ConsultThread, int(run.payload["thread_id"]))
    if not _still_due(thread, run):
        return
    assert thread is not None and thread.due_at is not None
    thread.reminded_at = utcnow()
    await _tell(
        session,
        parts,
        await _desk_people(session, thread),
        thread,
        "remind",
        due=await _local(session, parts, thread, thread.due_at),
    )


@jobs.job_handler(service.OVERDUE)
async def overdue(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    thread = await session.get(ConsultThread, int(run.payload["thread_id"]))
    if not _still_due(thread, run):
        return
    assert thread is not None and thread.waiting_since is not None
    thread.overdue_at = utcnow()
    assignee = await session.get(Person, thread.assignee_id) if thread.assignee_id else None
    await _tell(
        session,
        parts,
        await _desk_people(session, thread, leads=True),
        thread,
        "overdue",
        since=await _local(session, parts, thread, thread.waiting_since),
        assignee=assignee.name if assignee else "-",
    )


@consumer(service.ANSWERED, name="consultation.tell_asker")
async def tell_asker(session: AsyncSession, event: Event, parts: Parts) -> None:
    """The elder hears the answer itself (the voice path reads it out); whoever asked for them too."""
    thread = await session.get(ConsultThread, int(event.payload["thread_id"]))
    message = await session.get(ConsultMessage, int(event.payload["message_id"]))
    if thread is None or message is None:
        return
    askers = await rules.still_speaking_for(session, thread.elder_id, thread.asked_by_id)
    await _tell(session, parts, askers, thread, "answered", answer=message.text)


@consumer(service.RATED, name="consultation.tell_unsatisfied")
async def tell_unsatisfied(session: AsyncSession, event: Event, parts: Parts) -> None:
    thread = await session.get(ConsultThread, int(event.payload["thread_id"]))
    desk = await session.get(ConsultDesk, thread.desk_id) if thread else None
    if thread is None or desk is None or thread.rating != Satisfaction.UNSATISFIED:
        return
    staff = await community_repository.with_role(session, desk.community_id, list(service.SUPERVISORS))
    await _tell(session, parts, staff, thread, "unsatisfied", comment=thread.rating_comment or "-")
