"""Mutual help: an elder (or family ordering for them, or staff for one who phoned) asks for
help; the request goes to volunteers nearby whose skills and hours fit (the same building
first, then the grid, then the community), never to everyone; one or more accept; the elder
confirms it was done (a code the volunteer enters, OK on the TV, a key on the phone, a
button in the app), which credits each volunteer's hours once, in the time bank.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import events, jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import Building, Community, Household, Membership, Person, Role
from backend.db import utcnow
from backend.errors import InvalidInput, NotFound
from backend.family.models import Scope
from backend.mutual_help.errors import HelpClosed, HelpTaken, NothingToConfirm, WrongHelpCode
from backend.mutual_help.models import (
    HelpKind,
    HelpOffer,
    HelpRequest,
    OfferStatus,
    Reach,
    RequestStatus,
    Volunteer,
)
from backend.parts import Parts
from backend.wallet import points, time_bank

ASKED = "mutual_help.asked"  # payload: {"request_id", "volunteer_ids"}; they are told
NOBODY = "mutual_help.nobody"  # payload: {"request_id", "asked"}; the service centre finds someone
MATCHED = "mutual_help.matched"  # payload: {"request_id", "volunteer_id"}; the elder is told
DONE = "mutual_help.done"  # payload: {"request_id"}; the volunteers are thanked
CANCELLED = "mutual_help.cancelled"  # payload: {"request_id"}
WITHDRAWN = "mutual_help.withdrawn"  # payload: {"request_id", "volunteer_id"}; the elder is told
WIDEN = "mutual_help.widen"  # job: nobody enough accepted: ask further out
ASK_AT_ONCE = 5  # volunteers asked per round
WIDEN_AFTER_S = 600  # ten minutes for the neighbours to answer before asking further out
MOST_CODE_TRIES = 5  # then only the elder's own confirmation counts
NEXT_REACH = {Reach.BUILDING: Reach.GRID, Reach.GRID: Reach.COMMUNITY}
DOORS = ("app", "tv", "phone")
OPEN_REQUESTS = (RequestStatus.OPEN, RequestStatus.MATCHED)


# Volunteers


@dataclass(frozen=True)
class Offer:
    skills: Sequence[HelpKind]
    weekdays: str
    from_time: dt.time
    until_time: dt.time
    active: bool
    answers_alarms: bool
    alarms_in_quiet_hours: bool = False


async def set_volunteer(session: AsyncSession, actor: Actor, *, person_id: int | None, offer: Offer) -> Volunteer:
    """I volunteer (or staff sign up someone of their community who volunteers in person):
    what I can do and when; I become a volunteer of my community."""
    grant = await rules.acting_for(session, actor, person_id, staff_may=True)
    if grant.placed_as == rules.Placed.FAMILY:
        raise NotFound()  # volunteering is one's own word
    person = grant.person
    _, community = await rules.home_of(session, person)
    weekdays = "".join(sorted(set(offer.weekdays)))
    if not offer.skills or not weekdays or any(ch not in "0123456" for ch in weekdays):
        raise InvalidInput("weekdays", field="weekdays")
    if offer.from_time >= offer.until_time:
        raise InvalidInput("until", field="until")
    row = await session.get(Volunteer, person.id)
    if row is None:
        row = Volunteer(person_id=person.id)
        session.add(row)
    row.skills = sorted({HelpKind(k).value for k in offer.skills})
    row.weekdays, row.from_time, row.until_time = weekdays, offer.from_time, offer.until_time
    row.active, row.answers_alarms, row.updated_at = offer.active, offer.answers_alarms, utcnow()
    row.alarms_in_quiet_hours = offer.alarms_in_quiet_hours
    held = await session.scalar(
        select(Membership.id).where(
            Membership.person_id == person.id,
            Membership.community_id == community.id,
            Membership.role == Role.VOLUNTEER,
        )
    )
    if held is None:
        session.add(Membership(person_id=person.id, community_id=community.id, role=Role.VOLUNTEER))
    await session.flush()
    return row


def _fits(v: Volunteer, kind: HelpKind, at: dt.datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    return (
        v.active
        and kind.value in (v.skills or [])
        and str(local.weekday()) in v.weekdays
        and v.from_time <= local.time() < v.until_time
    )


# Asking


OFFERED_TIMES = (dt.time(9, 30), dt.time(15, 0))  # what a remote or a keypad offers


def times_to_offer(now: dt.datetime, zone: ZoneInfo, count: int = 3) -> list[dt.datetime]:
    """The next mornings and afternoons at least an hour away: the TV and the phone offer a
    choice, they do not take a typed time."""
    today = now.astimezone(zone).date()
    found = [dt.datetime.combine(today + dt.timedelta(days=d), t, zone) for d in range(3) for t in OFFERED_TIMES]
    return [at for at in found if at >= now + dt.timedelta(hours=1)][:count]


@dataclass(frozen=True)
class Need:
    kind: HelpKind
    starts_at: dt.datetime
    minutes: int
    note: str = ""
    place: str | None = None  # at the elder's home unless said
    needed: int = 1


async def ask(
    session: AsyncSession, content_dir: Path, actor: Actor, *, person_id: int | None, need: Need, door: str = "app"
) -> HelpRequest:
    """From the app: the elder, family ordering for them, or staff for an elder who phoned."""
    elder = (await rules.acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    return await open_request(session, content_dir, elder=elder, asked_by=actor.person, need=need, door=door)


async def open_request(
    session: AsyncSession, content_dir: Path, *, elder: Person, asked_by: Person, need: Need, door: str
) -> HelpRequest:
    """A request, offered at once to the nearest volunteers who fit (the TV and the phone
    line ask through here too)."""
    most = time_bank.time_rules(content_dir).per_help_most
    now = utcnow()
    if door not in DOORS:
        raise InvalidInput("door", field="door")
    if not 15 <= need.minutes <= most:
        raise InvalidInput("minutes", field="minutes")
    if not 1 <= need.needed <= 3:
        raise InvalidInput("needed", field="needed")
    if not now - dt.timedelta(minutes=5) <= need.starts_at <= now + dt.timedelta(days=30):
        raise InvalidInput("startsAt", field="startsAt")
    note, place = need.note.strip(), (need.place or "").strip()
    if len(note) > 300 or len(place) > 200:
        raise InvalidInput("note", field="note")
    household, community = await rules.home_of(session, elder)
    request = HelpRequest(
        community_id=community.id,
        household_id=household.id,
        elder_id=elder.id,
        asked_by_id=asked_by.id,
        door=door,
        kind=need.kind,
        note=note,
        place=place or household.address,
        starts_at=need.starts_at,
        minutes=need.minutes,
        needed=need.needed,
        status=RequestStatus.OPEN,
        reach=Reach.BUILDING,
        confirm_code=f"{secrets.randbelow(10000):04d}",
    )
    session.add(request)
    await session.flush()
    await offer_further(session, request, Reach.BUILDING, ZoneInfo(community.timezone))
    return request


async def _places(session: AsyncSession, household_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Each home's building and grid."""
    rows = await session.execute(
        select(Household.id, Household.building_id, Building.grid_id)
        .join(Building, Building.id == Household.building_id)
        .where(Household.id.in_(household_ids))
    )
    return {h: (b, g) for h, b, g in rows.all()}


