"""After a booking changes: the elder, whoever booked and the provider hear about it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, jobs
from backend.community import repository as community_repository
from backend.community.models import Household, Person, Role
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.events import Event, consumer
from backend.jobs import JobRun
from backend.notify import service as notify
from backend.parts import Parts
from backend.services import service
from backend.services.catalog import service_catalog
from backend.services.models import OPEN_BOOKINGS, Booking, Rating, ServiceRating


def _when(booking: Booking, tz: ZoneInfo, locale: str, catalog: Catalog) -> str:
    local = booking.slot_start.astimezone(tz)
    return catalog.text(locale, "services.when", month=str(local.month), day=str(local.day), time=f"{local:%H:%M}")


async def _tell(
    session: AsyncSession, parts: Parts, people: set[int], booking: Booking, key: str, **params: str
) -> None:
    catalog = service_catalog(parts.settings.content_dir)
    offering = catalog.offerings.get(booking.offering_code)
    provider = catalog.providers.get(booking.provider_code)
    for person in await community_repository.people_by_ids(session, sorted(people)):
        text = parts.catalog.text(
            person.locale,
            f"services.{key}",
            service=offering.name(person.locale) if offering else booking.offering_code,
            when=_when(booking, parts.settings.zone, person.locale, parts.catalog),
            provider=provider.name if provider else "",
            address=booking.address,
            **params,
        )
        await notify.tell(
            session,
            parts,
            person,
            title=parts.catalog.text(person.locale, "services.title"),
            text=text,
            data={"kind": "service_booking", "bookingId": str(booking.id)},
        )


async def _provider_staff(session: AsyncSession, parts: Parts, booking: Booking) -> set[int]:
    provider = service_catalog(parts.settings.content_dir).providers.get(booking.provider_code)
    return await community_repository.ids_by_phones(session, provider.staff_phones if provider else set())


@consumer("services.booked", name="services.tell_booked")
async def tell_booked(session: AsyncSession, event: Event, parts: Parts) -> None:
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    if booking is None:
        return
    if booking.placed_by_id != booking.beneficiary_id:
        by = await session.get(Person, booking.placed_by_id)
        await _tell(session, parts, {booking.beneficiary_id}, booking, "booked_for_you", by=by.name if by else "")
    await _tell(session, parts, await _provider_staff(session, parts, booking), booking, "new_booking")


@consumer("services.cancelled", name="services.tell_cancelled")
async def tell_cancelled(session: AsyncSession, event: Event, parts: Parts) -> None:
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    if booking is None:
        return
    by = await session.get(Person, int(event.payload["by"]))
    involved = {booking.beneficiary_id, booking.placed_by_id} | await _provider_staff(session, parts, booking)
    key = "declined" if event.payload.get("declined") else "cancelled"
    reason = booking.cancel_reason or "-"
    await _tell(session, parts, involved - {by.id if by else 0}, booking, key, by=by.name if by else "", reason=reason)


@consumer("services.confirmed", name="services.tell_confirmed")
@consumer("services.started", name="services.tell_started")
@consumer("services.completed", name="services.tell_completed")
async def tell_progress(session: AsyncSession, event: Event, parts: Parts) -> None:
    """The elder and whoever ordered for them follow the visit."""
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    if booking is None:
        return
    step = event.topic.rsplit(".", 1)[1]
    at = booking.started_at or utcnow()
    await _tell(
        session,
        parts,
        {booking.beneficiary_id, booking.placed_by_id},
        booking,
        step,
        at=clock.clock_time(at, parts.settings.zone),
    )


@jobs.job_handler(service.REMIND)
async def remind(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """The day before and an hour before: the elder, and whoever ordered for them."""
    booking = await session.get(Booking, int(run.payload["booking_id"]))
    if booking is None or booking.status not in OPEN_BOOKINGS:
        return
    ahead = str(run.payload["ahead"])
    await _tell(session, parts, {booking.beneficiary_id, booking.placed_by_id}, booking, f"remind_{ahead}")


@consumer("services.rated", name="services.tell_unsatisfied")
async def tell_unsatisfied(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Every 不满意 reaches the community's service centre and admins at once."""
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    rating = await session.get(ServiceRating, int(event.payload["booking_id"]))
    if booking is None or rating is None or rating.rating != Rating.UNSATISFIED or booking.household_id is None:
        return
    household = await session.get(Household, booking.household_id)
    if household is None:
        return
    staff = await community_repository.with_role(session, household.community_id, [Role.SERVICE_CENTRE, Role.ADMIN])
    elder = await session.get(Person, booking.beneficiary_id)
    await _tell(
        session,
        parts,
        set(staff),
        booking,
        "unsatisfied",
        elder=elder.name if elder else "",
        comment=rating.comment or "-",
    )


@consumer("services.no_show", name="services.tell_no_show")
async def tell_no_show(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Nobody opened the door: whoever ordered and the service centre should check on the elder."""
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    if booking is None:
        return
    people = {booking.placed_by_id}
    household = await session.get(Household, booking.household_id) if booking.household_id else None
    if household is not None:
        people |= set(await community_repository.with_role(session, household.community_id, [Role.SERVICE_CENTRE]))
    at = dt.datetime.fromisoformat(str(event.payload["at"]))
    await _tell(session, parts, people, booking, "no_show", at=clock.clock_time(at, parts.settings.zone))
