"""App factory: ``create_app(settings=None) -> FastAPI``.

The app owns one engine (``app.state.engine``) and, when ``OUTBOX_WORKER`` is true, one outbox
worker thread started and stopped by the lifespan. Migrations are not run here: ``__main__`` and
``prestart.sh`` run ``alembic upgrade head`` first.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from costguard_backend import metrics
from costguard_backend.api.main import api_router
from costguard_backend.api.routes import ops
from costguard_backend.core.config import Settings, get_settings
from costguard_backend.core.db import make_engine
from costguard_backend.errors import FieldError, NotFoundError, PreconditionFailed
from costguard_backend.outbox import OutboxWorker
from costguard_backend.policy import PolicyViolation, load_policy
from costguard_backend.workflow import TransitionError

REQUEST_ID_HEADER = "X-Request-ID"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    policy = load_policy(settings.POLICY_FILE)  # PolicyFileError names the file and field
    engine = make_engine(settings.DATABASE_URL)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = OutboxWorker(engine, settings) if settings.OUTBOX_WORKER else None
        app.state.outbox = worker
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.stop()
            engine.dispose()

    app = FastAPI(title="CostGuard backend", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.policy = policy
    app.state.engine = engine
    app.state.outbox = None
    app.include_router(ops.router)
    app.include_router(api_router)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        started = time.perf_counter()
        response = await call_next(request)
        metrics.HTTP_LATENCY.labels(
            request.method, _template(request), str(response.status_code)
        ).observe(time.perf_counter() - started)
        response.headers[REQUEST_ID_HEADER] = request.state.request_id
        return response

    @app.exception_handler(TransitionError)
    async def _conflict(_: Request, exc: TransitionError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=409)

    @app.exception_handler(PolicyViolation)
    async def _policy(_: Request, exc: PolicyViolation) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status_code)

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=404)

    @app.exception_handler(FieldError)
    async def _invalid(_: Request, exc: FieldError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=422)

    @app.exception_handler(PreconditionFailed)
    async def _stale(_: Request, exc: PreconditionFailed) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=412, headers={"ETag": exc.etag})

    return app


def _template(request: Request) -> str:
    """The path with parameter values put back as ``{name}`` (bounded label cardinality);
    ``unmatched`` for 404s. Built from ``path_params`` because nested routers do not expose
    their full template publicly."""
    if "route" not in request.scope:
        return "unmatched"
    names = {str(v): k for k, v in request.path_params.items()}
    return "/".join(
        f"{{{names[seg]}}}" if seg in names else seg for seg in request.url.path.split("/")
    )
