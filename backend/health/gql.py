"""Health data over GraphQL: the consents (profile, location, vitals), the emergency profile,
the band's vital-sign limits and the readings outside them, and who read any of it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.access.rules import acting_for
from backend.db import utcnow
from backend.gql.base import mutation, optional_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated
from backend.health import band
from backend.health import service as health
from backend.health.errors import NoHealthConsentError
from backend.health.models import ConsentScope, EmergencyProfile, HealthAccess, VitalSign

HealthConsentScope = strawberry.enum(
    ConsentScope,
    name="HealthConsentScope",
    description="Each is its own consent: the emergency profile, the band's location at an alarm, its vital signs.",
)


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
    person_id: strawberry.Private[int]
    consented: bool = strawberry.field(description="To the emergency profile.")
    consent_method: str | None = strawberry.field(description="app (the elder on their phone) or in_person.")
    location_consented: bool = strawberry.field(description="The band's location is kept when it raises an alarm.")
    vitals_consented: bool = strawberry.field(description="The band's heart rate and blood oxygen are judged.")

    @strawberry.field(description="Read, and logged in her health access log, only when asked for.")
    async def profile(self, info: Info) -> EmergencyProfileView | None:
        ctx = info.context
        found = await health.read(
            ctx.session, self.person_id, reader_id=ctx.require_actor().id, purpose="settings", factory=ctx.rt.factory
        )
        return EmergencyProfileView.of(found) if found else None


@strawberry.type(description="The limits a band's readings are judged against.")
class VitalLimitsView:
    consented: bool
    heart_low: int = strawberry.field(description="Beats per minute.")
    heart_high: int
    oxygen_low: int = strawberry.field(description="Blood oxygen, percent.")
    own: bool = strawberry.field(description="Set for this elder; else the community's defaults.")


@strawberry.type(description="A band's reading outside the elder's limits (readings within them are not kept).")
class VitalSignView:
    kind: str = strawberry.field(description="heart_rate (per minute) or blood_oxygen (%).")
    value: int
    side: str = strawberry.field(description="high or low")
    limit: int
    at: dt.datetime

    @classmethod
    def of(cls, s: VitalSign) -> VitalSignView:
        return cls(kind=s.kind, value=s.value, side=s.side, limit=s.limit, at=s.at)


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
    consent = await health.active_consent(ctx.session, person_id)
    session = ctx.session
    return HealthProfileStatus(
        person_id=person_id,
        consented=consent is not None,
        consent_method=consent.method if consent else None,
        location_consented=await health.active_consent(session, person_id, ConsentScope.LOCATION) is not None,
        vitals_consented=await health.active_consent(session, person_id, ConsentScope.VITALS) is not None,
    )


async def _limits(info: Info, person_id: int) -> VitalLimitsView:
    ctx = info.context
    defaults = band.policy_for(ctx.rt.settings.content_dir, await health.community_code_of(ctx.session, person_id))
    limits = await band.limits_of(ctx.session, person_id, defaults.defaults)
    consent = await health.active_consent(ctx.session, person_id, ConsentScope.VITALS)
    return VitalLimitsView(
        consented=consent is not None,
        heart_low=limits.heart_low,
        heart_high=limits.heart_high,
        oxygen_low=limits.oxygen_low,
        own=limits.own,
    )


HealthPayload = Annotated[
    HealthProfileStatus | NoHealthConsentError | InvalidInputError | NotFoundError, strawberry.union("HealthPayload")
]
VitalLimitsPayload = Annotated[
    VitalLimitsView | NoHealthConsentError | InvalidInputError | NotFoundError, strawberry.union("VitalLimitsPayload")
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
            await health.access_log(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        )
        names = await ctx.loaders.names_of([e.reader_id for e in entries])
        return [
            HealthAccessEntry(at=e.at, reader_name=name, purpose=e.purpose)
            for e, name in zip(entries, names, strict=True)
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The limits the band's readings are judged against (mine, or an elder's whose settings I manage).",
    )
    async def vital_limits(self, info: Info, person_id: strawberry.ID | None = None) -> VitalLimitsView:
        ctx = info.context
        subject = (await acting_for(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))).person
        return await _limits(info, subject.id)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The band's readings outside the limits in the last days (at most 30), newest first. The read is logged.",
    )
    async def vital_signs(
        self, info: Info, person_id: strawberry.ID | None = None, days: int = 7
    ) -> list[VitalSignView]:
        ctx = info.context
        since = utcnow() - dt.timedelta(days=max(1, min(days, 30)))
        found = await band.signs_of(
            ctx.session,
            ctx.require_actor(),
            person_id=optional_id(person_id, "personId"),
            since=since,
            factory=ctx.rt.factory,
        )
        return [VitalSignView.of(s) for s in found]


@strawberry.type
class ProfileMutation:
    @mutation(description="The elder agrees to keep an emergency profile (staff: the elder agreed in front of me).")
    async def give_health_consent(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        scope: HealthConsentScope = ConsentScope.PROFILE,  # type: ignore[valid-type]
    ) -> HealthPayload:
        ctx = info.context
        consent = await health.give_consent(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"), scope=scope
        )
        return await _status(info, consent.person_id)

    @mutation(
        description="Withdraw one consent: what it kept (the profile, the locations, the vital signs) is erased at once."
    )
    async def withdraw_health_consent(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        scope: HealthConsentScope = ConsentScope.PROFILE,  # type: ignore[valid-type]
    ) -> HealthConsentWithdrawn:
        ctx = info.context
        await health.withdraw_consent(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"), scope=scope
        )
        return HealthConsentWithdrawn(withdrawn=True)

    @mutation(
        description="Limits for the band's heart rate and blood oxygen (as the doctor advised); needs the vitals consent."
    )
    async def set_vital_limits(
        self,
        info: Info,
        heart_low: int,
        heart_high: int,
        oxygen_low: int,
        person_id: strawberry.ID | None = None,
    ) -> VitalLimitsPayload:
        ctx = info.context
        saved = await band.set_limits(
            ctx.session,
            ctx.require_actor(),
            person_id=optional_id(person_id, "personId"),
            heart_low=heart_low,
            heart_high=heart_high,
            oxygen_low=oxygen_low,
        )
        return await _limits(info, saved.person_id)

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
        saved = await health.update(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"), values=values
        )
        return await _status(info, saved.person_id)
