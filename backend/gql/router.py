"""The /graphql endpoint: strawberry's FastAPI router with the house rules on top."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData

from backend.config import Settings
from backend.gql.context import get_context
from backend.gql.extensions import TrustedDocuments
from backend.gql.schema import build_schema


class LinliGraphQLRouter(GraphQLRouter):
    trusted: TrustedDocuments | None = None

    async def on_ws_connect(self, context: Any) -> Any:
        """Browsers cannot set headers on a WebSocket: the token comes in connection_init
        ({"authorization": "Bearer ..."}). No valid token, no connection."""
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization") or ""
        token = raw.partition(" ")[2] if isinstance(raw, str) and raw.lower().startswith("bearer ") else raw
        if context.actor is None:
            await context.authenticate(token if isinstance(token, str) else None)
            await context.close()  # the actor is loaded; hold no connection while idle
        if context.actor is None and context.tv is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return {"locale": context.locale}

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
        data = json.loads(body)
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
    )
    router.trusted = trusted
    return router
