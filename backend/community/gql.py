"""The person's own view (me), the elder-mode home screen, people staff and family may see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import clock
from backend.access.subject import load_memberships
from backend.community import duty, screens, service
from backend.community.errors import CardInUseError
from backend.community.models import Community, Household, Person, Role
from backend.db import utcnow
from backend.errors import NotFound
from backend.family.gql import FamilyLinkView, links_connection
from backend.gql.base import SpokenText, mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.pagination import Connection, connection, decode_cursor, page_size
from backend.gql.permissions import IsStaff

CommunityRole = strawberry.enum(Role, name="CommunityRole")


@strawberry.type(name="Community")
class CommunityView:
    id: strawberry.ID
    name: str
    code: str


def community_view(c: Community) -> CommunityView:
    return CommunityView(id=strawberry.ID(str(c.id)), name=c.name, code=c.code)


@strawberry.type(name="Household")
class HouseholdView:
    id: strawberry.ID
    address: str
    community_id: strawberry.Private[int]

    @strawberry.field
    async def community(self, info: Info) -> CommunityView:
        return community_view(await info.context.loaders.community.load(self.community_id))


def household_view(h: Household) -> HouseholdView:
    return HouseholdView(id=strawberry.ID(str(h.id)), address=h.address, community_id=h.community_id)


@strawberry.type
class RoleInCommunity:
    role: CommunityRole  # type: ignore[valid-type]
    community_id: strawberry.Private[int]

    @strawberry.field
    async def community(self, info: Info) -> CommunityView:
        return community_view(await info.context.loaders.community.load(self.community_id))


@strawberry.type
class Accessibility:
    font_scale: float
    read_aloud: bool
    slow_speech: bool


async def _household(info: Info, household_id: int | None) -> HouseholdView | None:
    if household_id is None:
        return None
    household = await info.context.loaders.household.load(household_id)
    return household_view(household) if household else None


@strawberry.type(
    name="Person", description="Someone the viewer may see: themselves, their family, or residents they serve."
)
class PersonView:
    person: strawberry.Private[Person]
    # Why the viewer reads this person (the access log says it): a staff list, or one person.
    purpose: strawberry.Private[str] = "person"

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.person.id))

    @strawberry.field
    def name(self) -> str:
        return self.person.name

    @strawberry.field
    def phone(self, info: Info) -> str:
        info.context.note_read(self.person.id, "phone", self.purpose)
        return self.person.phone

    @strawberry.field
    def age(self, info: Info) -> int | None:
        return self.person.age(clock.today(info.context.rt.settings.zone))

    @strawberry.field
    def is_elder(self, info: Info) -> bool:
        return self.person.is_elder(clock.today(info.context.rt.settings.zone))

    @strawberry.field
    async def household(self, info: Info) -> HouseholdView | None:
        if self.person.household_id is not None:
            info.context.note_read(self.person.id, "address", self.purpose)
        return await _household(info, self.person.household_id)

    @strawberry.field(description="Whether a community card is on record (the number itself is never shown).")
    def has_community_card(self) -> bool:
        return self.person.community_card is not None

    @strawberry.field(description="Whether a phone-line PIN is set (the PIN itself is never shown).")
    def has_voice_pin(self) -> bool:
        return self.person.voice_pin_hash is not None


@strawberry.type
class Me(PersonView):
    """The signed-in person: what others may see of them, and their own settings and roles."""

    memberships: strawberry.Private[tuple[tuple[int, Role], ...] | None]

    @strawberry.field
    def locale(self) -> str:
        return self.person.locale

    @strawberry.field
    def birth_date(self) -> dt.date | None:
        return self.person.birth_date

    @strawberry.field
    def accessibility(self) -> Accessibility:
        p = self.person
        return Accessibility(font_scale=p.font_scale, read_aloud=p.read_aloud, slow_speech=p.slow_speech)

    @strawberry.field
    async def roles(self, info: Info) -> list[RoleInCommunity]:
        memberships = self.memberships
        if memberships is None:
            memberships = await load_memberships(info.context.session, self.person.id)
        return [RoleInCommunity(role=role, community_id=cid) for cid, role in memberships]

    @strawberry.field(description="My family links, newest first.")
    async def family_links(
        self, info: Info, first: int = 20, after: str | None = None, include_ended: bool = False
    ) -> Connection[FamilyLinkView]:
        return await links_connection(info, first=first, after=after, include_ended=include_ended)


def me_from(person: Person, memberships: tuple[tuple[int, Role], ...] | None) -> Me:
    return Me(person=person, memberships=memberships)


@strawberry.type
class HomeButton:
    key: str
    digit: str | None = strawberry.field(
        description="The key that chooses it on the TV remote and the phone keypad, the same on every door."
    )
    label: str
    plain_text: str
    icon: str
    action: str
    read_aloud_url: str


@strawberry.type(description="The elder-mode home screen: a greeting and a few big buttons.")
class HomeScreen:
    community: CommunityView
    greeting: SpokenText
    buttons: list[HomeButton]
    font_scale: float
    read_aloud: bool

    @classmethod
    def of(cls, home: screens.Home) -> HomeScreen:
        return cls(
            community=community_view(home.community),
            greeting=SpokenText(text=home.greeting.text, read_aloud_url=home.greeting.read_aloud_url),
            buttons=[HomeButton(**vars(b)) for b in home.buttons],
            font_scale=home.font_scale,
            read_aloud=home.read_aloud,
        )


@strawberry.type
class DutyDay:
    weekday: int = strawberry.field(description="0 = Monday.")
    person_ids: list[strawberry.ID]


@strawberry.type
class DutyException:
    date: dt.date
    person_id: strawberry.ID
    on_duty: bool


@strawberry.type
class DutyShiftView:
    name: str
    starts: dt.time
    ends: dt.time = strawberry.field(description="At or before `starts`: the shift runs past midnight.")
    weekly: list[DutyDay]
    exceptions: list[DutyException] = strawberry.field(description="From today on.")

    @classmethod
    def of(cls, s: duty.Shift) -> DutyShiftView:
        return cls(
            name=s.name,
            starts=s.starts,
            ends=s.ends,
            weekly=[DutyDay(weekday=d, person_ids=[strawberry.ID(str(p)) for p in ps]) for d, ps in s.weekly.items()],
            exceptions=[
                DutyException(date=d, person_id=strawberry.ID(str(p)), on_duty=on) for d, p, on in s.exceptions
            ],
        )


@strawberry.input
class DutyDayInput:
    weekday: int = strawberry.field(description="0 = Monday.")
    person_ids: list[strawberry.ID]


@strawberry.type
class DutyRota:
    shifts: list[DutyShiftView]
    on_duty_now: list[strawberry.ID] = strawberry.field(description="Who is on duty at this moment.")


@strawberry.type
class CommunityQuery:
    @strawberry.field(description="The signed-in person.")
    def me(self, info: Info) -> Me:
        actor = info.context.require_actor()
        return me_from(actor.person, actor.memberships)

    @strawberry.field(description="The elder-mode home screen for my community (or for this TV's home).")
    async def home(self, info: Info, community_id: strawberry.ID | None = None) -> HomeScreen:
        ctx = info.context
        cid, rt = optional_id(community_id, "communityId"), ctx.rt
        found = await screens.home(
            ctx.session, ctx.require_subject(), cid, catalog=rt.catalog, read_aloud=rt.read_aloud, locale=ctx.locale
        )
        return HomeScreen.of(found)

    @strawberry.field(description="A person I may see (myself, my family, residents I serve).")
    async def person(self, info: Info, id: strawberry.ID) -> PersonView:
        ctx = info.context
        return PersonView(person=await service.get_person(ctx.session, ctx.require_actor(), parse_id(id)))

    @strawberry.field(permission_classes=[IsStaff], description="Staff: residents of a community I serve.")
    async def residents(
        self,
        info: Info,
        community_id: strawberry.ID,
        first: int = 50,
        after: str | None = None,
        elders_only: bool = False,
    ) -> Connection[PersonView]:
        ctx = info.context
        limit = page_size(first)
        rows = await service.residents(
            ctx.session,
            ctx.require_actor(),
            community_id=parse_id(community_id, "communityId"),
            after_id=decode_cursor(after),
            limit=limit + 1,
            elders_only=elders_only,
            tz=ctx.rt.settings.zone,
        )
        return connection(rows, limit, key=lambda p: p.id, to_node=lambda p: PersonView(person=p, purpose="residents"))

    @strawberry.field(permission_classes=[IsStaff], description="Staff: who is on duty when in my community.")
    async def duty_rota(self, info: Info, community_id: strawberry.ID) -> DutyRota:
        return await _rota(info, parse_id(community_id, "communityId"))


async def _rota(info: Info, community_id: int) -> DutyRota:
    ctx = info.context
    if not ctx.require_actor().is_staff_of(community_id):
        raise NotFound()
    shifts = await duty.rota(ctx.session, community_id, clock.today(ctx.rt.settings.zone))
    now = (await duty.on_duty(ctx.session, [community_id], utcnow()))[community_id]
    return DutyRota(
        shifts=[DutyShiftView.of(s) for s in shifts], on_duty_now=[strawberry.ID(str(p)) for p in sorted(now)]
    )


UpdateAccessibilityPayload = Annotated[
    Me | PersonView | InvalidInputError | NotFoundError, strawberry.union("UpdateAccessibilityPayload")
]
FlagElderPayload = Annotated[PersonView | NotFoundError | InvalidInputError, strawberry.union("FlagElderPayload")]
DutyRotaPayload = Annotated[DutyRota | NotFoundError | InvalidInputError, strawberry.union("DutyRotaPayload")]
SetCommunityCardPayload = Annotated[
    PersonView | CardInUseError | NotFoundError | InvalidInputError, strawberry.union("SetCommunityCardPayload")
]


@strawberry.type
class CommunityMutation:
    @mutation(description="How my screens look and sound (or, with personId, an elder's I may manage).")
    async def update_accessibility(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        font_scale: float | None = None,
        read_aloud: bool | None = None,
        slow_speech: bool | None = None,
        locale: str | None = None,
    ) -> UpdateAccessibilityPayload:
        ctx, actor = info.context, info.context.require_actor()
        who = optional_id(person_id, "personId")
        person = await service.update_accessibility(
            ctx.session,
            actor,
            person_id=who,
            font_scale=font_scale,
            read_aloud=read_aloud,
            slow_speech=slow_speech,
            locale=locale,
        )
        return me_from(person, actor.memberships) if person.id == actor.id else PersonView(person=person)

    @mutation(permissions=[IsStaff], description="Staff: treat a resident under 60 as an elder, or stop.")
    async def flag_elder(self, info: Info, person_id: strawberry.ID, elder: bool) -> FlagElderPayload:
        ctx = info.context
        person = await service.flag_elder(
            ctx.session, ctx.require_actor(), person_id=parse_id(person_id, "personId"), elder=elder
        )
        return PersonView(person=person)

    @mutation(
        permissions=[IsStaff],
        description="Staff: record the community card issued to a resident, or clear it when it is lost.",
    )
    async def set_community_card(
        self, info: Info, person_id: strawberry.ID, card_number: str | None = None
    ) -> SetCommunityCardPayload:
        ctx = info.context
        person = await service.set_community_card(
            ctx.session, ctx.require_actor(), person_id=parse_id(person_id, "personId"), number=card_number
        )
        return PersonView(person=person)

    @mutation(
        permissions=[IsStaff],
        description="Admins and service centre: a shift's hours and who works it each weekday (replaces its weekly pattern).",
    )
    async def set_duty_shift(
        self,
        info: Info,
        community_id: strawberry.ID,
        name: str,
        starts: dt.time,
        ends: dt.time,
        weekly: list[DutyDayInput],
    ) -> DutyRotaPayload:
        ctx = info.context
        cid = parse_id(community_id, "communityId")
        await duty.set_shift(
            ctx.session,
            ctx.require_actor(),
            community_id=cid,
            name=name,
            starts=starts,
            ends=ends,
            weekly=[(d.weekday, [parse_id(p, "personIds") for p in d.person_ids]) for d in weekly],
        )
        await ctx.session.flush()
        return await _rota(info, cid)

    @mutation(
        permissions=[IsStaff],
        description="Admins and service centre: on one date, someone works a shift (onDuty) or has it off.",
    )
    async def set_duty_exception(
        self,
        info: Info,
        community_id: strawberry.ID,
        shift: str,
        date: dt.date,
        person_id: strawberry.ID,
        on_duty: bool,
    ) -> DutyRotaPayload:
        ctx = info.context
        cid = parse_id(community_id, "communityId")
        await duty.set_exception(
            ctx.session,
            ctx.require_actor(),
            community_id=cid,
            shift_name=shift,
            on_date=date,
            person_id=parse_id(person_id, "personId"),
            on=on_duty,
        )
        await ctx.session.flush()
        return await _rota(info, cid)
