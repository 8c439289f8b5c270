"""Services near home over GraphQL: the menu, open slots, booking and cancelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.community.models import Person
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated
from backend.services import service
from backend.services.catalog import Offering, ServiceCatalog, service_catalog
from backend.services.errors import (
    AlreadyRatedError,
    BookingClosedError,
    NotCompletedError,
    SlotFullError,
    TooEarlyError,
    WrongCheckInCodeError,
)
from backend.services.models import Booking, BookingStatus, Rating, ServiceRating
from backend.wallet.errors import InsufficientFundsError, SpendingLimitReachedError
from backend.wallet.payments import PayFrom

ServiceBookingStatus = strawberry.enum(BookingStatus, name="ServiceBookingStatus")
ServicePayFrom = strawberry.enum(PayFrom, name="ServicePayFrom")
ServiceRatingGrade = strawberry.enum(Rating, name="ServiceRatingGrade")


@strawberry.type(description="How one provider's visits were rated (satisfied, ok, unsatisfied).")
class ProviderRatings:
    provider_name: str
    satisfied: int
    ok: int
    unsatisfied: int

    @classmethod
    def of(cls, provider_name: str, counts: Mapping[Rating, int]) -> ProviderRatings:
        return cls(
            provider_name=provider_name,
            satisfied=counts[Rating.SATISFIED],
            ok=counts[Rating.OK],
            unsatisfied=counts[Rating.UNSATISFIED],
        )

    @strawberry.field(description="Satisfied 3, ok 2, unsatisfied 1, averaged; null before the first rating.")
    def average(self) -> float | None:
        total = self.satisfied + self.ok + self.unsatisfied
        if not total:
            return None
        return round((3 * self.satisfied + 2 * self.ok + self.unsatisfied) / total, 2)


@strawberry.type(description="An unsatisfied rating for staff to follow up: who, what, when, and what they said.")
class UnsatisfiedRating:
    booking_id: strawberry.ID
    elder_name: str
    service_name: str
    provider_name: str
    slot_start: dt.datetime
    comment: str
    rated_at: dt.datetime
    rated_by_family: bool

    @classmethod
    def of(
        cls, found: tuple[ServiceRating, Booking, Person], catalog: ServiceCatalog, locale: str
    ) -> UnsatisfiedRating:
        rating, booking, elder = found
        offering = catalog.offerings.get(booking.offering_code)
        provider = catalog.providers.get(booking.provider_code)
        return cls(
            booking_id=strawberry.ID(str(booking.id)),
            elder_name=elder.name,
            service_name=offering.name(locale) if offering else booking.offering_code,
            provider_name=provider.name if provider else booking.provider_code,
            slot_start=booking.slot_start,
            comment=rating.comment,
            rated_at=rating.at,
            rated_by_family=rating.by_id != booking.beneficiary_id,
        )


@strawberry.type
class ServiceRated:
    booking_id: strawberry.ID
    rating: ServiceRatingGrade  # type: ignore[valid-type]


@strawberry.type(name="ServiceOffering")
class OfferingView:
    code: str
    category: str
    category_name: str
    name: str
    provider_name: str
    price_fen: int
    duration_minutes: int

    @classmethod
    def of(cls, offering: Offering, info: Info) -> OfferingView:
        ctx = info.context
        catalog = service_catalog(ctx.rt.settings.content_dir)
        return cls(
            code=offering.code,
            category=offering.category,
            category_name=catalog.category_name(offering.category, ctx.locale),
            name=offering.name(ctx.locale),
            provider_name=catalog.providers[offering.provider].name,
            price_fen=offering.price_fen,
            duration_minutes=offering.duration_min,
        )


@strawberry.type
class ServiceSlot:
    start: dt.datetime
    places_left: int


@strawberry.type(name="ServiceBooking")
class BookingView:
    booking: strawberry.Private[Booking]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.booking.id))

    @strawberry.field
    def offering_code(self) -> str:
        return self.booking.offering_code

    @strawberry.field
    def slot_start(self) -> dt.datetime:
        return self.booking.slot_start

    @strawberry.field
    def status(self) -> ServiceBookingStatus:  # type: ignore[valid-type]
        return self.booking.status

    @strawberry.field
    def price_fen(self) -> int:
        return self.booking.price_fen

    @strawberry.field
    def address(self) -> str:
        return self.booking.address

    @strawberry.field(description="self, family or staff: who placed it for the elder.")
    def placed_as(self) -> str:
        return self.booking.placed_as

    @strawberry.field(description="The elder's code to give at the door when the visit is done; for the elder only.")
    def check_in_code(self, info: Info) -> str | None:
        actor = info.context.actor
        return self.booking.check_in_code if actor is not None and actor.id == self.booking.beneficiary_id else None

    @strawberry.field
    def confirmed_at(self) -> dt.datetime | None:
        return self.booking.confirmed_at

    @strawberry.field(description="When the worker arrived.")
    def started_at(self) -> dt.datetime | None:
        return self.booking.started_at

    @strawberry.field
    def completed_at(self) -> dt.datetime | None:
        return self.booking.completed_at


ServiceBookingPayload = Annotated[
    BookingView
    | SlotFullError
    | InsufficientFundsError
    | SpendingLimitReachedError
    | InvalidInputError
    | NotFoundError,
    strawberry.union("ServiceBookingPayload"),
]
ProviderBookingPayload = Annotated[
    BookingView | BookingClosedError | WrongCheckInCodeError | TooEarlyError | InvalidInputError | NotFoundError,
    strawberry.union("ProviderBookingPayload"),
]
RateServicePayload = Annotated[
    ServiceRated | NotCompletedError | AlreadyRatedError | InvalidInputError | NotFoundError,
    strawberry.union("RateServicePayload"),
]
CancelBookingPayload = Annotated[
    BookingView | BookingClosedError | InvalidInputError | NotFoundError, strawberry.union("CancelBookingPayload")
]


@strawberry.type
class ServicesQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="What can come to this home, and its price.")
    async def service_catalog(self, info: Info, person_id: strawberry.ID | None = None) -> list[OfferingView]:
        ctx = info.context
        _, offerings = await service.offerings_for(
            ctx.session, ctx.rt.settings, ctx.require_actor(), optional_id(person_id, "personId")
        )
        return [OfferingView.of(o, info) for o in offerings]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Slots still open, with places left.")
    async def available_slots(
        self, info: Info, offering_code: str, person_id: strawberry.ID | None = None
    ) -> list[ServiceSlot]:
        ctx = info.context
        slots = await service.available_slots(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            offering_code=offering_code,
            person_id=optional_id(person_id, "personId"),
        )
        return [ServiceSlot(start=start, places_left=left) for start, left in slots]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Bookings for me, or an elder I order for.")
    async def service_bookings(self, info: Info, person_id: strawberry.ID | None = None) -> list[BookingView]:
        ctx = info.context
        found = await service.bookings_of(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId")
        )
        return [BookingView(booking=b) for b in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="For a provider's staff: how visits were rated."
    )
    async def provider_ratings(self, info: Info) -> list[ProviderRatings]:
        ctx = info.context
        catalog = service_catalog(ctx.rt.settings.content_dir)
        found = await service.provider_ratings(ctx.session, ctx.rt.settings, ctx.require_actor())
        return [ProviderRatings.of(catalog.providers[code].name, counts) for code, counts in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Service centre and admins: every unsatisfied rating in the community, newest first.",
    )
    async def unsatisfied_ratings(self, info: Info, community_id: strawberry.ID) -> list[UnsatisfiedRating]:
        ctx = info.context
        catalog = service_catalog(ctx.rt.settings.content_dir)
        found = await service.unsatisfied(
            ctx.session, ctx.require_actor(), community_id=parse_id(community_id, "communityId")
        )
        return [UnsatisfiedRating.of(row, catalog, ctx.locale) for row in found]


@strawberry.type
class ServicesMutation:
    @mutation(description="Book a service for me or an elder: a place, the payment and the booking, or none.")
    async def book_service(
        self,
        info: Info,
        offering_code: str,
        slot_start: dt.datetime,
        idempotency_key: str,
        person_id: strawberry.ID | None = None,
        note: str | None = None,
        pay_from: ServicePayFrom = PayFrom.BENEFICIARY,  # type: ignore[valid-type]
    ) -> ServiceBookingPayload:
        ctx = info.context
        booking, _new = await service.book(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            offering_code=offering_code,
            slot_start=slot_start,
            person_id=optional_id(person_id, "personId"),
            note=note,
            idempotency_key=idempotency_key,
            pay_from=pay_from,
        )
        return BookingView(booking=booking)

    @mutation(description="Cancel before it starts: the place is given back and the money refunded.")
    async def cancel_booking(
        self, info: Info, booking_id: strawberry.ID, reason: str | None = None
    ) -> CancelBookingPayload:
        ctx = info.context
        booking = await service.cancel(
            ctx.session, ctx.require_actor(), booking_id=parse_id(booking_id, "bookingId"), reason=reason
        )
        return BookingView(booking=booking)

    @mutation(description="Provider: we will come.")
    async def confirm_booking(self, info: Info, booking_id: strawberry.ID) -> ProviderBookingPayload:
        ctx = info.context
        booking = await service.confirm(
            ctx.session, ctx.rt.settings, ctx.require_actor(), booking_id=parse_id(booking_id, "bookingId")
        )
        return BookingView(booking=booking)

    @mutation(description="Provider: at the door (whoever ordered is told, with the time).")
    async def start_booking(self, info: Info, booking_id: strawberry.ID) -> ProviderBookingPayload:
        ctx = info.context
        booking = await service.start(
            ctx.session, ctx.rt.settings, ctx.require_actor(), booking_id=parse_id(booking_id, "bookingId")
        )
        return BookingView(booking=booking)

    @mutation(description="Provider: done, with the code the elder gives at the door or their community card number.")
    async def complete_booking(
        self,
        info: Info,
        booking_id: strawberry.ID,
        check_in_code: str | None = None,
        card_number: str | None = None,
    ) -> ProviderBookingPayload:
        ctx = info.context
        booking = await service.complete(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            booking_id=parse_id(booking_id, "bookingId"),
            check_in_code=check_in_code,
            card_number=card_number,
        )
        return BookingView(booking=booking)

    @mutation(description="Provider: came at the time and nobody answered (refunded; family and centre are told).")
    async def mark_no_show(self, info: Info, booking_id: strawberry.ID) -> ProviderBookingPayload:
        ctx = info.context
        booking = await service.no_show(
            ctx.session, ctx.rt.settings, ctx.require_actor(), booking_id=parse_id(booking_id, "bookingId")
        )
        return BookingView(booking=booking)

    @mutation(description="Rate a completed visit: satisfied, ok or unsatisfied (by the elder or whoever ordered it).")
    async def rate_service(
        self,
        info: Info,
        booking_id: strawberry.ID,
        rating: ServiceRatingGrade,  # type: ignore[valid-type]
        comment: str | None = None,
    ) -> RateServicePayload:
        ctx = info.context
        row = await service.rate(
            ctx.session,
            ctx.require_actor(),
            booking_id=parse_id(booking_id, "bookingId"),
            rating=rating,
            comment=comment,
        )
        return ServiceRated(booking_id=strawberry.ID(str(row.booking_id)), rating=row.rating)
