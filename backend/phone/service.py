"""The phone line's rules: a call registered by the exchange before its audio arrives, the
caller known by the number it registered (never by anything the audio stream claims), each
turn stored for the staff, and call-back requests open until someone marks them done."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import live
from backend.access.rules import family_receiving_alerts, home_community_id, in_view, require_staff_of
from backend.access.subject import Actor, Subject, load_memberships
from backend.auth.service import person_for_caller
from backend.community import repository as community_repository
from backend.community.models import Community, Membership, Person, Role
from backend.consultation import service as consultation
from backend.consultation.errors import NoSuchDesk
from backend.consultation.knowledge import Article
from backend.consultation.models import DeskKind
from backend.content.catalog import DEFAULT_LOCALE
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.gateways.sms import Sms
from backend.notify import service as notify
from backend.notify.models import Urgency
from backend.parts import Parts
from backend.phone.models import CallbackFor, CallbackRequest, Direction, PhoneCall, PhoneCallEvent
from backend.phones import mask_phone, normalize_caller_id, subscriber_digits

log = logging.getLogger(__name__)

# The audio must follow the exchange's registration within this long; a registration nobody
# connected to is worthless after it.
REGISTRATION_TTL_S = 120
CALL_REF = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_EVENT_BYTES = 4000


@dataclass(frozen=True)
class Caller:
    """Who is on the line, as the exchange registered them: a known person (with their roles),
    or only a number; and the community whose line was called (or the caller's own)."""

    call: PhoneCall
    subject: Subject  # what they may do on this call (`Subject.may`): more once they key their PIN
    community: Community | None

    @property
    def actor(self) -> Actor | None:
        return self.subject.actor

    @property
    def person(self) -> Person | None:
        return self.actor.person if self.actor is not None else None

    def with_pin(self) -> Caller:
        return replace(self, subject=self.subject.with_pin())


def check_call_ref(call_ref: str) -> str:
    if not CALL_REF.fullmatch(call_ref or ""):
        raise InvalidInput("callId", field="callId")
    return call_ref


def line_of(called: str, lines: Sequence[Community]) -> Community | None:
    """Which community's line this is, in whatever form the exchange sends the called number:
    in full with or without the country code or trunk 0, or as the local number of 7 or 8
    digits without the area code (when that names one line only)."""
    digits = subscriber_digits(called)
    if len(digits) < 7:
        return None
    by_number = [(c, subscriber_digits(c.service_phone or "")) for c in lines]
    exact = [c for c, n in by_number if n == digits]
    if exact:
        return exact[0]
    if len(digits) <= 8:
        local = [c for c, n in by_number if len(n) > len(digits) and n.endswith(digits)]
        if len(local) == 1:
            return local[0]
    return None


async def default_community(session: AsyncSession, lines: Sequence[Community], default_line: str) -> Community | None:
    """The community whose centre takes a call that rang no community's line from a caller
    nobody knows: the default line's, else the first with a service centre."""
    if default_line:
        found = line_of(default_line, lines)
        if found is not None:
            return found
        log.error("LINLI_VOICE_DEFAULT_LINE names no community's line; using the first with a service centre")
    centres = await session.execute(
        select(Community)
        .join(Membership, Membership.community_id == Community.id)
        .where(Membership.role == Role.SERVICE_CENTRE)
        .order_by(Community.id)
        .limit(1)
    )
    return centres.scalars().first()


async def register(
    session: AsyncSession,
    *,
    call_ref: str,
    bridge: str,
    caller: str,
    called: str | None,
    direction: Direction = Direction.IN,
    person_id: int | None = None,
    message_ref: str | None = None,
    message: dict[str, Any] | None = None,
    default_line: str = "",
) -> PhoneCall:
    """The exchange says a call is coming: from which number, to which line. A call id seen
    before is refused (a replay cannot take over a call). The call belongs to the community
    whose line it rang, else the caller's own, else the default line's (`default_line`)."""
    check_call_ref(call_ref)
    existing = await session.scalar(select(PhoneCall.id).where(PhoneCall.call_ref == call_ref))
    if existing is not None:
        raise InvalidInput("callId", field="callId")
    number = normalize_caller_id(caller)
    # A mobile, or a landline registered as the person's phone-line device.
    person = (
        await session.get(Person, person_id)
        if person_id is not None
        else await person_for_caller(session, caller_id=number)
        if number is not None
        else None
    )
    if person is not None and person.deleted_at is not None:
        person = None
    lines = (
        (await session.execute(select(Community).where(Community.service_phone.is_not(None)).order_by(Community.id)))
        .scalars()
        .all()
    )
    community = line_of(called or "", lines)
    if community is None and person is not None:
        community_id = home_community_id(Actor(person, await load_memberships(session, person.id)))
        community = await session.get(Community, community_id) if community_id is not None else None
    if community is None:
        community = await default_community(session, lines, default_line)
    call = PhoneCall(
        call_ref=call_ref,
        bridge=bridge,
        direction=direction,
        caller=number,
        caller_masked=mask_phone(number) if number else "****",
        person_id=person.id if person is not None else None,
        community_id=community.id if community is not None else None,
        locale=person.locale if person is not None else DEFAULT_LOCALE,
        message_ref=message_ref,
        message=message,
    )
    session.add(call)
    await session.flush()
    return call


async def begin(session: AsyncSession, call_ref: str) -> Caller | None:
    """The audio of a registered call has arrived: who is calling. None for a call nobody
    registered, one already begun, or a registration gone stale."""
    call = (
        await session.execute(select(PhoneCall).where(PhoneCall.call_ref == call_ref).with_for_update())
    ).scalar_one_or_none()
    if call is None or call.started_at is not None:
        return None
    now = utcnow()
    if now - call.registered_at > dt.timedelta(seconds=REGISTRATION_TTL_S):
        return None
    call.started_at = now
    person = await session.get(Person, call.person_id) if call.person_id is not None else None
    actor = Actor(person, await load_memberships(session, person.id)) if person is not None else None
    community = await session.get(Community, call.community_id) if call.community_id is not None else None
    return Caller(call, Subject.caller(actor, community_id=call.community_id), community)


async def record(session: AsyncSession, call_id: int, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Turns of a call, for the staff to read; a turn's detail is bounded."""
    for kind, detail in events:
        if len(repr(detail)) > MAX_EVENT_BYTES:
            detail = {"truncated": True, "question": detail.get("question")}
        session.add(PhoneCallEvent(call_id=call_id, kind=kind, detail=detail))


async def end(session: AsyncSession, call_id: int, outcome: str) -> None:
    """The call is over: how it ended; its number (and a call out's words) are not kept."""
    call = await session.get(PhoneCall, call_id)
    if call is not None and call.ended_at is None:
        call.ended_at, call.outcome, call.caller, call.message = utcnow(), outcome[:30], None, None


ALARM = "alarm"  # a caller nobody knows asked for help: the service centre rings back at once


def callback_ref(request_id: int) -> str:
    return f"callback:{request_id}"


def callbacks_channel(community_id: int) -> str:
    return f"community:{community_id}:callbacks"


async def ask_callback(
    session: AsyncSession,
    parts: Parts,
    *,
    phone: str,
    call_id: int | None,
    person: Person | None,
    community_id: int,
    asked_of: CallbackFor,
    reason: str,
    about: str = "",
) -> CallbackRequest:
    """Someone should ring this number back (a caller's, or an elder's who asked on the TV;
    `about`: what they want to ask, when they said):
    family receiving the elder's alerts (when asked and there are any), else the service
    centre of the community. They get a notice with the number; the request stays open in
    the console until someone marks it done."""
    family = await family_receiving_alerts(session, person.id) if person is not None else []
    if asked_of == CallbackFor.FAMILY and not family:
        asked_of = CallbackFor.CENTRE
    request = CallbackRequest(
        community_id=community_id,
        person_id=person.id if person is not None else None,
        phone=phone,
        asked_of=asked_of,
        reason=reason,
        call_id=call_id,
    )
    session.add(request)
    await session.flush()
    to_ids = (
        family
        if asked_of == CallbackFor.FAMILY
        else await community_repository.with_role(session, community_id, [Role.SERVICE_CENTRE])
    )
    people = await community_repository.people_by_ids(session, sorted(set(to_ids)))
    name = person.name if person is not None else None
    await notify.send_many(session, parts, [_ring_back_notice(parts, p, request, name, about) for p in people])
    live.after_commit(session, [(callbacks_channel(community_id), {"kind": "callback", "id": request.id})])
    return request


def _ring_back_notice(
    parts: Parts, to: Person, request: CallbackRequest, name: str | None, about: str
) -> notify.Outgoing:
    """The notice asking `to` to ring back: who asked (by name, else the number) and why."""
    catalog, reason = parts.catalog, request.reason
    key = f"phone.callback_{reason}" if name or reason == ALARM else "phone.callback_unknown"
    return notify.Outgoing(
        to,
        kind="callback",
        title=catalog.text(to.locale, "phone.callback_title"),
        body=catalog.text(to.locale, key, name=name or "", phone=request.phone, about=about),
        data={"kind": "callback", "callbackId": str(request.id)},
        # An unknown number asking for help is an alarm: it is chased like one.
        urgency=Urgency.EMERGENCY if reason == ALARM else Urgency.PROMPT,
        ref=callback_ref(request.id),
        sms=Sms("callback", {"name": name or mask_phone(request.phone), "phone": request.phone}),
    )


async def open_callbacks(
    session: AsyncSession, actor: Actor, community_id: int | None
) -> list[tuple[CallbackRequest, str | None]]:
    """Staff: the requests nobody has marked done (in one community, or every one they serve),
    with the caller's name when known: an unknown number asking for help first, then oldest
    first."""
    if community_id is not None:
        require_staff_of(actor, community_id)
    ids = [community_id] if community_id is not None else sorted(actor.staff_community_ids)
    # A grid worker sees her own grids' callers, and every unknown number.
    seen = [
        and_(CallbackRequest.community_id == cid, await in_view(session, actor, cid, CallbackRequest.person_id))
        for cid in ids
    ]
    rows = await session.execute(
        select(CallbackRequest, Person.name)
        .outerjoin(Person, Person.id == CallbackRequest.person_id)
        .where(or_(*seen), CallbackRequest.done_at.is_(None))
        .order_by(CallbackRequest.id)
    )
    found = [(request, name) for request, name in rows.all()]
    return sorted(found, key=lambda rn: rn[0].reason != ALARM)


async def mark_callback_done(session: AsyncSession, actor: Actor, request_id: int) -> CallbackRequest:
    """Staff of its community: the caller was rung back. Marking it twice changes nothing."""
    request = await session.get(CallbackRequest, request_id, with_for_update=True)
    if request is None or not actor.is_staff_of(request.community_id):
        raise NotFound()
    if request.done_at is None:
        request.done_at, request.done_by_id = utcnow(), actor.id
        await notify.settle(session, callback_ref(request.id))
        live.after_commit(session, [(callbacks_channel(request.community_id), {"kind": "callback", "id": request.id})])
    return request


async def recent_calls(
    session: AsyncSession, actor: Actor, community_id: int, *, limit: int
) -> list[tuple[PhoneCall, list[PhoneCallEvent]]]:
    """Staff: the community's latest calls, each with its turns (the pipeline's run)."""
    seen = await in_view(session, actor, community_id, PhoneCall.person_id)
    calls = list(
        (
            await session.execute(
                select(PhoneCall)
                .where(PhoneCall.community_id == community_id, seen)
                .order_by(PhoneCall.id.desc())
                .limit(limit)
            )
        ).scalars()
    )
    if not calls:
        return []
    rows = await session.execute(
        select(PhoneCallEvent).where(PhoneCallEvent.call_id.in_([c.id for c in calls])).order_by(PhoneCallEvent.id)
    )
    by_call: dict[int, list[PhoneCallEvent]] = {}
    for event in rows.scalars():
        by_call.setdefault(event.call_id, []).append(event)
    return [(c, by_call.get(c.id, [])) for c in calls]


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: nobody is to ring her back any more."""
    await session.execute(
        update(CallbackRequest)
        .where(
            or_(CallbackRequest.person_id == actor.id, CallbackRequest.phone == actor.person.phone),
            CallbackRequest.done_at.is_(None),
        )
        .values(done_at=utcnow())
    )


async def ask_a_person(
    session: AsyncSession,
    parts: Parts,
    *,
    elder: Person,
    ring_back: str,
    call_id: int | None,
    community_id: int,
    article: Article,
    door: str,
) -> str | None:
    """还要问人 after an answer from the knowledge base: a thread at the article's desk that
    rings her back; a community without that desk gets a call-back from the service centre.
    The desk's kind, or None when the centre was asked."""
    try:
        await consultation.open_thread(
            session,
            elder=elder,
            asked_by=elder,
            desk_kind=DeskKind(article.desk),
            question=article.question,
            door=door,
            article_id=article.id,
            ring_back=ring_back,
        )
        return article.desk
    except NoSuchDesk:
        await ask_callback(
            session,
            parts,
            phone=ring_back,
            call_id=call_id,
            person=elder,
            community_id=community_id,
            asked_of=CallbackFor.CENTRE,
            reason="consult" if door == "tv" else "asked",
            about=article.question,
        )
        return None
