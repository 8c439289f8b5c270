"""Who is told what about a request for help: the volunteers asked, the elder (and whoever
asked for them) when someone is coming, the volunteers when it is done or called off, and
the service centre when no volunteer in the community fits."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.community import repository as community_repository
from backend.community.models import Building, Community, Household, Person, Role
from backend.events import Event, consumer
from backend.jobs import JobRun
from backend.mutual_help import service
from backend.mutual_help.models import HelpRequest, RequestStatus
from backend.mutual_help.screens import kind_name, when
from backend.notify import service as notify
from backend.parts import Parts


async def _asker_side(session: AsyncSession, request: HelpRequest) -> set[int]:
    """The elder, and whoever asked for her if they still may (a revoked link hears nothing)."""
    return await rules.still_speaking_for(session, request.elder_id, request.asked_by_id)


async def _tell(
    session: AsyncSession,
    parts: Parts,
    people_ids: Iterable[int],
    request: HelpRequest,
    key: str,
    *,
    place: str | None = None,
    **words: str,
) -> None:
    people = await community_repository.people_by_ids(session, sorted(set(people_ids)))
    elder = await session.get(Person, request.elder_id)
    community = await session.get(Community, request.community_id)
    zone = ZoneInfo(community.timezone) if community else parts.settings.zone
    local = request.starts_at.astimezone(zone)
    catalog = parts.catalog
    await notify.send_many(
        session,
        parts,
        [
            notify.Outgoing(
                p,
                kind="mutual_help",
                title=catalog.text(p.locale, "mutual_help.title"),
                body=catalog.text(
                    p.locale,
                    f"mutual_help.{key}",
                    elder=elder.name if elder else "",
                    help=kind_name(catalog, p.locale, request.kind),
                    when=when(catalog, p.locale, local),
                    place=request.place if place is None else place,
                    **words,
                ),
                data={"kind": "mutual_help", "requestId": str(request.id)},
            )
            for p in people
        ],
    )


@consumer(service.ASKED, name="mutual_help.tell_volunteers")
async def tell_volunteers(session: AsyncSession, event: Event, parts: Parts) -> None:
    request = await session.get(HelpRequest, int(event.payload["request_id"]))
    if request is None or request.status != RequestStatus.OPEN:
        return
    # Those asked hear the building; the address is for whoever says they are going.
    household = await session.get(Household, request.household_id)
    building = await session.get(Building, household.building_id) if household else None
    await _tell(
        session,
        parts,
        [int(i) for i in event.payload["volunteer_ids"]],
        request,
        "asked",
        place=building.name if building else "",
    )


@consumer(service.NOBODY, name="mutual_help.tell_centre")
async def tell_centre(session: AsyncSession, event: Event, parts: Parts) -> None:
    request = await session.get(HelpRequest, int(event.payload["request_id"]))
    if request is None or request.status != RequestStatus.OPEN:
        return
    centre = await community_repository.with_role(session, request.community_id, [Role.SERVICE_CENTRE])
    if not event.payload.get("asked"):  # nobody fits: the door that asked already told her so
        await _tell(session, parts, centre, request, "nobody")
        return
    # Volunteers were asked and not enough said 我去: the elder, told someone would say, hears why she waits.
    await _tell(session, parts, centre, request, "nobody_took")
    await _tell(session, parts, await _asker_side(session, request), request, "nobody_took_elder")


@consumer(service.MATCHED, name="mutual_help.tell_elder")
async def tell_elder(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Someone is coming: the elder hears who, and the code to give them when it is done."""
    request = await session.get(HelpRequest, int(event.payload["request_id"]))
    volunteer = await session.get(Person, int(event.payload["volunteer_id"]))
    if request is None or volunteer is None or request.status not in service.OPEN_REQUESTS:
        return
    await _tell(
        session,
        parts,
        await _asker_side(session, request),
        request,
        "coming",
        volunteer=volunteer.name,
        code=request.confirm_code,
    )


@consumer(service.WITHDRAWN, name="mutual_help.tell_withdrawn")
async def tell_withdrawn(session: AsyncSession, event: Event, parts: Parts) -> None:
    """A volunteer who had said 我去 cannot come after all: the elder hears it, and that others
    are being asked."""
    request = await session.get(HelpRequest, int(event.payload["request_id"]))
    volunteer = await session.get(Person, int(event.payload["volunteer_id"]))
    if request is None or volunteer is None or request.status not in service.OPEN_REQUESTS:
        return
    await _tell(session, parts, await _asker_side(session, request), request, "withdrawn", volunteer=volunteer.name)


@consumer(service.DONE, name="mutual_help.thank_volunteers")
async def thank_volunteers(session: AsyncSession, event: Event, parts: Parts) -> None:
    request = await session.get(HelpRequest, int(event.payload["request_id"]))
    if request is None:
        return
    for offer in await service.accepted(session, request.id):
        await _tell(session, parts, [offer.volunteer_id], request, "thanks", minutes=str(offer.minutes_credited or 0))


@consumer(service.CANCELLED, name="mutual_help.tell_cancelled")
async def tell_cancelled(session: AsyncSession, event: Event, parts: Parts) -> None:
    request = await session.get(HelpRequest, int(event.payload["request_id"]))
    if request is None:
        return
    await _tell(
        session, parts, [o.volunteer_id for o in await service.accepted(session, request.id)], request, "cancelled"
    )


@jobs.job_handler(service.WIDEN)
async def widen(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.widen(session, int(run.payload["request_id"]))
