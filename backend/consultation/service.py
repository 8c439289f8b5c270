"""Threads with the community's desks (接诉即办): a question is assigned to a person of the
desk, answered, followed up, closed and rated; the reply promise is a durable timer.

Who sees a thread: the elder it is about, whoever asked, family acting for the elder
(order_for: they may ask for the elder too), the people of the desk, and the community's
service centre and admins (who follow every 不满意 up). Nothing else in the house reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import events, jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import Community, Person, Role
from backend.consultation.errors import NoSuchDesk, NothingToRate, ThreadClosed, ThreadRated
from backend.consultation.hours import after_open_minutes
from backend.consultation.models import (
    ConsultDesk,
    ConsultMessage,
    ConsultThread,
    DeskKind,
    DeskMember,
    Satisfaction,
    ThreadStatus,
)
from backend.db import utcnow
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.family.models import Scope
from backend.health import service as health
from backend.health.errors import NoHealthConsent
from backend.health.models import EmergencyProfile
from backend.parts import Parts

ASKED = "consultation.asked"  # payload: {"thread_id", "follow_up"}; the desk is told
ANSWERED = "consultation.answered"  # payload: {"thread_id", "message_id"}; the asker is told
RATED = "consultation.rated"  # payload: {"thread_id"}; a 不满意 reaches the service centre
REMIND = "consultation.remind"  # job: the promise is nearly up
OVERDUE = "consultation.overdue"  # job: the promise is broken; the desk's lead is told
REMIND_AT = 0.8  # of the promise, in opening hours
MOST_CHARS = 1000
MOST_COMMENT = 300
SUPERVISORS = (Role.SERVICE_CENTRE, Role.ADMIN)
DOORS = ("app", "tv", "phone")


def _text(value: str, field: str, longest: int) -> str:
    value = value.strip()
    if not value or len(value) > longest:
        raise InvalidInput(field, field=field)
    return value


def zone_of(community: Community) -> ZoneInfo:
    return ZoneInfo(community.timezone)


# Desks


@dataclass(frozen=True)
class DeskSetting:
    kind: DeskKind
    opens: dt.time
    closes: dt.time
    weekdays: str
    promise_minutes: int
    member_ids: Sequence[int]
    lead_id: int | None


async def set_desk(session: AsyncSession, actor: Actor, *, community_id: int, setting: DeskSetting) -> ConsultDesk:
    """The service centre or an admin sets a desk up: hours, promise and people (the whole list)."""
    if not actor.roles_in(community_id) & set(SUPERVISORS):
        raise Forbidden()
    if setting.opens >= setting.closes:
        raise InvalidInput("closes", field="closes")
    weekdays = "".join(sorted(set(setting.weekdays)))
    if not weekdays or any(ch not in "0123456" for ch in weekdays):  # 0 = Monday
        raise InvalidInput("weekdays", field="weekdays")
    if not 1 <= setting.promise_minutes <= 7 * 24 * 60:
        raise InvalidInput("promiseMinutes", field="promiseMinutes")
    people = set(setting.member_ids)
    if setting.lead_id is not None and setting.lead_id not in people:
        raise InvalidInput("lead", field="lead")
    found = set((await session.scalars(select(Person.id).where(Person.id.in_(people)))).all())
    if found != people:
        raise InvalidInput("members", field="members")
    desk = (
        await session.execute(
            select(ConsultDesk).where(ConsultDesk.community_id == community_id, ConsultDesk.kind == setting.kind)
        )
    ).scalar_one_or_none()
    if desk is None:
        desk = ConsultDesk(community_id=community_id, kind=setting.kind)
        session.add(desk)
    desk.opens, desk.closes, desk.weekdays = setting.opens, setting.closes, weekdays
    desk.promise_minutes, desk.updated_at = setting.promise_minutes, utcnow()
    await session.flush()
    current = {m.person_id: m for m in await members(session, desk.id)}
    for person_id, member in current.items():
        if person_id not in people:
            await session.delete(member)
    for person_id in people:
        member = current.get(person_id) or DeskMember(desk_id=desk.id, person_id=person_id)
        member.lead = person_id == setting.lead_id
        session.add(member)
    await session.flush()
    return desk


async def desks_of(session: AsyncSession, community_id: int) -> Sequence[ConsultDesk]:
    rows = await session.execute(
        select(ConsultDesk).where(ConsultDesk.community_id == community_id).order_by(ConsultDesk.id)
    )
    return rows.scalars().all()


async def members(session: AsyncSession, desk_id: int) -> Sequence[DeskMember]:
    rows = await session.execute(select(DeskMember).where(DeskMember.desk_id == desk_id).order_by(DeskMember.id))
    return rows.scalars().all()


async def desks_served_by(session: AsyncSession, person_id: int) -> Sequence[ConsultDesk]:
    rows = await session.execute(
        select(ConsultDesk)
        .join(DeskMember, DeskMember.desk_id == ConsultDesk.id)
        .where(DeskMember.person_id == person_id)
        .order_by(ConsultDesk.id)
    )
    return rows.scalars().all()


async def desks_for_console(session: AsyncSession, actor: Actor) -> Sequence[tuple[ConsultDesk, str]]:
    """The desks whose queue one works: those one answers at, and every desk of the
    communities one supervises; with the community's name."""
    supervised = [cid for cid in actor.community_ids if actor.roles_in(cid) & set(SUPERVISORS)]
    mine = select(DeskMember.desk_id).where(DeskMember.person_id == actor.id)
    rows = await session.execute(
        select(ConsultDesk, Community.name)
        .join(Community, Community.id == ConsultDesk.community_id)
        .where(ConsultDesk.id.in_(mine) | ConsultDesk.community_id.in_(supervised))
        .order_by(ConsultDesk.community_id, ConsultDesk.id)
    )
    return [(desk, name) for desk, name in rows.all()]


