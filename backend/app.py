"""create_app(): the FastAPI application and everything it mounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.api.router import graphql_router
from backend.config import Settings, get_settings
from backend.console import page as console_page
from backend.content import read_aloud
from backend.emergency.fast_press import FastPress
from backend.gateways.sms import DevOutboxSms
from backend.http_limits import BodySizeLimit
from backend.migrations.runner import ensure_migrated
from backend.observability import (
    RequestContextMiddleware,
    configure_logging,
    metrics_endpoint,
    metrics_for_scraper,
    quiet_value_loggers,
)
from backend.phones import normalize_phone
from backend.registry import DOMAINS
from backend.runtime import Runtime
from voice.line import VoiceLine


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    quiet_value_loggers()
    rt = runtime or Runtime.create(settings)
    line = VoiceLine(rt, rt.synthesizer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_migrated(rt.engine)
        await rt.start(workers=settings.run_workers_in_api)
        await line.start()
        try:
            yield
        finally:
            await line.stop()
            if runtime is None:
                await rt.close()
            else:
                await rt.stop()

    app = FastAPI(
        title="Linli",
        lifespan=lifespan,
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None,
        openapi_url=None if settings.is_production else "/openapi.json",
    )
    app.state.runtime = rt
    app.state.settings = settings
    app.state.voice_line = line

    app.include_router(graphql_router(settings), prefix="/graphql")
    app.include_router(read_aloud.router(rt.read_aloud, rt.synthesizer))
    app.include_router(console_page.router(rt.catalog, settings.operations_dir))
    app.include_router(line.router())
    for domain in DOMAINS:
        if domain.routes is not None:
            app.include_router(domain.routes(rt))

    app.include_router(_health(rt))
    _operators(app, settings, rt)
    app.add_middleware(FastPress, rt=rt)  # inside the size limit and the request id
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def _health(rt: Runtime) -> APIRouter:
    """Whether the process is alive, and whether it is ready to serve (its database and Redis)."""
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with rt.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # report, do not raise: this is the answer
            checks["database"] = f"error: {type(exc).__name__}"
        if rt.redis is not None:
            try:
                await rt.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        # How each path can reach people, and how it has done lately: a path that is down is
        # a warning for whoever watches, not a reason to take the service out of rotation.
        paths = {name: path.health.state() for name, path in rt.paths.items()}
        return JSONResponse({"ready": ok, "checks": checks, "paths": paths}, status_code=200 if ok else 503)

    return router


def _operators(app: FastAPI, settings: Settings, rt: Runtime) -> None:
    """Metrics (behind a token in production) and, in development, the SMS that were not sent."""
    if not settings.is_production:
        app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    elif settings.metrics_token:
        app.add_route("/metrics", metrics_for_scraper(settings.metrics_token), include_in_schema=False)

    if not settings.is_production and isinstance(rt.sms, DevOutboxSms):
        sms = rt.sms

        @app.get("/dev/outbox", include_in_schema=False)
        async def dev_outbox(request: Request, to: str | None = None) -> JSONResponse:
            """Development only: the SMS messages that would have been sent, newest first."""
            phone = normalize_phone(to) if to else None
            return JSONResponse({"messages": sms.messages(phone)})


def main_app() -> FastAPI:
    """Entry point for uvicorn --factory (docker)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
