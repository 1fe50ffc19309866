"""``/api/v1/actions``: proposals, approval and rejection. The approver is the caller."""

from __future__ import annotations

from typing import Annotated

from costguard_core.models import (
    ActionCreate,
    ActionPublic,
    ActionStatus,
    ApproveRequest,
    Page,
    RejectRequest,
)
from fastapi import APIRouter, Query, Request, status

from costguard_backend import crud
from costguard_backend.api.deps import (
    Approver,
    PolicyDep,
    Reader,
    RequestIdDep,
    SessionDep,
    SettingsDep,
    Writer,
)

router = APIRouter(prefix="/actions", tags=["actions"])


def _wake_outbox(request: Request) -> None:
    worker = getattr(request.app.state, "outbox", None)
    if worker is not None:
        worker.wake()


@router.post("", response_model=ActionPublic, status_code=status.HTTP_201_CREATED)
def create_action(
    action_in: ActionCreate,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    request_id: RequestIdDep,
    request: Request,
    policy: PolicyDep,
) -> ActionPublic:
    """The new action in ``pending_approval`` (audit: proposed, then pending_approval); 422
    ``policy_violation`` naming the rule when the proposal breaks the policy (audited)."""
    action = crud.create_action(
        session=session,
        policy=policy,
        action_in=action_in,
        actor=principal.name,
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
    )
    _wake_outbox(request)
    return action.to_public()


@router.get("", response_model=Page[ActionPublic])
def list_actions(
    session: SessionDep,
    _: Reader,
    status: ActionStatus | None = None,
    anomaly_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ActionPublic]:
    data, count = crud.list_actions(
        session=session, status=status, anomaly_id=anomaly_id, limit=limit, offset=offset
    )
    return Page[ActionPublic](data=data, count=count)


@router.get("/{action_id}", response_model=ActionPublic)
def get_action(action_id: int, session: SessionDep, _: Reader) -> ActionPublic:
    return crud.get_action(session=session, action_id=action_id).to_public()


@router.post("/{action_id}/approve", response_model=ActionPublic)
def approve_action(
    action_id: int,
    session: SessionDep,
    principal: Approver,
    settings: SettingsDep,
    request_id: RequestIdDep,
    request: Request,
    policy: PolicyDep,
    body: ApproveRequest | None = None,
) -> ActionPublic:
    """pending_approval → approved, then dispatched by the outbox; 409 from any other state.
    A high-risk action stays pending_approval until its second distinct approver (the same
    approver twice: 409 ``duplicate_approver``); 409 ``policy_violation`` past the daily limit."""
    action = crud.decide(
        session=session,
        policy=policy,
        action_id=action_id,
        approve=True,
        actor=principal.name,
        note=body.comment if body else None,
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
    )
    _wake_outbox(request)
    return action.to_public()


@router.post("/{action_id}/reject", response_model=ActionPublic)
def reject_action(
    action_id: int,
    body: RejectRequest,
    session: SessionDep,
    principal: Approver,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> ActionPublic:
    """pending_approval → rejected with ``reason``; 409 from any other state."""
    action = crud.decide(
        session=session,
        action_id=action_id,
        approve=False,
        actor=principal.name,
        note=body.reason,
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
    )
    return action.to_public()
