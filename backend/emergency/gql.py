"""The emergency button over GraphQL: raise, cancel, answer, follow."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import clock
from backend.access import rules
from backend.access.subject import Door
from backend.community.models import Household, Person
from backend.emergency import band_health, repository, service
from backend.emergency.errors import AlertClosedError
from backend.emergency.models import Alert, AlertSource, AlertStatus, Outcome
from backend.emergency.policy import Policy, ResponderGroup
from backend.emergency.tasks import community_channel
from backend.errors import NotFound
from backend.gql.base import SpokenText, mutation, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.live import rows_as_they_change
from backend.gql.permissions import IsAuthenticated, IsStaff, SignedInOrTv
from backend.health import band
from backend.health import service as profile
from backend.health.gql import EmergencyProfileView
from backend.live import person_channel

EmergencySource = strawberry.enum(AlertSource, name="EmergencySource")
EmergencyStatus = strawberry.enum(AlertStatus, name="EmergencyStatus")
EmergencyOutcome = strawberry.enum(Outcome, name="EmergencyOutcome")
EmergencyResponderGroup = strawberry.enum(ResponderGroup, name="EmergencyResponderGroup")


@strawberry.type
class EscalationTier:
    tier: int
    after_seconds: int = strawberry.field(description="After the alarm was raised, if nobody has answered.")
    notify: list[EmergencyResponderGroup]  # type: ignore[valid-type]
    call_emergency_services: bool = strawberry.field(description="The alarm then says: call 120/110.")


@strawberry.type(description="Who is told when an alarm is not answered, and when.")
class EscalationPolicy:
    community_id: strawberry.ID
    tiers: list[EscalationTier]
    en_route_timeout_seconds: int = strawberry.field(
        description="En route this long without arriving: treated as no responder, the next tier is told."
    )
    repeat_every_seconds: int = strawberry.field(
        description="After the last tier, every tier is told again this often until someone answers."
    )

    @classmethod
    def of(cls, community_id: int, policy: Policy) -> EscalationPolicy:
        return cls(
            community_id=strawberry.ID(str(community_id)),
            tiers=[
                EscalationTier(
                    tier=t.tier,
                    after_seconds=t.after_s,
                    notify=[ResponderGroup(g) for g in t.notify],
                    call_emergency_services=t.call_emergency_services,
                )
                for t in policy.tiers
            ],
            en_route_timeout_seconds=policy.en_route_timeout_s,
            repeat_every_seconds=policy.repeat_every_s,
        )


@strawberry.input
class EscalationTierInput:
    after_seconds: int
    notify: list[EmergencyResponderGroup]  # type: ignore[valid-type]
    call_emergency_services: bool = False

    def as_tier(self) -> tuple[int, list[str], bool]:
        return (self.after_seconds, [ResponderGroup(g).value for g in self.notify], self.call_emergency_services)


@strawberry.type
class EmergencyStep:
    kind: str
    at: dt.datetime
    actor_name: str | None
    detail: strawberry.scalars.JSON

    @classmethod
    def of(cls, step: service.Step) -> EmergencyStep:
        return cls(kind=step.kind, at=step.at, actor_name=step.actor_name, detail=step.detail)


@strawberry.type(description="What a responder needs to help, and no more.")
class EmergencyElder:
    id: strawberry.ID
    name: str
    age: int | None
    person_id: strawberry.Private[int]
    purpose: strawberry.Private[str]
    phone_number: strawberry.Private[str]
    home_address: strawberry.Private[str | None]

    @classmethod
    def of(cls, person: Person, household: Household | None, alert: Alert, today: dt.date) -> EmergencyElder:
        """Her phone and address are read through the fields, each read logged for the alarm."""
        return cls(
            id=strawberry.ID(str(person.id)),
            name=person.name,
            age=person.age(today),
            person_id=person.id,
            purpose=service.alert_ref(alert.id),
            phone_number=person.phone,
            home_address=household.address if household else None,
        )

    @strawberry.field
    def phone(self, info: Info) -> str:
        info.context.note_read(self.person_id, "phone", self.purpose)
        return self.phone_number

    @strawberry.field
    def address(self, info: Info) -> str | None:
        if self.home_address is not None:
            info.context.note_read(self.person_id, "address", self.purpose)
        return self.home_address


@strawberry.type(name="Emergency")
class EmergencyView:
    alert: strawberry.Private[Alert]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.alert.id))

    @strawberry.field
    def status(self) -> EmergencyStatus:  # type: ignore[valid-type]
        return self.alert.status

    @strawberry.field
    def source(self) -> EmergencySource:  # type: ignore[valid-type]
        return self.alert.source

    @strawberry.field(description="How many times the button was pressed for this alarm.")
    def presses(self) -> int:
        return self.alert.presses

    @strawberry.field
    def tier(self) -> int:
        return self.alert.tier

    @strawberry.field(description="Nobody has answered: call 120/110 with the address below.")
    def call_emergency_services(self) -> bool:
        return self.alert.call_emergency_services

    @strawberry.field
    def raised_at(self) -> dt.datetime:
        return self.alert.raised_at

    @strawberry.field
    def acknowledged_at(self) -> dt.datetime | None:
        return self.alert.acknowledged_at

    @strawberry.field(description="When a responder reached the elder.")
    def arrived_at(self) -> dt.datetime | None:
        return self.alert.arrived_at

    @strawberry.field(
        description="Past the last tier and nobody has answered: every tier is told again until someone does."
    )
    def unanswered(self) -> bool:
        return self.alert.status == AlertStatus.OPEN and self.alert.unanswered_at is not None

    @strawberry.field
    def unanswered_since(self) -> dt.datetime | None:
        return self.alert.unanswered_at if self.unanswered() else None

    @strawberry.field
    def outcome(self) -> EmergencyOutcome | None:  # type: ignore[valid-type]
        return self.alert.outcome

    @strawberry.field
    async def elder(self, info: Info) -> EmergencyElder:
        person: Person | None = await info.context.loaders.person.load(self.alert.person_id)
        if person is None:
            raise NotFound()
        household: Household | None = (
            await info.context.loaders.household.load(self.alert.household_id) if self.alert.household_id else None
        )
        return EmergencyElder.of(person, household, self.alert, clock.today(info.context.rt.settings.zone))

    @strawberry.field(description="Family members to call, with their phones.")
    async def family_phones(self, info: Info) -> list[str]:
        ids = await rules.family_receiving_alerts(info.context.session, self.alert.person_id)
        people = await info.context.loaders.person.load_many(ids)
        if ids:
            info.context.note_read(self.alert.person_id, "family_phones", service.alert_ref(self.alert.id))
        return [p.phone for p in people if p is not None]

    @strawberry.field(
        description="Conditions, allergies, medicines and notes, if the elder consented. Every read is logged."
    )
    async def health_profile(self, info: Info) -> EmergencyProfileView | None:
        ctx = info.context
        found = await profile.read(
            ctx.session,
            self.alert.person_id,
            reader_id=ctx.require_actor().id,
            purpose=service.alert_ref(self.alert.id),
            factory=ctx.rt.factory,
        )
        return EmergencyProfileView.of(found) if found else None

    @strawberry.field(
        description="Where the band was when it raised this alarm, if the elder consented to location. Every read is logged."
    )
    async def band_location(self, info: Info) -> BandLocation | None:
        ctx = info.context
        found = await band.fix_for(
            ctx.session,
            self.alert.person_id,
            service.alert_ref(self.alert.id),
            reader_id=ctx.require_actor().id,
            factory=ctx.rt.factory,
        )
        return BandLocation(lat=found.lat, lon=found.lon, accuracy_m=found.accuracy_m, at=found.at) if found else None

    @strawberry.field(description="Everything that happened, oldest first.")
    async def timeline(self, info: Info) -> list[EmergencyStep]:
        ctx = info.context
        return [EmergencyStep.of(s) for s in await service.timeline(ctx.session, self.alert, ctx.loaders.names_of)]


@strawberry.type(description="Where a band was (WGS-84), as its vendor reported it.")
class BandLocation:
    lat: float
    lon: float
    accuracy_m: int | None = strawberry.field(description="How far off it may be, in metres, if the band said.")
    at: dt.datetime


@strawberry.type
class EmergencyRaised:
    emergency: EmergencyView
    new: bool = strawberry.field(description="False when this press joined an alarm already open.")
    reply: SpokenText = strawberry.field(description="What happens now, in plain words, to show and read aloud.")


_ERR = NotFoundError | InvalidInputError
TriggerEmergencyPayload = Annotated[EmergencyRaised | InvalidInputError, strawberry.union("TriggerEmergencyPayload")]
EmergencyPayload = Annotated[EmergencyView | AlertClosedError | _ERR, strawberry.union("EmergencyPayload")]
EscalationPolicyPayload = Annotated[EscalationPolicy | _ERR, strawberry.union("EscalationPolicyPayload")]


@strawberry.type(
    description="A band not heard from for a day (or reported offline a day ago): it would raise no alarm."
)
class BandOffline:
    device: str
    person_id: strawberry.ID
    name: str
    since: dt.datetime


@strawberry.type(description="A neighbour said they are going: the elder and everyone told hear it.")
class VolunteerGoing:
    emergency_id: strawberry.ID
    going: bool


VolunteerGoingPayload = Annotated[VolunteerGoing | AlertClosedError | _ERR, strawberry.union("VolunteerGoingPayload")]


@strawberry.type
class EmergencyQuery:
    @strawberry.field(description="One alarm, for the elder, their family receiving alerts, or staff.")
    async def emergency(self, info: Info, id: strawberry.ID) -> EmergencyView:
        ctx = info.context
        return EmergencyView(alert=await service.visible_alert(ctx.session, ctx.require_actor(), parse_id(id)))

    @strawberry.field(
        permission_classes=[IsStaff], description="Bands of the community's residents offline for a day, longest first."
    )
    async def bands_offline(self, info: Info, community_id: strawberry.ID) -> list[BandOffline]:
        ctx = info.context
        found = await band_health.offline(
            ctx.session, ctx.require_actor(), community_id=parse_id(community_id, "communityId")
        )
        return [
            BandOffline(device=d.identifier, person_id=strawberry.ID(str(p.id)), name=p.name, since=since)
            for d, p, since in found
        ]

    @strawberry.field(permission_classes=[IsStaff], description="Open alarms in my communities, unanswered first.")
    async def open_emergencies(self, info: Info, first: int = 50) -> list[EmergencyView]:
        ctx = info.context
        alerts = await repository.live_in_communities(
            ctx.session, sorted(ctx.require_actor().staff_community_ids), min(max(first, 1), 100)
        )
        return [EmergencyView(alert=a) for a in alerts]

    @strawberry.field(permission_classes=[IsStaff], description="My community's escalation policy.")
    async def escalation_policy(self, info: Info, community_id: strawberry.ID) -> EscalationPolicy:
        ctx = info.context
        cid = parse_id(community_id, "communityId")
        if not ctx.require_actor().is_staff_of(cid):
            raise NotFound()
        policies = await service.policies_of(ctx.session, ctx.rt.settings, [cid])
        return EscalationPolicy.of(cid, policies[cid])


@strawberry.type
class EmergencyMutation:
    @mutation(
        permissions=[SignedInOrTv],
        stores_elsewhere=True,
        description="One press (app, or a paired TV's red key): everyone who should know is told, until someone answers.",
    )
    async def trigger_emergency(
        self,
        info: Info,
        idempotency_key: str | None = None,
        # Not called `source` in Python: strawberry's field extensions take that name themselves.
        pressed_on: Annotated[EmergencySource, strawberry.argument(name="source")] = AlertSource.APP,  # type: ignore[valid-type]
    ) -> TriggerEmergencyPayload:
        ctx = info.context
        raiser = await rules.alarm_raised_by(ctx.session, ctx.require_subject(), clock.today(ctx.rt.settings.zone))
        # Hand the request's connection back before waiting: a thousand presses at once must
        # not hold the pool while the desk needs a connection to store them.
        await ctx.close()
        source = pressed_on if raiser.door == Door.APP else None
        pressed = await ctx.rt.alarm_desk.press(service.press_by(raiser, idempotency_key, source))
        text = service.reply_text(ctx.rt.catalog, ctx.locale, pressed)
        reply = SpokenText.said(info, text, slow=raiser.slow, shared=True)
        return EmergencyRaised(emergency=EmergencyView(alert=pressed.alert), new=pressed.new, reply=reply)

    @mutation(description="Who is told, and when, if an alarm is not answered (admins and service centre).")
    async def update_escalation_policy(
        self,
        info: Info,
        community_id: strawberry.ID,
        tiers: list[EscalationTierInput],
        en_route_timeout_seconds: int,
        repeat_every_seconds: int | None = None,
    ) -> EscalationPolicyPayload:
        ctx, cid = info.context, parse_id(community_id, "communityId")
        policy = await service.set_policy(
            ctx.session,
            ctx.require_actor(),
            community_id=cid,
            tiers=[t.as_tier() for t in tiers],
            en_route_timeout_s=en_route_timeout_seconds,
            repeat_every_s=repeat_every_seconds,
        )
        return EscalationPolicy.of(cid, policy)

    @mutation(description="The elder pressed by mistake.")
    async def cancel_emergency(self, info: Info, emergency_id: strawberry.ID) -> EmergencyPayload:
        ctx = info.context
        alert = await service.cancel(ctx.session, ctx.require_actor(), alert_id=parse_id(emergency_id, "emergencyId"))
        return EmergencyView(alert=alert)

    @mutation(description="I have seen it and I am handling it (stops escalation).")
    async def acknowledge_emergency(self, info: Info, emergency_id: strawberry.ID) -> EmergencyPayload:
        ctx = info.context
        alert = await service.acknowledge(
            ctx.session, ctx.require_actor(), alert_id=parse_id(emergency_id, "emergencyId")
        )
        return EmergencyView(alert=alert)

    @mutation(description="I am on my way.")
    async def mark_emergency_en_route(self, info: Info, emergency_id: strawberry.ID) -> EmergencyPayload:
        ctx = info.context
        alert = await service.mark_en_route(
            ctx.session, ctx.require_actor(), settings=ctx.rt.settings, alert_id=parse_id(emergency_id, "emergencyId")
        )
        return EmergencyView(alert=alert)

    @mutation(description="I am with the elder (stops the check on whether anyone arrived).")
    async def mark_emergency_arrived(self, info: Info, emergency_id: strawberry.ID) -> EmergencyPayload:
        ctx = info.context
        alert = await service.mark_arrived(
            ctx.session, ctx.require_actor(), alert_id=parse_id(emergency_id, "emergencyId")
        )
        return EmergencyView(alert=alert)

    @mutation(
        description="A neighbour who volunteers, told of an alarm: I am going to look in (the ladder goes on meanwhile)."
    )
    async def volunteer_going(self, info: Info, emergency_id: strawberry.ID) -> VolunteerGoingPayload:
        ctx = info.context
        alert = await service.volunteer_going(
            ctx.session, ctx.require_actor(), alert_id=parse_id(emergency_id, "emergencyId")
        )
        return VolunteerGoing(emergency_id=strawberry.ID(str(alert.id)), going=True)

    @mutation(description="Close the alarm with what happened.")
    async def resolve_emergency(
        self,
        info: Info,
        emergency_id: strawberry.ID,
        outcome: EmergencyOutcome,  # type: ignore[valid-type]
        note: str | None = None,
    ) -> EmergencyPayload:
        ctx = info.context
        alert = await service.resolve(
            ctx.session, ctx.require_actor(), alert_id=parse_id(emergency_id, "emergencyId"), outcome=outcome, note=note
        )
        return EmergencyView(alert=alert)


@strawberry.type
class EmergencySubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Alarms I respond to (staff: my communities; family: my elders), as they change.",
    )
    async def emergency_updates(self, info: Info) -> AsyncGenerator[EmergencyView, None]:
        ctx = info.context
        actor = ctx.require_actor()
        channels = [person_channel(actor.id), *(community_channel(c) for c in sorted(actor.staff_community_ids))]

        async def load(message: dict[str, object]) -> Alert | None:
            return await service.seen_by(ctx.session, actor, int(str(message["alert_id"])))

        async for alert in rows_as_they_change(ctx, channels, "emergency", load):
            yield EmergencyView(alert=alert)
