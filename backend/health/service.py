"""The emergency profile: conditions, allergies, medicines and notes for responders.

Health data under PIPL: kept only with the elder's separate consent (given on their own
phone, or in person with staff as witness), erased when the consent is withdrawn, and every
read is written to the access log with who read it and why.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.access import rules
from backend.access.rules import acting_for
from backend.access.subject import Actor
from backend.community.models import Person
from backend.db import is_writing, transaction, utcnow
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.health.errors import NoHealthConsent
from backend.health.models import EmergencyProfile, HealthAccess, HealthConsent

MAX_FIELD = 500
FIELDS = ("conditions", "allergies", "medicines", "notes")


async def active_consent(session: AsyncSession, person_id: int) -> HealthConsent | None:
    return (
        await session.execute(
            select(HealthConsent)
            .where(HealthConsent.person_id == person_id, HealthConsent.withdrawn_at.is_(None))
            .order_by(HealthConsent.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def give_consent(session: AsyncSession, actor: Actor, *, person_id: int | None) -> HealthConsent:
    """The elder agrees on their own phone, or staff of their community record that the elder
    agreed in front of them. Family cannot consent for the elder."""
    if person_id is None or person_id == actor.id:
        subject, method = actor.person, "app"
    else:
        found = await session.get(Person, person_id)
        if found is None:
            raise NotFound()
        if not await rules.is_staff_for(session, actor, found.id):
            raise Forbidden()
        subject, method = found, "in_person"
    current = await active_consent(session, subject.id)
    if current is not None:
        return current
    consent = HealthConsent(person_id=subject.id, method=method, recorded_by_id=actor.id)
    session.add(consent)
    await session.flush()
    return consent


async def withdraw_consent(session: AsyncSession, actor: Actor, *, person_id: int | None) -> None:
    """Withdrawing erases the profile at once; the consent record itself is kept."""
    subject = (await acting_for(session, actor, person_id)).person
    if subject.id != actor.id and not actor.is_staff:
        raise Forbidden()  # only the elder, or staff on the elder's word
    consent = await active_consent(session, subject.id)
    if consent is None:
        return
    consent.withdrawn_at, consent.withdrawn_by_id = utcnow(), actor.id
    profile = await session.get(EmergencyProfile, subject.id)
    if profile is not None:
        await session.delete(profile)


async def update(
    session: AsyncSession, actor: Actor, *, person_id: int | None, values: dict[str, str | None]
) -> EmergencyProfile:
    subject = (await acting_for(session, actor, person_id)).person
    for name, value in values.items():
        if name not in FIELDS or (value is not None and len(value) > MAX_FIELD):
            raise InvalidInput(name, field=name)
    if await active_consent(session, subject.id) is None:
        raise NoHealthConsent()
    profile = await session.get(EmergencyProfile, subject.id, with_for_update=True)
    if profile is None:
        profile = EmergencyProfile(person_id=subject.id, conditions="", allergies="", medicines="", notes="")
        session.add(profile)
    for name, value in values.items():
        if value is not None:
            setattr(profile, name, value.strip())
    profile.updated_at, profile.updated_by_id = utcnow(), actor.id
    log_read(session, subject.id, actor.id, "update")
    await session.flush()
    return profile


def log_read(session: AsyncSession, person_id: int, reader_id: int, purpose: str) -> None:
    session.add(HealthAccess(person_id=person_id, reader_id=reader_id, purpose=purpose))


async def read(
    session: AsyncSession,
    person_id: int,
    *,
    reader_id: int,
    purpose: str,
    factory: async_sessionmaker[AsyncSession],
) -> EmergencyProfile | None:
    """The profile, if the elder consented. Every read is logged, found or not (consent
    withdrawn, nothing written yet): asking is itself an access to health data. `factory`
    opens the log's own transaction when the caller's session only reads."""
    if await is_writing(session):
        log_read(session, person_id, reader_id, purpose)
    else:
        # A reading request logs in a transaction of its own rather than turn into a writing
        # one (SQLite cannot upgrade a read snapshot safely).
        async with transaction(factory) as log_session:
            log_read(log_session, person_id, reader_id, purpose)
    if await active_consent(session, person_id) is None:
        return None
    return await session.get(EmergencyProfile, person_id)


async def access_log(session: AsyncSession, actor: Actor, *, person_id: int | None) -> Sequence[HealthAccess]:
    """The elder (or staff, or family managing their settings) sees who read their health data."""
    subject = (await acting_for(session, actor, person_id)).person
    return (
        (
            await session.execute(
                select(HealthAccess)
                .where(HealthAccess.person_id == subject.id)
                .order_by(HealthAccess.id.desc())
                .limit(100)
            )
        )
        .scalars()
        .all()
    )
