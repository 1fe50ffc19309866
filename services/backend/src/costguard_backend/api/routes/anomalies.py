"""``/api/v1/anomalies``: the detective posts, everyone reads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from costguard_core.models import AnomalyPost, AnomalyPublic, Page, Severity
from fastapi import APIRouter, Query, Response, status

from costguard_backend import crud_anomalies
from costguard_backend.api.deps import Reader, RequestIdDep, SessionDep, SettingsDep, Writer

router = APIRouter(prefix="/anomalies", tags=["anomalies"])


@router.post("", response_model=AnomalyPublic, status_code=status.HTTP_201_CREATED)
def create_anomaly(
    anomaly_in: AnomalyPost,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    request_id: RequestIdDep,
    response: Response,
) -> AnomalyPublic:
    """201 with the new anomaly; 200 with the stored one if the id exists: unchanged, unless
    the post ends later (a later pass saw the incident last longer), when its end, figures and
    root causes are revised (audit event ``revise``; a rise of the severity tier is announced in
    Slack, ``anomaly_escalated``). ``detected_at`` (aware, UTC; hourly anomalies only) is
    stored as first given; status, start and scope never change."""
    anomaly, created = crud_anomalies.create_anomaly(
        session=session,
        anomaly_in=anomaly_in,
        actor=principal.name,
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return anomaly


@router.get("", response_model=Page[AnomalyPublic])
def list_anomalies(
    session: SessionDep,
    _: Reader,
    severity: Severity | None = None,
    status: str | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
    service: str | None = None,
    min_impact: Annotated[float | None, Query(description="USD")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AnomalyPublic]:
    data, count = crud_anomalies.list_anomalies(
        session=session,
        severity=severity,
        status=status,
        start_from=start_from,
        start_to=start_to,
        service=service,
        min_impact=min_impact,
        limit=limit,
        offset=offset,
    )
    return Page[AnomalyPublic](data=data, count=count)


@router.get("/{anomaly_id}", response_model=AnomalyPublic)
def get_anomaly(anomaly_id: str, session: SessionDep, _: Reader) -> AnomalyPublic:
    return crud_anomalies.get_anomaly(session=session, anomaly_id=anomaly_id)
