"""Sign-in, sessions, the voice PIN and TV pairing over GraphQL."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.auth import service, tv_device
from backend.auth.errors import (
    CodeExpiredError,
    InvalidCodeError,
    InvalidDeviceCodeError,
    InvalidPinError,
    InvalidRefreshTokenError,
    NoHouseholdError,
    SmsUnavailableError,
    TooManyAttemptsError,
    TvPairedElsewhereError,
)
from backend.community.gql import Me, PersonView, me_from
from backend.community.models import Device
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, InvalidPhoneError, NotFoundError, RateLimitedError
from backend.gql.permissions import IsAuthenticated, IsStaff
from backend.phones import mask_phone


@strawberry.type
class LoginCodeSent:
    expires_in_seconds: int
    resend_after_seconds: int
    masked_phone: str

    @classmethod
    def of(cls, sent: service.CodeSent) -> LoginCodeSent:
        return cls(
            expires_in_seconds=sent.expires_in_s,
            resend_after_seconds=sent.resend_after_s,
            masked_phone=mask_phone(sent.phone),
        )


@strawberry.type
class AuthSession:
    access_token: str
    refresh_token: str
    expires_in_seconds: int
    me: Me


@strawberry.type
class SignedOut:
    ok: bool


@strawberry.type
class TvDevice:
    id: strawberry.ID
    serial: str
    household_address: str | None


RequestLoginCodePayload = Annotated[
    LoginCodeSent | InvalidPhoneError | RateLimitedError | SmsUnavailableError,
    strawberry.union("RequestLoginCodePayload"),
]
SignInPayload = Annotated[
    AuthSession | InvalidPhoneError | InvalidCodeError | CodeExpiredError | TooManyAttemptsError,
    strawberry.union("SignInPayload"),
]
RefreshSessionPayload = Annotated[AuthSession | InvalidRefreshTokenError, strawberry.union("RefreshSessionPayload")]
SetVoicePinPayload = Annotated[Me | InvalidPinError, strawberry.union("SetVoicePinPayload")]
SetVoicePinForPayload = Annotated[
    PersonView | InvalidPinError | NotFoundError | InvalidInputError, strawberry.union("SetVoicePinForPayload")
]
ApproveTvDevicePayload = Annotated[
    TvDevice
    | InvalidDeviceCodeError
    | NoHouseholdError
    | NotFoundError
    | InvalidInputError
    | TvPairedElsewhereError
    | RateLimitedError,
    strawberry.union("ApproveTvDevicePayload"),
]


@strawberry.type
class TvDeviceUnpaired:
    id: strawberry.ID
    serial: str


UnpairTvDevicePayload = Annotated[
    TvDeviceUnpaired | NotFoundError | InvalidInputError, strawberry.union("UnpairTvDevicePayload")
]


async def _tv_device_view(info: Info, device: Device) -> TvDevice:
    household = await info.context.loaders.household.load(device.household_id) if device.household_id else None
    return TvDevice(
        id=strawberry.ID(str(device.id)),
        serial=device.identifier,
        household_address=household.address if household else None,
    )


@strawberry.type
class AuthQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The TVs paired with my home (or, with personId, the home of an elder I manage).",
    )
    async def tv_devices(self, info: Info, person_id: strawberry.ID | None = None) -> list[TvDevice]:
        ctx = info.context
        devices = await tv_device.tv_devices(
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId")
        )
        return [await _tv_device_view(info, d) for d in devices]


def _session_payload(info: Info, issued: service.IssuedSession) -> AuthSession:
    return AuthSession(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in_seconds=issued.access_expires_in_s,
        me=me_from(issued.person, memberships=None),
    )


@strawberry.type
class AuthMutation:
    @mutation(permissions=[], description="Send a 6-digit sign-in code by SMS.")
    async def request_login_code(self, info: Info, phone: str) -> RequestLoginCodePayload:
        ctx = info.context
        sent = await service.request_login_code(ctx.session, ctx.rt, raw_phone=phone, ip=ctx.ip)
        return LoginCodeSent.of(sent)

    @mutation(permissions=[], description="Sign in with the phone number and the code from the SMS.")
    async def sign_in(self, info: Info, phone: str, code: str, client: str | None = None) -> SignInPayload:
        ctx = info.context
        issued = await service.sign_in(
            ctx.session,
            settings=ctx.rt.settings,
            tokens=ctx.rt.tokens,
            raw_phone=phone,
            code=code,
            client=(client or "")[:30] or None,
        )
        return _session_payload(info, issued)

    @mutation(permissions=[], description="Trade a refresh token for a new pair (the old one stops working).")
    async def refresh_session(self, info: Info, refresh_token: str) -> RefreshSessionPayload:
        ctx = info.context
        issued = await service.refresh_session(ctx.session, tokens=ctx.rt.tokens, refresh_token=refresh_token)
        return _session_payload(info, issued)

    @mutation(description="Sign out this device, or every device (everywhere: true).")
    async def sign_out(self, info: Info, refresh_token: str | None = None, everywhere: bool = False) -> SignedOut:
        ctx = info.context
        await service.sign_out(
            ctx.session, ctx.require_actor(), tokens=ctx.rt.tokens, refresh_token=refresh_token, everywhere=everywhere
        )
        return SignedOut(ok=True)

    @mutation(description="Set the 4-digit PIN that protects payments by phone.")
    async def set_voice_pin(self, info: Info, pin: str) -> SetVoicePinPayload:
        ctx = info.context
        person = await service.set_voice_pin(ctx.session, ctx.require_actor(), pin=pin)
        return me_from(person, memberships=ctx.actor.memberships)

    @mutation(
        permissions=[IsStaff],
        description="Staff, with the resident at the counter: set her 4-digit phone-line PIN (new, or after it locked).",
    )
    async def set_voice_pin_for(self, info: Info, person_id: strawberry.ID, pin: str) -> SetVoicePinForPayload:
        ctx = info.context
        person = await service.set_voice_pin(
            ctx.session, ctx.require_actor(), pin=pin, person_id=parse_id(person_id, "personId")
        )
        return PersonView(person=person)

    @mutation(
        once_per_request=True,
        description="Bind the TV showing this code to my home (or, with elderId, to my parent's home).",
    )
    async def approve_tv_device(
        self, info: Info, user_code: str, elder_id: strawberry.ID | None = None
    ) -> ApproveTvDevicePayload:
        ctx = info.context
        device = await tv_device.approve(
            ctx.session,
            ctx.require_actor(),
            settings=ctx.rt.settings,
            user_code=user_code,
            elder_id=optional_id(elder_id, "elderId"),
            ip=ctx.ip,
        )
        return await _tv_device_view(info, device)

    @mutation(description="Unpair a TV from its home (so it can be paired with another).")
    async def unpair_tv_device(self, info: Info, device_id: strawberry.ID) -> UnpairTvDevicePayload:
        ctx = info.context
        device = await tv_device.unpair(ctx.session, ctx.require_actor(), device_id=parse_id(device_id, "deviceId"))
        return TvDeviceUnpaired(id=strawberry.ID(str(device.id)), serial=device.identifier)
