"""The request context as the API builds it: who signed in (a person or a paired TV), the
locale they asked for, and the domains' loaders and read log wired into the toolkit's Context."""

from __future__ import annotations

import uuid

from fastapi import Depends
from starlette.requests import HTTPConnection

from backend.access.subject import load_subject
from backend.community.loaders import Loaders
from backend.content.catalog import DEFAULT_LOCALE
from backend.gql.context import Context, Wiring
from backend.observability import request_id_var
from backend.parts import Parts
from backend.privacy.service import log_reads
from backend.tokens import AccessClaims, TokenError

WIRING = Wiring(loaders=Loaders, log_reads=log_reads)


def locale_from_header(accept_language: str | None) -> str:
    value = (accept_language or "").lower()
    if value.startswith(("yue", "zh-hk", "zh-mo")):
        return "yue"
    if value.startswith("ko"):
        return "ko"
    return DEFAULT_LOCALE


class ApiContext(Context):
    claims: AccessClaims | None = None  # of the token that signed this request or socket in

    async def authenticate(self, token: str | None) -> None:
        if not token:
            return
        try:
            claims = self.rt.tokens.decode_access(token)
        except TokenError:
            return
        subject = await load_subject(self.session, claims)
        if subject is not None:
            self.subject, self.claims = subject, claims
            if subject.actor is not None:
                self.locale = subject.actor.person.locale


def _bearer(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


async def _context_scope(connection: HTTPConnection):  # type: ignore[no-untyped-def]
    rt: Parts = connection.app.state.runtime
    ctx = ApiContext(
        rt,
        WIRING,
        ip=connection.client.host if connection.client else "unknown",
        request_id=request_id_var.get() or uuid.uuid4().hex[:16],
        locale=locale_from_header(connection.headers.get("accept-language")),
        socket=connection.scope["type"] == "websocket",
    )
    try:
        await ctx.authenticate(_bearer(connection))
        yield ctx
    finally:
        await ctx.close()


async def get_context(ctx: ApiContext = Depends(_context_scope)) -> ApiContext:
    return ctx