async def offer_further(session: AsyncSession, request: HelpRequest, reach: Reach, zone: ZoneInfo) -> int:
    """Ask the volunteers who fit at `reach` and were not asked yet; nobody there, the next
    reach out; nobody in the whole community, the service centre is told. Returns how many
    were asked. A job widens the reach if not enough accept in time."""
    asked_before = set(
        (await session.execute(select(HelpOffer.volunteer_id).where(HelpOffer.request_id == request.id))).scalars()
    )
    rows = await session.execute(
        select(Volunteer, Household.id)
        .join(Person, Person.id == Volunteer.person_id)
        .join(Household, Household.id == Person.household_id)
        .where(Household.community_id == request.community_id, Volunteer.active.is_(True))
        .order_by(Volunteer.person_id)
    )
    candidates = [
        (v, hid)
        for v, hid in rows.all()
        if v.person_id not in asked_before
        and v.person_id != request.elder_id
        and _fits(v, request.kind, request.starts_at, zone)
    ]
    places = await _places(session, {hid for _, hid in candidates} | {request.household_id})
    building, grid = places[request.household_id]
    while True:
        if reach == Reach.BUILDING:
            chosen = [v for v, hid in candidates if places[hid][0] == building]
        elif reach == Reach.GRID:
            chosen = [v for v, hid in candidates if places[hid][1] == grid]
        else:
            chosen = [v for v, _ in candidates]
        if chosen or reach not in NEXT_REACH:
            break
        reach = NEXT_REACH[reach]
    request.reach = reach
    chosen = chosen[:ASK_AT_ONCE]
    now = utcnow()
    session.add_all(
        HelpOffer(request_id=request.id, volunteer_id=v.person_id, reach=reach, asked_at=now) for v in chosen
    )
    await session.flush()
    if chosen:
        events.emit(session, ASKED, {"request_id": request.id, "volunteer_ids": [v.person_id for v in chosen]})
    if reach in NEXT_REACH or chosen:
        # Further out in time; at the last reach, the centre is told if nobody has taken it by then.
        await jobs.schedule(
            session,
            WIDEN,
            now + dt.timedelta(seconds=WIDEN_AFTER_S),
            {"request_id": request.id},
            key=f"help:{request.id}:widen",
        )
    else:  # nobody new to ask in the whole community
        events.emit(session, NOBODY, {"request_id": request.id, "asked": bool(asked_before)})
    return len(chosen)


