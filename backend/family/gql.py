"""Family links over GraphQL: invite, ask, answer, confirm in person, revoke, list."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.community.models import Person
from backend.family import repository, service
from backend.family.errors import (
    AlreadyLinkedError,
    CannotLinkSelfError,
    InvalidScopesError,
    InvitationClosedError,
    NotYourTurnError,
)
from backend.family.models import FamilyLink, LinkStatus, Scope
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.context import Context
from backend.gql.errors import InvalidInputError, InvalidPhoneError, NotFoundError, RateLimitedError
from backend.gql.live import rows_as_they_change
from backend.gql.pagination import Connection, connection, decode_cursor, page_size
from backend.gql.permissions import IsAuthenticated, IsStaff
from backend.live import person_channel
from backend.phones import mask_phone
from backend.wallet import payments

FamilyScope = strawberry.enum(Scope, name="FamilyScope", description="What a family member may do for the elder.")
FamilyLinkStatus = strawberry.enum(LinkStatus, name="FamilyLinkStatus")


@strawberry.enum
class FamilySide(Enum):
    ELDER = "elder"
    FAMILY_MEMBER = "family_member"


@strawberry.type(description="The other person in a link: a masked phone until the link is active.")
class LinkedPerson:
    id: strawberry.ID
    name: str
    phone: str


@strawberry.type
class FamilyLinkChange:
    action: str
    at: dt.datetime
    by_me: bool


@strawberry.type(name="FamilyLink")
class FamilyLinkView:
    link: strawberry.Private[FamilyLink]
    viewer_id: strawberry.Private[int]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.link.id))

    @strawberry.field
    def relation(self) -> str:
        return self.link.relation

    @strawberry.field
    def scopes(self) -> list[FamilyScope]:  # type: ignore[valid-type]
        return [Scope(s) for s in self.link.scopes]

    @strawberry.field
    def status(self) -> FamilyLinkStatus:  # type: ignore[valid-type]
        return self.link.status

    @strawberry.field(description="Which side of the link the viewer is on.")
    def my_side(self) -> FamilySide | None:
        if self.viewer_id == self.link.elder_id:
            return FamilySide.ELDER
        if self.viewer_id == self.link.family_id:
            return FamilySide.FAMILY_MEMBER
        return None

    @strawberry.field(description="True when the viewer still has to accept or decline.")
    def awaiting_my_answer(self) -> bool:
        if self.link.status != LinkStatus.PENDING:
            return False
        if self.viewer_id == self.link.elder_id:
            return self.link.elder_consent_at is None
        return self.viewer_id == self.link.family_id and self.link.family_accepted_at is None

    @strawberry.field
    def can_order_for(self) -> bool:
        return self.link.has_scope(Scope.ORDER_FOR)

    @strawberry.field
    def receives_alerts(self) -> bool:
        return self.link.has_scope(Scope.RECEIVE_ALERTS)

    @strawberry.field
    def consent_given_in_person(self) -> bool:
        return self.link.elder_consent_via is not None and self.link.elder_consent_via.value == "staff_in_person"

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.link.created_at

    @strawberry.field(description="The elder lets this family member pay from the elder's own wallet.")
    def elder_wallet_allowed(self) -> bool:
        return self.link.elder_wallet_allowed

    @strawberry.field(description="At most this much a month from the elder's wallet; null: no limit.")
    def monthly_limit_fen(self) -> int | None:
        return self.link.monthly_limit_fen

    @strawberry.field(description="Spent from the elder's wallet through this link this month, net of refunds.")
    async def spent_this_month_fen(self, info: Info) -> int:
        tz = info.context.rt.settings.zone
        return await payments.spent_through(info.context.session, self.link, payments.month_start(tz))

    async def _person(self, info: Info, person_id: int) -> LinkedPerson:
        person: Person | None = await info.context.loaders.person.load(person_id)
        assert person is not None
        phone = person.phone if self.link.status == LinkStatus.ACTIVE else mask_phone(person.phone)
        return LinkedPerson(id=strawberry.ID(str(person.id)), name=person.name, phone=phone)

    @strawberry.field
    async def elder(self, info: Info) -> LinkedPerson:
        return await self._person(info, self.link.elder_id)

    @strawberry.field
    async def family_member(self, info: Info) -> LinkedPerson:
        return await self._person(info, self.link.family_id)

    @strawberry.field(description="Every change to this link, oldest first.")
    async def history(self, info: Info) -> list[FamilyLinkChange]:
        ctx = info.context
        changes = await service.events_visible(ctx.session, ctx.require_actor(), self.link)
        return [FamilyLinkChange(action=c.action, at=c.at, by_me=c.actor_id == self.viewer_id) for c in changes]


def view(link: FamilyLink, info: Info) -> FamilyLinkView:
    return FamilyLinkView(link=link, viewer_id=info.context.actor.id)


async def links_connection(
    info: Info, *, first: int, after: str | None, include_ended: bool
) -> Connection[FamilyLinkView]:
    ctx = info.context
    limit = page_size(first)
    rows = await service.links_page(
        ctx.session, ctx.require_actor(), before_id=decode_cursor(after), limit=limit + 1, include_ended=include_ended
    )
    return connection(rows, limit, key=lambda link: link.id, to_node=lambda link: view(link, info))


@strawberry.input
class InviteFamilyMemberInput:
    phone: str
    relation: str = strawberry.field(
        description="How the family member is related to the elder: a value of familyRelations."
    )
    scopes: list[FamilyScope]  # type: ignore[valid-type]
    name: str | None = None
    elder_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff only: the elder who is with you in person."
    )


@strawberry.input
class RequestFamilyLinkInput:
    elder_phone: str
    relation: str
    scopes: list[FamilyScope]  # type: ignore[valid-type]


_ERRORS = InvalidInputError | NotFoundError
# Starting a link (an invitation or a request) can fail the same ways.
_STARTED = (
    FamilyLinkView | InvalidPhoneError | AlreadyLinkedError | CannotLinkSelfError | InvalidScopesError | _ERRORS
) | RateLimitedError
InviteFamilyMemberPayload = Annotated[_STARTED, strawberry.union("InviteFamilyMemberPayload")]
RequestFamilyLinkPayload = Annotated[_STARTED, strawberry.union("RequestFamilyLinkPayload")]


@strawberry.type(description="A word for how a family member is related to an elder.")
class FamilyRelation:
    value: str = strawberry.field(description="What an invitation sends (relation).")
    label: str = strawberry.field(description="What to show, in my language.")


def _rules(ctx: Context) -> service.InvitationRules:
    settings = ctx.rt.settings
    return service.InvitationRules(
        relations=frozenset(r["value"] for r in ctx.rt.catalog.family_relations()),
        per_hour=settings.invitations_per_hour,
        per_day=settings.invitations_per_day,
        to_a_number_per_day=settings.invitations_to_a_number_per_day,
    )


RespondToFamilyInvitationPayload = Annotated[
    FamilyLinkView | InvitationClosedError | NotYourTurnError | _ERRORS,
    strawberry.union("RespondToFamilyInvitationPayload"),
]
SetFamilySpendingPayload = Annotated[
    FamilyLinkView | InvitationClosedError | _ERRORS, strawberry.union("SetFamilySpendingPayload")
]
RevokeFamilyLinkPayload = Annotated[
    FamilyLinkView | InvitationClosedError | _ERRORS, strawberry.union("RevokeFamilyLinkPayload")
]


@strawberry.type
class FamilyQuery:
    @strawberry.field(description="My family links, newest first.")
    async def family_links(
        self, info: Info, first: int = 20, after: str | None = None, include_ended: bool = False
    ) -> Connection[FamilyLinkView]:
        return await links_connection(info, first=first, after=after, include_ended=include_ended)

    @strawberry.field(description="The words an invitation's relation may be, labelled in my language.")
    def family_relations(self, info: Info) -> list[FamilyRelation]:
        locale = info.context.locale
        return [
            FamilyRelation(value=r["value"], label=r.get(locale, r["value"]))
            for r in info.context.rt.catalog.family_relations()
        ]


@strawberry.type
class FamilyMutation:
    @mutation(description="An elder invites a family member by phone (staff: with the elder, in person).")
    async def invite_family_member(self, info: Info, input: InviteFamilyMemberInput) -> InviteFamilyMemberPayload:
        ctx = info.context
        link = await service.invite(
            ctx.session,
            ctx.require_actor(),
            phone=input.phone,
            relation=input.relation,
            scopes=input.scopes,
            rules=_rules(ctx),
            name=input.name,
            elder_id=optional_id(input.elder_id, "elderId"),
        )
        return view(link, info)

    @mutation(description="A family member asks to be linked to an elder; the elder or staff must agree.")
    async def request_family_link(self, info: Info, input: RequestFamilyLinkInput) -> RequestFamilyLinkPayload:
        ctx = info.context
        link = await service.request_link(
            ctx.session,
            ctx.require_actor(),
            elder_phone=input.elder_phone,
            relation=input.relation,
            scopes=input.scopes,
            rules=_rules(ctx),
        )
        return view(link, info)

    @mutation(description="Accept or decline an invitation waiting for my answer.")
    async def respond_to_family_invitation(
        self, info: Info, link_id: strawberry.ID, accept: bool
    ) -> RespondToFamilyInvitationPayload:
        ctx = info.context
        link = await service.respond(
            ctx.session, ctx.require_actor(), link_id=parse_id(link_id, "linkId"), accept=accept
        )
        return view(link, info)

    @mutation(permissions=[IsStaff], description="Staff: the elder agreed in person, face to face.")
    async def confirm_family_link_in_person(
        self, info: Info, link_id: strawberry.ID
    ) -> RespondToFamilyInvitationPayload:
        ctx = info.context
        link = await service.confirm_in_person(ctx.session, ctx.require_actor(), link_id=parse_id(link_id, "linkId"))
        return view(link, info)

    @mutation(
        description="The elder: may this family member pay from my wallet, and up to how much a month (like a family card)."
    )
    async def set_family_spending(
        self, info: Info, link_id: strawberry.ID, elder_wallet_allowed: bool, monthly_limit_fen: int | None = None
    ) -> SetFamilySpendingPayload:
        ctx = info.context
        link = await service.set_spending(
            ctx.session,
            ctx.require_actor(),
            link_id=parse_id(link_id, "linkId"),
            elder_wallet_allowed=elder_wallet_allowed,
            monthly_limit_fen=monthly_limit_fen,
        )
        return view(link, info)

    @mutation(description="End a link at once (the elder, the family member, or staff).")
    async def revoke_family_link(
        self, info: Info, link_id: strawberry.ID, reason: str | None = None
    ) -> RevokeFamilyLinkPayload:
        ctx = info.context
        link = await service.revoke(
            ctx.session, ctx.require_actor(), link_id=parse_id(link_id, "linkId"), reason=reason
        )
        return view(link, info)


@strawberry.type
class FamilySubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="My family links as they change: invited, accepted, declined, revoked.",
    )
    async def family_link_updates(self, info: Info) -> AsyncGenerator[FamilyLinkView, None]:
        ctx = info.context
        actor = ctx.require_actor()

        async def load(message: dict[str, object]) -> FamilyLink | None:
            link = await repository.get(ctx.session, int(str(message["link_id"])))
            return link if link is not None and actor.id in (link.elder_id, link.family_id) else None

        async for link in rows_as_they_change(ctx, [person_channel(actor.id)], "family_link", load):
            yield view(link, info)
