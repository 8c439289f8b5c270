"""The /graphql endpoint: strawberry's FastAPI router with the house rules on top."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from contextlib import aclosing
from typing import Any

from cross_web import HTTPException
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, PingMessage

from backend import http_body
from backend.access.subject import load_subject
from backend.api.context import get_context
from backend.api.schema import build_schema
from backend.config import Settings
from backend.db import utcnow
from backend.gql.extensions import TrustedDocuments
from backend.live import SESSIONS_ENDED, session_channel
from backend.tokens import AccessClaims, TokenError

log = logging.getLogger(__name__)

# A socket that has not said who it is by then is closed (4408).
CONNECTION_INIT_TIMEOUT = dt.timedelta(seconds=10)
CLOSE_EXPIRED = 4401  # the token ran out and was not renewed
CLOSE_SIGNED_OUT = 4403  # its session was signed out (or the TV unpaired)


def _token_in(params: Any) -> str | None:
    """The access token in a connection_init or ping payload: {"authorization": "Bearer ..."}."""
    if not isinstance(params, dict):
        return None
    raw = params.get("authorization") or params.get("Authorization")
    if not isinstance(raw, str):
        return None
    return raw.partition(" ")[2] if raw.lower().startswith("bearer ") else raw


class SessionBoundSocket(BaseGraphQLTransportWSHandler[Any, None]):
    """A socket lives no longer than the session that opened it: it closes when the token
    expires (unless the client renews it with a ping carrying a fresh one) and at once when
    the session is signed out, everywhere or on this device."""

    _watchers: tuple[asyncio.Task[None], ...] = ()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.context.claims is not None and not self._watchers:
            self._renewed = asyncio.Event()
            self._watchers = (
                asyncio.create_task(self._close_on_sign_out(self.context.claims.subject)),
                asyncio.create_task(self._close_on_expiry()),
            )

    async def handle_ping(self, message: PingMessage) -> None:
        token = _token_in(message.get("payload"))
        if token is not None and self.context.claims is not None and not await self._renew(token):
            await self.websocket.close(code=CLOSE_SIGNED_OUT, reason="Forbidden")
            return
        await super().handle_ping(message)

    async def _renew(self, token: str) -> bool:
        ctx = self.context
        try:
            claims = ctx.rt.tokens.decode_access(token)
        except TokenError:
            return False
        if ctx.claims is None or claims.subject != ctx.claims.subject:
            return False
        async with ctx.rt.factory() as session:
            if await load_subject(session, claims) is None:
                return False  # signed out since, or gone
        ctx.claims = claims
        self._renewed.set()
        return True

    async def _close_on_expiry(self) -> None:
        while True:
            claims = self.context.claims
            expires_at = claims.expires_at if claims is not None else None
            if expires_at is None:
                return
            left = (expires_at - utcnow()).total_seconds()
            if left <= 0:
                await self.websocket.close(code=CLOSE_EXPIRED, reason="Token expired")
                return
            self._renewed.clear()
            try:
                await asyncio.wait_for(self._renewed.wait(), timeout=left)
            except TimeoutError:
                pass

    async def _close_on_sign_out(self, subject: str) -> None:
        async with aclosing(self.context.rt.live.subscribe(session_channel(subject))) as messages:
            async for message in messages:
                if message.get("kind") == SESSIONS_ENDED and _ends(message, self.context.claims):
                    await self.websocket.close(code=CLOSE_SIGNED_OUT, reason="Signed out")
                    return

    async def shutdown(self) -> None:
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        await super().shutdown()


def _ends(message: dict[str, Any], claims: AccessClaims | None) -> bool:
    if claims is None:
        return True
    if "family" in message:
        return bool(message["family"] == claims.session_family)
    before = message.get("before")
    return not isinstance(before, str) or claims.issued_at < dt.datetime.fromisoformat(before)


class LinliGraphQLRouter(GraphQLRouter):
    trusted: TrustedDocuments | None = None
    graphql_transport_ws_handler_class = SessionBoundSocket

    async def on_ws_connect(self, context: Any) -> Any:
        """Browsers cannot set headers on a WebSocket: the token comes in connection_init
        ({"authorization": "Bearer ..."}). No valid token, no connection."""
        if context.subject is None:
            await context.authenticate(_token_in(context.connection_params or {}))
            await context.close()  # the subject is loaded; hold no connection while idle
        if context.subject is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return {"locale": context.locale}

    def decode_json(self, data: str | bytes) -> object:
        """The house's body reader: nesting limited, a 400 for what cannot be read."""
        try:
            return http_body.json_body(data)
        except http_body.BadBody as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)  # JSON only; batches refused (no batching config)
        if self.trusted is not None and isinstance(data, GraphQLRequestData) and data.query is None:
            document_id = _document_id(data.extensions) or _document_id_from_body(await request.get_body())
            if document_id is None:
                raise HTTPException(400, "Send a trusted document id (extensions.persistedQuery.sha256Hash).")
            query = self.trusted.lookup(document_id)
            if query is None:
                raise HTTPException(400, "Unknown document id.")
            data.query = query
        return data


def _document_id(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
        return persisted["sha256Hash"]
    return None


def _document_id_from_body(body: bytes) -> str | None:
    try:
        data = http_body.json_body(body)
    except ValueError:
        return None
    value = data.get("documentId") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def graphql_router(settings: Settings) -> LinliGraphQLRouter:
    trusted = TrustedDocuments(settings.operations_dir) if settings.trusted_documents_only else None
    router = LinliGraphQLRouter(
        build_schema(settings, trusted),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,  # POST application/json only; never a mutation over GET
        # Only graphql-transport-ws: the legacy graphql-ws protocol has no connection_init timeout.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
    )
    router.trusted = trusted
    return router
