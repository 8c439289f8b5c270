"""A person's PIPL rights over GraphQL: export, delete, and who read what; and the download."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info

from backend.access.rules import acting_for
from backend.auth.errors import CodeExpiredError, InvalidCodeError, TooManyAttemptsError
from backend.db import transaction
from backend.family.models import Scope
from backend.gql.base import mutation, optional_id
from backend.gql.errors import InvalidInputError, NotFoundError, RateLimitedError
from backend.gql.permissions import IsAuthenticated
from backend.privacy import deletion, service
from backend.tokens import Tokens

EXPORTS_PATH = "/privacy/exports"


@strawberry.type(description="Everything Linli holds about a person: a JSON file to download, and the same in words.")
class DataExport:
    id: strawberry.ID
    created_at: dt.datetime
    expires_at: dt.datetime
    summary: str = strawberry.field(description="What is held, in the person's language.")
    download_url: str = strawberry.field(description="The JSON file; secret, works until expiresAt.")
    requested_in_person: bool = strawberry.field(description="Started by staff for the person, in person.")

    @classmethod
    def of(cls, ready: service.ExportReady, base_url: str) -> DataExport:
        row = ready.export
        return cls(
            id=strawberry.ID(str(row.id)),
            created_at=row.created_at,
            expires_at=row.expires_at,
            summary=row.summary or "",
            download_url=f"{base_url.rstrip('/')}{EXPORTS_PATH}/{ready.token}.json",
            requested_in_person=row.via == "staff_in_person",
        )


@strawberry.type
class AccountDeleted:
    erased_after: dt.datetime = strawberry.field(description="When the personal data is erased.")
    message: str


@strawberry.type(description="Someone else read my address, phone or family's phones.")
class DataRead:
    at: dt.datetime
    reader_name: str | None
    what: str = strawberry.field(description="address, phone or family_phones")
    purpose: str = strawberry.field(description='Why: "alert:12" (an alarm), "residents" (a staff list), "person".')


ExportMyDataPayload = Annotated[
    DataExport | RateLimitedError | NotFoundError | InvalidInputError, strawberry.union("ExportMyDataPayload")
]
DeleteMyAccountPayload = Annotated[
    AccountDeleted | InvalidCodeError | CodeExpiredError | TooManyAttemptsError,
    strawberry.union("DeleteMyAccountPayload"),
]


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Who read my address, phone or family's phones (or, with personId, an elder's I manage).",
    )
    async def data_access_log(self, info: Info, person_id: strawberry.ID | None = None) -> list[DataRead]:
        ctx = info.context
        who = optional_id(person_id, "personId")
        subject = (await acting_for(ctx.session, ctx.require_actor(), who, Scope.MANAGE_SETTINGS)).person
        entries = await service.access_log(ctx.session, subject.id)
        names = await ctx.loaders.names_of([e.reader_id for e in entries])
        return [
            DataRead(at=e.at, reader_name=name, what=e.what, purpose=e.purpose)
            for e, name in zip(entries, names, strict=True)
        ]


@strawberry.type
class PrivacyMutation:
    @mutation(description="Everything held about me, once a day (staff: for an elder who asks in person).")
    async def export_my_data(self, info: Info, person_id: strawberry.ID | None = None) -> ExportMyDataPayload:
        ctx = info.context
        ready = await service.export(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"), ctx.rt)
        return DataExport.of(ready, ctx.rt.settings.public_base_url)

    @mutation(description="Delete my account: send requestLoginCode first, then the code from that SMS.")
    async def delete_my_account(self, info: Info, code: str) -> DeleteMyAccountPayload:
        ctx = info.context
        actor = ctx.require_actor()
        due = await deletion.delete_account(ctx.session, actor, code=code, parts=ctx.rt)
        return AccountDeleted(erased_after=due, message=ctx.rt.catalog.text(ctx.locale, "privacy.account_deleted"))


def router(factory: async_sessionmaker[AsyncSession], tokens: Tokens) -> APIRouter:
    api = APIRouter()

    @api.get(EXPORTS_PATH + "/{token}.json", include_in_schema=False)
    async def download(token: str) -> Response:
        async with transaction(factory) as session:
            row = await service.export_by_token(session, tokens, token)
        if row is None or row.content is None:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        name = f"linli-export-{row.created_at:%Y%m%d}.json"
        return Response(
            row.content,
            media_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
        )

    return api
