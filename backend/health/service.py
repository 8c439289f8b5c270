"""The emergency profile: conditions, allergies, medicines and notes for responders.

Health data under PIPL: kept only with the elder's separate consent (given on their own
phone, or in person with staff as witness), erased when the consent is withdrawn, and every
read is written to the access log with who read it and why.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.access import rules
from backend.access.rules import acting_for
from backend.access.subject import Actor
from backend.community.models import Community, Household, Person
from backend.db import is_writing, transaction, utcnow
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.health.errors import NoHealthConsent
from backend.health.models import (
    BandFix,
    ConsentScope,
    EmergencyProfile,
    HealthAccess,
    HealthConsent,
    VitalLimits,
    VitalSign,
)

MAX_FIELD = 500
FIELDS = ("conditions", "allergies", "medicines", "notes")


async def active_consent(
    session: AsyncSession, person_id: int, scope: ConsentScope = ConsentScope.PROFILE
) -> HealthConsent | None:
    return (
        await session.execute(
            select(HealthConsent)
            .where(
                HealthConsent.person_id == person_id,
                HealthConsent.scope == scope,
                HealthConsent.withdrawn_at.is_(None),
            )
            .order_by(HealthConsent.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def give_consent(
    session: AsyncSession, actor: Actor, *, person_id: int | None, scope: ConsentScope = ConsentScope.PROFILE
) -> HealthConsent:
    """The elder agrees on their own phone, or staff of their community record that the elder
    agreed in front of them. Family cannot consent for the elder. Each scope is its own."""
    if person_id is None or person_id == actor.id:
        subject, method = actor.person, "app"
    else:
        found = await session.get(Person, person_id)
        if found is None:
            raise NotFound()
        if not await rules.is_staff_for(session, actor, found.id):
            raise Forbidden()
        subject, method = found, "in_person"
    current = await active_consent(session, subject.id, scope)
    if current is not None:
        return current
    consent = HealthConsent(person_id=subject.id, scope=scope, method=method, recorded_by_id=actor.id)
    session.add(consent)
    await session.flush()
    return consent


async def withdraw_consent(
    session: AsyncSession, actor: Actor, *, person_id: int | None, scope: ConsentScope = ConsentScope.PROFILE
) -> None:
    """Withdrawing erases what the scope kept at once; the consent record itself is kept."""
    subject = (await acting_for(session, actor, person_id)).person
    if subject.id != actor.id and not actor.is_staff:
        raise Forbidden()  # only the elder, or staff on the elder's word
    consent = await active_consent(session, subject.id, scope)
    if consent is None:
        return
    consent.withdrawn_at, consent.withdrawn_by_id = utcnow(), actor.id
    await erase_scope(session, subject.id, scope)


async def erase_scope(session: AsyncSession, person_id: int, scope: ConsentScope) -> None:
    kept: dict[ConsentScope, tuple[type[EmergencyProfile | BandFix | VitalLimits | VitalSign], ...]] = {
        ConsentScope.PROFILE: (EmergencyProfile,),
        ConsentScope.LOCATION: (BandFix,),
        ConsentScope.VITALS: (VitalLimits, VitalSign),
    }
    for table in kept[scope]:
        await session.execute(delete(table).where(table.person_id == person_id))


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


async def logged(
    session: AsyncSession, factory: async_sessionmaker[AsyncSession], person_id: int, reader_id: int, purpose: str
) -> None:
    """Logs a read in the caller's transaction when it writes, else in one of its own (a
    reading request must not turn into a writing one: SQLite cannot upgrade a read snapshot
    safely)."""
    if await is_writing(session):
        log_read(session, person_id, reader_id, purpose)
    else:
        async with transaction(factory) as log_session:
            log_read(log_session, person_id, reader_id, purpose)


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
    await logged(session, factory, person_id, reader_id, purpose)
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


async def community_code_of(session: AsyncSession, person_id: int) -> str:
    """The community whose policy applies to someone (their home's); empty without a home."""
    code = await session.scalar(
        select(Community.code)
        .join(Household, Household.community_id == Community.id)
        .join(Person, Person.household_id == Household.id)
        .where(Person.id == person_id)
    )
    return code or ""


async def add_note(session: AsyncSession, person_id: int, text: str, *, by: Person) -> bool:
    """A grid worker's health note from a visit goes into the profile's notes (dated, newest
    last, the oldest dropped past the field's length) only with the elder's profile consent.
    Whether it was kept."""
    if await active_consent(session, person_id) is None:
        return False
    profile = await session.get(EmergencyProfile, person_id, with_for_update=True)
    if profile is None:
        profile = EmergencyProfile(person_id=person_id, conditions="", allergies="", medicines="", notes="")
        session.add(profile)
    line = f"{utcnow():%Y-%m-%d} {by.name}: {text}"
    notes = "\n".join(part for part in (profile.notes, line) if part)
    profile.notes = notes[-MAX_FIELD:]
    profile.updated_at, profile.updated_by_id = utcnow(), by.id
    log_read(session, person_id, by.id, "visit")
    await session.flush()
    return True
