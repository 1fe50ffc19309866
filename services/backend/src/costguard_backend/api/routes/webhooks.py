"""``POST /api/v1/archestra/webhook``: signed execution reports from the executor or Archestra.

The HMAC (``costguard_core.signing``) covers the raw body, so it is checked before parsing:
401 ``{"error":"invalid_signature","reason":…}``, then 422 for a body that is not an
``ExecutionReport``, 404 for an unknown action, 409 for a report the state machine refuses, a
replayed delivery whose outcome the action no longer has (``replayed_delivery``) or an executor
image outside the policy (``policy_violation``). See ``reports.py``.
"""

from __future__ import annotations

from typing import Any

from costguard_core.models import ExecutionReport
from costguard_core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from costguard_backend import metrics
from costguard_backend.api.deps import PolicyDep, RequestIdDep, SessionDep, SettingsDep
from costguard_backend.policy import PolicyViolation
from costguard_backend.reports import ReplayError, apply_report
from costguard_backend.workflow import TransitionError

router = APIRouter(prefix="/archestra", tags=["webhooks"])


def _count(result: str) -> None:
    metrics.WEBHOOK_DELIVERIES.labels("inbound", "execution_report", result).inc()


@router.post("/webhook")
async def execution_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
    policy: PolicyDep,
) -> dict[str, Any]:
    """Answer ``{"action_id", "status", "changed"}``; a repeat of the final state is 200 with
    ``changed: false``."""
    body = await request.body()
    reason = verify(
        settings.ARCHESTRA_WEBHOOK_SECRET,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        body,
    )
    if reason is not None:
        _count("unauthorized")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, {"error": "invalid_signature", "reason": reason}
        )
    try:
        report = ExecutionReport.model_validate_json(body)
    except ValidationError as exc:
        _count("invalid")
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(422, errors) from exc
    try:
        action, changed = await run_in_threadpool(
            apply_report,
            session=session,
            report=report,
            signature=request.headers[SIGNATURE_HEADER],
            raw_body=body,
            request_id=request_id,
            image_digest=settings.IMAGE_DIGEST,
            policy=policy,
        )
    except ReplayError as exc:
        _count("replayed")
        raise HTTPException(status.HTTP_409_CONFLICT, exc.detail()) from exc
    except (TransitionError, PolicyViolation):
        _count("conflict")
        raise
    _count("accepted" if changed else "unchanged")
    return {"action_id": action.id, "status": action.status, "changed": changed}
