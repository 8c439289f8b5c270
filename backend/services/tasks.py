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
from backend.orders.notices import Notifier
from backend.parts import Parts
from backend.services import service
from backend.services.catalog import service_catalog
from backend.services.models import OPEN_BOOKINGS, Booking, BookingStatus, Rating, ServiceRating


def _when(booking: Booking, tz: ZoneInfo, locale: str, catalog: Catalog) -> str:
    local = booking.slot_start.astimezone(tz)
    return catalog.text(locale, "services.when", month=str(local.month), day=str(local.day), time=f"{local:%H:%M}")


async def _words(session: AsyncSession, parts: Parts, booking: Booking, person: Person) -> dict[str, str]:
    catalog = service_catalog(parts.settings.content_dir)
    offering = catalog.offerings.get(booking.offering_code)
    provider = catalog.providers.get(booking.provider_code)
    return {
        "service": offering.name(person.locale) if offering else booking.offering_code,
        "when": _when(booking, parts.settings.zone, person.locale, parts.catalog),
        "provider": provider.name if provider else "",
        "address": booking.address,
    }


async def _provider_staff(session: AsyncSession, parts: Parts, booking: Booking) -> set[int]:
    provider = service_catalog(parts.settings.content_dir).providers.get(booking.provider_code)
    return await community_repository.ids_by_phones(session, provider.staff_phones if provider else set())


async def _centre_of(session: AsyncSession, booking: Booking) -> set[int]:
    """The service centre of the elder's community."""
    household = await session.get(Household, booking.household_id) if booking.household_id else None
    if household is None:
        return set()
    return set(await community_repository.with_role(session, household.community_id, [Role.SERVICE_CENTRE]))


NOTICES = Notifier("services", "service_booking", "bookingId", words=_words, staff=_provider_staff)


@consumer("services.booked", name="services.tell_booked")
async def tell_booked(session: AsyncSession, event: Event, parts: Parts) -> None:
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    if booking is None:
        return
    await NOTICES.placed(session, parts, booking, for_you="booked_for_you", to_staff="new_booking")


@consumer("services.cancelled", name="services.tell_cancelled")
async def tell_cancelled(session: AsyncSession, event: Event, parts: Parts) -> None:
    booking = await session.get(Booking, int(event.payload["booking_id"]))
    if booking is None:
        return
    await NOTICES.cancelled(
        session, parts, booking, by_id=int(event.payload["by"]), declined=bool(event.payload.get("declined"))
    )


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
    await NOTICES.progress(session, parts, booking, step, at=clock.clock_time(at, parts.settings.zone))


@jobs.job_handler(service.REMIND)
async def remind(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    """The day before and an hour before: the elder, and whoever ordered for them; a visit
    still unconfirmed, the provider's staff and the service centre too."""
    booking = await session.get(Booking, int(run.payload["booking_id"]))
    if booking is None or booking.status not in OPEN_BOOKINGS:
        return
    ahead = str(run.payload["ahead"])
    await NOTICES.progress(session, parts, booking, f"remind_{ahead}")
    if booking.status == BookingStatus.REQUESTED:
        # Nobody at the provider has said they will come: they and the centre hear it while
        # there is still time, not the elder at a door nobody knocks on.
        people = await _provider_staff(session, parts, booking) | await _centre_of(session, booking)
        elder = await session.get(Person, booking.beneficiary_id)
        await NOTICES.tell(session, parts, people, booking, "unconfirmed", elder=elder.name if elder else "")


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
    await NOTICES.tell(
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
    people = {booking.placed_by_id} | await _centre_of(session, booking)
    at = dt.datetime.fromisoformat(str(event.payload["at"]))
    await NOTICES.tell(session, parts, people, booking, "no_show", at=clock.clock_time(at, parts.settings.zone))
