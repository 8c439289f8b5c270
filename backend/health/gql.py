"""The emergency profile over GraphQL: consent, the profile itself, and who read it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.access.rules import acting_for
from backend.gql.base import mutation, optional_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated
from backend.health import service as profile
from backend.health.errors import NoHealthConsentError
from backend.health.models import EmergencyProfile, HealthAccess


@strawberry.type(name="EmergencyProfile", description="Health data for responders (kept with the elder's consent).")
class EmergencyProfileView:
    conditions: str
    allergies: str
    medicines: str
    notes: str
    updated_at: dt.datetime

    @classmethod
    def of(cls, p: EmergencyProfile) -> EmergencyProfileView:
        return cls(
            conditions=p.conditions,
            allergies=p.allergies,
            medicines=p.medicines,
            notes=p.notes,
            updated_at=p.updated_at,
        )


@strawberry.type
class HealthProfileStatus:
    consented: bool
    consent_method: str | None = strawberry.field(description="app (the elder on their phone) or in_person.")
    profile: EmergencyProfileView | None


@strawberry.type
class HealthAccessEntry:
    at: dt.datetime
    reader_name: str | None
    purpose: str


@strawberry.type
class HealthConsentWithdrawn:
    withdrawn: bool


async def _status(info: Info, person_id: int) -> HealthProfileStatus:
    ctx = info.context
    consent = await profile.active_consent(ctx.session, person_id)
    found = await profile.read(
        ctx.session, person_id, reader_id=ctx.require_actor().id, purpose="settings", factory=ctx.rt.factory
    )
    return HealthProfileStatus(
        consented=consent is not None,
        consent_method=consent.method if consent else None,
        profile=EmergencyProfileView.of(found) if found else None,
    )


HealthPayload = Annotated[
    HealthProfileStatus | NoHealthConsentError | InvalidInputError | NotFoundError, strawberry.union("HealthPayload")
]


@strawberry.type
class ProfileQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="My emergency profile (or an elder's whose settings I manage). The read is logged.",
    )
    async def emergency_profile(self, info: Info, person_id: strawberry.ID | None = None) -> HealthProfileStatus:
        ctx = info.context
        subject = (await acting_for(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))).person
        return await _status(info, subject.id)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Who read this health data, newest first.")
    async def health_access_log(self, info: Info, person_id: strawberry.ID | None = None) -> list[HealthAccessEntry]:
        ctx = info.context
        entries: list[HealthAccess] = list(
            await profile.access_log(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        )
        names = await ctx.loaders.names_of([e.reader_id for e in entries])
        return [
            HealthAccessEntry(at=e.at, reader_name=name, purpose=e.purpose)
            for e, name in zip(entries, names, strict=True)
        ]


@strawberry.type
class ProfileMutation:
    @mutation(description="The elder agrees to keep an emergency profile (staff: the elder agreed in front of me).")
    async def give_health_consent(self, info: Info, person_id: strawberry.ID | None = None) -> HealthPayload:
        ctx = info.context
        consent = await profile.give_consent(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId")
        )
        return await _status(info, consent.person_id)

    @mutation(description="Withdraw consent: the profile is erased at once.")
    async def withdraw_health_consent(
        self, info: Info, person_id: strawberry.ID | None = None
    ) -> HealthConsentWithdrawn:
        ctx = info.context
        await profile.withdraw_consent(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        return HealthConsentWithdrawn(withdrawn=True)

    @mutation(description="Conditions, allergies, medicines and notes for responders; needs the elder's consent.")
    async def update_emergency_profile(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        conditions: str | None = None,
        allergies: str | None = None,
        medicines: str | None = None,
        notes: str | None = None,
    ) -> HealthPayload:
        ctx = info.context
        values = {"conditions": conditions, "allergies": allergies, "medicines": medicines, "notes": notes}
        saved = await profile.update(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"), values=values
        )
        return await _status(info, saved.person_id)