async def widen(session: AsyncSession, request_id: int) -> None:
    request = await session.get(HelpRequest, request_id, with_for_update=True)
    if request is None or request.status != RequestStatus.OPEN:
        return
    if request.reach not in NEXT_REACH:  # the whole community was asked and not enough said 我去
        events.emit(session, NOBODY, {"request_id": request.id, "asked": True})
        return
    community = await session.get(Community, request.community_id)
    assert community is not None
    await offer_further(session, request, NEXT_REACH[request.reach], ZoneInfo(community.timezone))


# Answering


async def _offer_of(session: AsyncSession, request_id: int, volunteer_id: int) -> HelpOffer:
    offer = await session.scalar(
        select(HelpOffer).where(HelpOffer.request_id == request_id, HelpOffer.volunteer_id == volunteer_id)
    )
    if offer is None:
        raise NotFound()  # only volunteers asked see a request
    return offer


async def accepted(session: AsyncSession, request_id: int) -> Sequence[HelpOffer]:
    rows = await session.execute(
        select(HelpOffer)
        .where(HelpOffer.request_id == request_id, HelpOffer.status == OfferStatus.ACCEPTED)
        .order_by(HelpOffer.answered_at, HelpOffer.id)
    )
    return rows.scalars().all()


async def accept(session: AsyncSession, actor: Actor, *, request_id: int) -> HelpRequest:
    """我去. The request is locked: of volunteers answering at once, only as many as needed
    get it; the others hear it is taken."""
    request = await session.get(HelpRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound()
    offer = await _offer_of(session, request.id, actor.id)
    if offer.status == OfferStatus.ACCEPTED:
        return request
    if request.status != RequestStatus.OPEN:
        offer.status, offer.answered_at = OfferStatus.TOO_LATE, utcnow()
        if request.status in (RequestStatus.CANCELLED, RequestStatus.DONE):
            raise HelpClosed()
        raise HelpTaken()
    offer.status, offer.answered_at = OfferStatus.ACCEPTED, utcnow()
    await session.flush()
    if len(await accepted(session, request.id)) >= request.needed:
        request.status = RequestStatus.MATCHED
    events.emit(session, MATCHED, {"request_id": request.id, "volunteer_id": actor.id})
    return request


async def decline(session: AsyncSession, actor: Actor, *, request_id: int) -> HelpOffer:
    """Not this time; a volunteer who had said 我去 frees the place, and the request looks again."""
    request = await session.get(HelpRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound()
    offer = await _offer_of(session, request.id, actor.id)
    if request.status not in OPEN_REQUESTS:
        raise HelpClosed()
    was_going = offer.status == OfferStatus.ACCEPTED
    offer.status, offer.answered_at = OfferStatus.DECLINED, utcnow()
    if was_going:  # the elder was told this volunteer would come
        events.emit(session, WITHDRAWN, {"request_id": request.id, "volunteer_id": actor.id})
    if was_going and request.status == RequestStatus.MATCHED:
        request.status = RequestStatus.OPEN
        community = await session.get(Community, request.community_id)
        assert community is not None
        await offer_further(session, request, request.reach, ZoneInfo(community.timezone))
    return offer


async def confirm(
    session: AsyncSession,
    content_dir: Path,
    *,
    request_id: int,
    by: Person,
    via: str,
    code: str | None = None,
) -> HelpRequest:
    """It was done: by the elder's side (app, OK on the TV, a key on the phone, staff), or
    by a volunteer who went, with the code the elder showed them. Each volunteer who went
    is credited once, however often or at once this is confirmed."""
    request = await session.get(HelpRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound()
    if request.status == RequestStatus.DONE:
        return request
    if request.status == RequestStatus.CANCELLED:
        raise HelpClosed()
    if via == "code":
        await _offer_of(session, request.id, by.id)  # only a volunteer asked may try a code
        if request.code_failures >= MOST_CODE_TRIES or not secrets.compare_digest(code or "", request.confirm_code):
            request.code_failures += 1
            raise WrongHelpCode(left=max(0, MOST_CODE_TRIES - request.code_failures))
    going = await accepted(session, request.id)
    if not going:
        raise NothingToConfirm()
    community = await session.get(Community, request.community_id)
    assert community is not None
    request.status, request.done_at, request.confirmed_via = RequestStatus.DONE, utcnow(), via
    for offer in going:
        volunteer = await session.get(Person, offer.volunteer_id)
        assert volunteer is not None
        served = await points.for_help(
            session,
            content_dir,
            community.timezone,
            volunteer=volunteer,
            community_id=community.id,
            minutes=request.minutes,
            key=f"help:{request.id}:{volunteer.id}",
            paid_by_id=request.elder_id,
            by_id=by.id,
        )
        offer.minutes_credited = served.minutes
    events.emit(session, DONE, {"request_id": request.id})
    return request


async def cancel(session: AsyncSession, actor: Actor, *, request_id: int) -> HelpRequest:
    request = await session.get(HelpRequest, request_id, with_for_update=True)
    if request is None or not await asker_side(session, actor, request):
        raise NotFound()
    if request.status not in OPEN_REQUESTS:
        raise HelpClosed()
    request.status, request.cancelled_at = RequestStatus.CANCELLED, utcnow()
    events.emit(session, CANCELLED, {"request_id": request.id})
    return request


async def asker_side(session: AsyncSession, actor: Actor, request: HelpRequest) -> bool:
    """The elder, staff of her community, or family who may order for her now (not whoever
    once asked: a revoked link ends it)."""
    return (
        await rules.speaks_for(session, actor, person_id=request.elder_id, community_id=request.community_id)
        is not None
    )


async def confirm_by(
    session: AsyncSession, content_dir: Path, actor: Actor, *, request_id: int, code: str | None
) -> HelpRequest:
    """From the app: the elder's side confirms; a volunteer confirms with the elder's code."""
    request = await session.get(HelpRequest, request_id)
    if request is None:
        raise NotFound()
    if await asker_side(session, actor, request):
        via = "staff" if actor.is_staff_of(request.community_id) and actor.id != request.elder_id else "app"
        return await confirm(session, content_dir, request_id=request.id, by=actor.person, via=via)
    return await confirm(session, content_dir, request_id=request.id, by=actor.person, via="code", code=code)


# Reading


async def requests_of(
    session: AsyncSession, actor: Actor, *, person_id: int | None, limit: int = 20
) -> Sequence[HelpRequest]:
    elder = (await rules.acting_for(session, actor, person_id, Scope.ORDER_FOR)).person
    return await requests_for_elder(session, elder.id, limit=limit)


async def requests_for_elder(session: AsyncSession, elder_id: int, *, limit: int = 20) -> Sequence[HelpRequest]:
    rows = await session.execute(
        select(HelpRequest).where(HelpRequest.elder_id == elder_id).order_by(HelpRequest.id.desc()).limit(limit)
    )
    return rows.scalars().all()


async def asked_of(session: AsyncSession, actor: Actor, *, limit: int = 20) -> Sequence[tuple[HelpRequest, HelpOffer]]:
    """What I, a volunteer, am asked to help with or going to, soonest first."""
    rows = await session.execute(
        select(HelpRequest, HelpOffer)
        .join(HelpOffer, HelpOffer.request_id == HelpRequest.id)
        .where(
            HelpOffer.volunteer_id == actor.id,
            HelpOffer.status.in_([OfferStatus.ASKED, OfferStatus.ACCEPTED]),
            HelpRequest.status.in_(OPEN_REQUESTS),
        )
        .order_by(HelpRequest.starts_at)
        .limit(limit)
    )
    return [(r, o) for r, o in rows.all()]


async def offers_of(session: AsyncSession, request_ids: Sequence[int]) -> dict[int, list[HelpOffer]]:
    rows = await session.execute(select(HelpOffer).where(HelpOffer.request_id.in_(request_ids)).order_by(HelpOffer.id))
    found: dict[int, list[HelpOffer]] = {i: [] for i in request_ids}
    for o in rows.scalars():
        found[o.request_id].append(o)
    return found


async def count_open(session: AsyncSession, community_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(HelpRequest)
            .where(HelpRequest.community_id == community_id, HelpRequest.status == RequestStatus.OPEN)
        )
        or 0
    )


async def end_work(session: AsyncSession, parts: Parts, actor: Actor) -> None:
    """Her account is being deleted: her open requests are cancelled (the volunteers asked are
    told); where she had said 我去 she withdraws (the request looks again, the elder is told);
    nobody is asked of her any more."""
    theirs = await session.execute(
        select(HelpRequest.id).where(HelpRequest.elder_id == actor.id, HelpRequest.status.in_(OPEN_REQUESTS))
    )
    for request_id in theirs.scalars().all():
        await cancel(session, actor, request_id=request_id)
    answered = await session.execute(
        select(HelpOffer.request_id)
        .join(HelpRequest, HelpRequest.id == HelpOffer.request_id)
        .where(
            HelpOffer.volunteer_id == actor.id,
            HelpOffer.status.in_([OfferStatus.ASKED, OfferStatus.ACCEPTED]),
            HelpRequest.status.in_(OPEN_REQUESTS),
        )
    )
    for request_id in answered.scalars().all():
        await decline(session, actor, request_id=request_id)
    volunteer = await session.get(Volunteer, actor.id)
    if volunteer is not None:
        volunteer.active = False
