"""Tell people about the events they signed up for: a place given to them from the waiting
list, a sign-up family made for them, an event called off, and a reminder before it starts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.bulletin import service
from backend.bulletin.models import CommunityEvent
from backend.community.models import Person
from backend.events import Event, consumer
from backend.jobs import JobRun
from backend.notify import service as notify
from backend.parts import Parts


def when(parts: Parts, event: CommunityEvent, locale: str) -> str:
    local = event.starts_at.astimezone(parts.settings.zone)
    return parts.catalog.text(locale, "bulletin.when", month=local.month, day=local.day, time=f"{local:%H:%M}")


async def _tell(
    session: AsyncSession, parts: Parts, people: list[Person], event: CommunityEvent, key: str, by: str = ""
) -> None:
    for person in people:
        await notify.tell(
            session,
            parts,
            person,
            title=parts.catalog.text(person.locale, "bulletin.title"),
            text=parts.catalog.text(
                person.locale,
                f"bulletin.{key}",
                event=event.title,
                when=when(parts, event, person.locale),
                place=event.place,
                by=by,
            ),
            data={"kind": "community_event", "eventId": str(event.id)},
        )


@consumer(service.SIGNUP_CHANGED, name="bulletin.tell_signup")
async def tell_signup(session: AsyncSession, event: Event, parts: Parts) -> None:
    """Someone else signed me up (family, staff), or a place came free for me. Signing up for
    myself needs no message: the screen I pressed on says it."""
    row = await session.get(CommunityEvent, int(event.payload["event_id"]))
    person = await session.get(Person, int(event.payload["person_id"]))
    status, by_id = event.payload["status"], event.payload.get("by_id")
    if row is None or person is None or row.cancelled_at is not None:
        return
    if status == "promoted":
        await _tell(session, parts, [person], row, "promoted")
    elif by_id is not None and by_id != person.id:
        by = await session.get(Person, int(by_id))
        await _tell(session, parts, [person], row, f"signed_up_for_you_{status}", by=by.name if by else "")


@consumer(service.EVENT_CANCELLED, name="bulletin.tell_cancelled")
async def tell_cancelled(session: AsyncSession, event: Event, parts: Parts) -> None:
    row = await session.get(CommunityEvent, int(event.payload["event_id"]))
    if row is None:
        return
    await _tell(session, parts, await service.everyone_signed_up(session, row.id), row, "cancelled")


@jobs.job_handler(service.REMIND)
async def remind(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    row = await session.get(CommunityEvent, int(run.payload["event_id"]))
    if row is None or row.cancelled_at is not None:
        return
    await _tell(session, parts, await service.confirmed_people(session, row.id), row, "remind")
