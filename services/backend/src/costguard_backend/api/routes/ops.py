"""Unauthenticated operational endpoints: ``GET /healthz`` and ``GET /metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from costguard_backend import metrics
from costguard_backend.core.db import check_database
from costguard_backend.outbox import pending_count

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 ``{"status":"ok","database":"ok"}``; 503 with the database error otherwise."""
    try:
        check_database(request.app.state.engine)
    except SQLAlchemyError as exc:
        body = {"status": "error", "database": f"{type(exc).__name__}: {exc}"[:500]}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
def prometheus_metrics(request: Request) -> Response:
    """Prometheus text exposition (see ``costguard_backend.metrics`` for the series)."""
    try:
        with Session(request.app.state.engine) as session:
            metrics.OUTBOX_PENDING.set(pending_count(session))
    except SQLAlchemyError:
        pass  # a scrape must still answer when the database is down; healthz reports that
    data, content_type = metrics.render()
    return Response(content=data, media_type=content_type)