def promise_due(desk: ConsultDesk, zone: ZoneInfo, start: dt.datetime, share: float = 1.0) -> dt.datetime:
    return after_open_minutes(
        start,
        desk.promise_minutes * share,
        opens=desk.opens,
        closes=desk.closes,
        weekdays=desk.weekdays,
        zone=zone,
    )


# Asking


async def ask(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int | None,
    desk_kind: DeskKind,
    question: str,
    article_id: str | None = None,
) -> ConsultThread:
    """From the app: the elder, family acting for them (order_for), or staff for an elder who
    phoned or walked in."""
    if article_id is not None and len(article_id) > 40:
        raise InvalidInput("articleId", field="articleId")
    elder = (await rules.acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    return await open_thread(
        session,
        elder=elder,
        asked_by=actor.person,
        desk_kind=desk_kind,
        question=question,
        door="app",
        article_id=article_id,
    )


async def open_thread(
    session: AsyncSession,
    *,
    elder: Person,
    asked_by: Person,
    desk_kind: DeskKind,
    question: str,
    door: str,
    article_id: str | None = None,
    ring_back: str | None = None,
) -> ConsultThread:
    """A thread at the elder's community's desk, given to whoever of the desk has the fewest
    waiting, with its promise on the clock. The TV and the phone line (which know the elder
    by their home or number) ask with `ring_back`: the desk rings the elder back."""
    if door not in DOORS:
        raise InvalidInput("door", field="door")
    text = _text(question, "question", MOST_CHARS)
    _, community = await rules.home_of(session, elder)
    desk = (
        await session.execute(
            select(ConsultDesk).where(ConsultDesk.community_id == community.id, ConsultDesk.kind == desk_kind)
        )
    ).scalar_one_or_none()
    if desk is None:
        raise NoSuchDesk()
    now = utcnow()
    thread = ConsultThread(
        desk_id=desk.id,
        elder_id=elder.id,
        asked_by_id=asked_by.id,
        door=door,
        question=text,
        article_id=article_id,
        ring_back=ring_back,
        status=ThreadStatus.WAITING,
        assignee_id=await _least_busy(session, desk.id),
        updated_at=now,
    )
    session.add(thread)
    await session.flush()
    session.add(ConsultMessage(thread_id=thread.id, author_id=asked_by.id, from_desk=False, text=text, at=now))
    await _start_clock(session, thread, desk, zone_of(community), now)
    events.emit(session, ASKED, {"thread_id": thread.id, "follow_up": False})
    return thread


async def _least_busy(session: AsyncSession, desk_id: int) -> int | None:
    waiting = func.sum(case((ConsultThread.status == ThreadStatus.WAITING, 1), else_=0))
    rows = await session.execute(
        select(DeskMember.person_id, func.coalesce(waiting, 0))
        .select_from(DeskMember)
        .outerjoin(ConsultThread, ConsultThread.assignee_id == DeskMember.person_id)
        .where(DeskMember.desk_id == desk_id)
        .group_by(DeskMember.person_id)
        .order_by(func.coalesce(waiting, 0), DeskMember.person_id)
        .limit(1)
    )
    row = rows.first()
    return int(row[0]) if row else None


async def _start_clock(
    session: AsyncSession, thread: ConsultThread, desk: ConsultDesk, zone: ZoneInfo, now: dt.datetime
) -> None:
    thread.waiting_since, thread.reminded_at, thread.overdue_at = now, None, None
    thread.due_at = promise_due(desk, zone, now)
    payload = {"thread_id": thread.id, "due": thread.due_at.isoformat()}
    await jobs.schedule(
        session, REMIND, promise_due(desk, zone, now, REMIND_AT), payload, key=f"consult:{thread.id}:remind"
    )
    await jobs.schedule(session, OVERDUE, thread.due_at, payload, key=f"consult:{thread.id}:overdue")


# Who may see and act


@dataclass(frozen=True)
class Seen:
    """A thread as one person may see it: from the desk's side, or the asker's."""

    thread: ConsultThread
    desk: ConsultDesk
    at_desk: bool  # a person of the desk (or a supervisor of its community)
    doctor: bool  # a person of a doctor's desk: may ask for the health profile


async def _is_member(session: AsyncSession, desk_id: int, person_id: int) -> bool:
    found = await session.execute(
        select(DeskMember.id).where(DeskMember.desk_id == desk_id, DeskMember.person_id == person_id)
    )
    return found.first() is not None


async def _asker_side(session: AsyncSession, actor: Actor, thread: ConsultThread, desk: ConsultDesk) -> bool:
    """The elder, the staff member who asked for her, or family who may order for her now
    (not whoever once asked: a revoked link ends it)."""
    placed = await rules.speaks_for(
        session,
        actor,
        person_id=thread.elder_id,
        community_id=desk.community_id,
        asked_by_id=thread.asked_by_id,
        any_staff=False,
    )
    return placed is not None


async def seen_by(session: AsyncSession, actor: Actor, thread_id: int, *, lock: bool = False) -> Seen:
    thread = await session.get(ConsultThread, thread_id, with_for_update=lock)
    desk = await session.get(ConsultDesk, thread.desk_id) if thread is not None else None
    if thread is None or desk is None:
        raise NotFound()
    member = await _is_member(session, desk.id, actor.id)
    if member or actor.roles_in(desk.community_id) & set(SUPERVISORS):
        return Seen(thread, desk, True, member and desk.kind == DeskKind.DOCTOR)
    if await _asker_side(session, actor, thread, desk):
        return Seen(thread, desk, False, False)
    raise NotFound()


# Replies, follow-ups, closing, rating


async def reply(session: AsyncSession, actor: Actor, *, thread_id: int, text: str) -> ConsultThread:
    """The desk answers (the clock stops, the asker is told), or the asker follows up (the
    clock starts again from now)."""
    seen = await seen_by(session, actor, thread_id, lock=True)
    thread, desk = seen.thread, seen.desk
    if thread.status == ThreadStatus.CLOSED:
        raise ThreadClosed()
    body = _text(text, "text", MOST_CHARS)
    now = utcnow()
    message = ConsultMessage(thread_id=thread.id, author_id=actor.id, from_desk=seen.at_desk, text=body, at=now)
    session.add(message)
    await session.flush()
    thread.updated_at = now
    if seen.at_desk:
        thread.status, thread.due_at = ThreadStatus.ANSWERED, None
        if thread.assignee_id is None:
            thread.assignee_id = actor.id
        events.emit(session, ANSWERED, {"thread_id": thread.id, "message_id": message.id})
    else:
        community = await session.get(Community, desk.community_id)
        assert community is not None
        thread.status = ThreadStatus.WAITING
        await _start_clock(session, thread, desk, zone_of(community), now)
        events.emit(session, ASKED, {"thread_id": thread.id, "follow_up": True})
    return thread


async def assign(session: AsyncSession, actor: Actor, *, thread_id: int, person_id: int) -> ConsultThread:
    """Give a thread to a person of its desk (anyone of the desk, or take it oneself)."""
    seen = await seen_by(session, actor, thread_id, lock=True)
    if not seen.at_desk:
        raise NotFound()
    if seen.thread.status == ThreadStatus.CLOSED:
        raise ThreadClosed()
    if not await _is_member(session, seen.desk.id, person_id):
        raise InvalidInput("assignee", field="assignee")
    if seen.thread.assignee_id != person_id:
        seen.thread.assignee_id, seen.thread.updated_at = person_id, utcnow()
        events.emit(session, ASKED, {"thread_id": seen.thread.id, "follow_up": False, "assigned": True})
    return seen.thread


async def close(session: AsyncSession, actor: Actor, *, thread_id: int) -> ConsultThread:
    """The desk closes a thread it has answered (a phone call answered it); the asker closes
    one they need no more. A closed thread's clock is off."""
    seen = await seen_by(session, actor, thread_id, lock=True)
    thread = seen.thread
    if thread.status == ThreadStatus.CLOSED:
        return thread
    now = utcnow()
    thread.status, thread.due_at, thread.closed_at, thread.closed_by_id = ThreadStatus.CLOSED, None, now, actor.id
    thread.updated_at = now
    return thread


async def rate(
    session: AsyncSession, actor: Actor, *, thread_id: int, rating: Satisfaction, comment: str | None
) -> ConsultThread:
    """满意/一般/不满意, once, by the asker's side, once the desk has answered; rating closes it."""
    seen = await seen_by(session, actor, thread_id, lock=True)
    thread = seen.thread
    if seen.at_desk and not await _asker_side(session, actor, thread, seen.desk):
        raise Forbidden()
    if thread.rating is not None:
        raise ThreadRated()
    answered = await session.execute(
        select(ConsultMessage.id).where(ConsultMessage.thread_id == thread.id, ConsultMessage.from_desk.is_(True))
    )
    if answered.first() is None:
        raise NothingToRate()
    if comment is not None and len(comment.strip()) > MOST_COMMENT:
        raise InvalidInput("comment", field="comment")
    now = utcnow()
    thread.rating, thread.rating_comment = rating, (comment or "").strip() or None
    thread.rated_by_id, thread.rated_at, thread.updated_at = actor.id, now, now
    if thread.status != ThreadStatus.CLOSED:
        thread.status, thread.due_at, thread.closed_at, thread.closed_by_id = ThreadStatus.CLOSED, None, now, actor.id
    events.emit(session, RATED, {"thread_id": thread.id})
    return thread


# Reading


async def messages_of(session: AsyncSession, thread_ids: Sequence[int]) -> dict[int, list[ConsultMessage]]:
    rows = await session.execute(
        select(ConsultMessage).where(ConsultMessage.thread_id.in_(thread_ids)).order_by(ConsultMessage.id)
    )
    found: dict[int, list[ConsultMessage]] = {i: [] for i in thread_ids}
    for m in rows.scalars():
        found[m.thread_id].append(m)
    return found


async def threads_of(
    session: AsyncSession, actor: Actor, *, person_id: int | None, limit: int = 30
) -> Sequence[ConsultThread]:
    """An elder's threads, newest first: their own, or (order_for) an elder's they act for."""
    elder = (await rules.acting_for(session, actor, person_id, Scope.ORDER_FOR, staff_may=False)).person
    rows = await session.execute(
        select(ConsultThread).where(ConsultThread.elder_id == elder.id).order_by(ConsultThread.id.desc()).limit(limit)
    )
    return rows.scalars().all()


async def queue(session: AsyncSession, actor: Actor, *, community_id: int, limit: int = 100) -> Sequence[ConsultThread]:
    """The desk's queue: the open threads of the desks one serves (a supervisor: every desk of
    the community), waiting ones first, the promise that runs out soonest first."""
    desk_ids = [d.id for d in await desks_of(session, community_id)]
    if not actor.roles_in(community_id) & set(SUPERVISORS):
        mine = {d.id for d in await desks_served_by(session, actor.id)}
        desk_ids = [i for i in desk_ids if i in mine]
        if not desk_ids:
            raise NotFound()
    rows = await session.execute(
        select(ConsultThread)
        .where(ConsultThread.desk_id.in_(desk_ids), ConsultThread.status != ThreadStatus.CLOSED)
        .order_by(
            case((ConsultThread.status == ThreadStatus.WAITING, 0), else_=1),
            ConsultThread.due_at,
            ConsultThread.updated_at,
        )
        .limit(limit)
    )
    return rows.scalars().all()


async def unsatisfied(
    session: AsyncSession, actor: Actor, *, community_id: int, limit: int = 50
) -> Sequence[ConsultThread]:
    """Every 不满意 of the community's desks, newest first, for its service centre and admins."""
    if not actor.roles_in(community_id) & set(SUPERVISORS):
        raise NotFound()
    rows = await session.execute(
        select(ConsultThread)
        .join(ConsultDesk, ConsultDesk.id == ConsultThread.desk_id)
        .where(ConsultDesk.community_id == community_id, ConsultThread.rating == Satisfaction.UNSATISFIED)
        .order_by(ConsultThread.rated_at.desc())
        .limit(limit)
    )
    return rows.scalars().all()


async def health_profile(
    session: AsyncSession, actor: Actor, *, thread_id: int, factory: async_sessionmaker[AsyncSession]
) -> EmergencyProfile:
    """The family doctor answering a thread reads the elder's health profile, only with the
    elder's consent; every read (refused ones too) is in the elder's access log."""
    seen = await seen_by(session, actor, thread_id)
    if not seen.doctor:
        raise Forbidden()
    found = await health.read(
        session, seen.thread.elder_id, reader_id=actor.id, purpose=f"consult:{seen.thread.id}", factory=factory
    )
    if found is None:
        raise NoHealthConsent()
    return found


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: her questions are closed (the desk waits for her no more,
    its clock stops), and those given to her to answer go back to her desk's queue."""
    now = utcnow()
    await session.execute(
        update(ConsultThread)
        .where(ConsultThread.elder_id == actor.id, ConsultThread.status != ThreadStatus.CLOSED)
        .values(status=ThreadStatus.CLOSED, due_at=None, closed_at=now, closed_by_id=actor.id, updated_at=now)
    )
    await session.execute(
        update(ConsultThread)
        .where(ConsultThread.assignee_id == actor.id, ConsultThread.status != ThreadStatus.CLOSED)
        .values(assignee_id=None, updated_at=now)
    )
