"""``POST /api/v1/slack/interactivity``: Approve / Reject button clicks from Slack.

Order of checks, each refusing with nothing changed: Slack configured (``SLACK_SIGNING_SECRET``,
else 404); the request signature (slack-sdk ``SignatureVerifier``, 5-minute window) over the raw
body, before anything is parsed (401); a ``block_actions`` payload with an ``approve``/``reject``
button whose value is an action id (400; other interaction types answer 200 and are ignored);
the ``response_url`` under ``SLACK_RESPONSE_URL_PREFIX`` (400); the Slack user mapped by
``SLACK_USER_MAP`` to a principal holding the approver or admin role (403).

Then the decision goes through ``crud.decide`` — the function behind ``POST
/actions/{id}/approve|reject`` — as that principal, so the policy, the 2-approver rule and the
audit trail are the same (the comment records the Slack user id). Either way a
``slack_response`` outbox row updates the clicked message through ``response_url``, and the
answer is an empty 200. A decision taken writes that row in the decision's transaction
(``crud.decide(before_commit=...)``: the state change, its audit event and every outbox row in
one commit, so a crash cannot keep the decision and lose the update). A refused decision
(409/422 in the REST API) changes nothing but, for a policy violation, the ``policy_block``
audit event ``crud.decide`` commits itself; the refusal's row is committed on its own after.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier
from sqlmodel import Session

from costguard_backend import crud
from costguard_backend.errors import NotFoundError
from costguard_backend.notify.deliver import SLACK_RESPONSE
from costguard_backend.notify.routing import approver_for, load_routes, parse_user_map
from costguard_backend.outbox import enqueue
from costguard_backend.policy import PolicyViolation
from costguard_backend.workflow import TransitionError


@asynccontextmanager
async def _check_config(app: FastAPI) -> AsyncIterator[None]:
    """Refuse to start on a malformed SLACK_ROUTES or SLACK_USER_MAP (ValueError names it)."""
    load_routes(app.state.settings.SLACK_ROUTES)
    parse_user_map(app.state.settings.SLACK_USER_MAP)
    yield


router = APIRouter(prefix="/slack", tags=["slack"], lifespan=_check_config)


def _refuse(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"error": error, "message": message}}, status_code=status)


def _click(raw: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The payload and its first action; None for a payload that is not JSON in ``payload``."""
    try:
        payload = json.loads(parse_qs(raw.decode("utf-8"))["payload"][0])
        return payload, (payload.get("actions") or [{}])[0]
    except (KeyError, IndexError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None


@router.post("/interactivity", status_code=200)
async def interactivity(request: Request) -> Response:
    """Apply one button click (see the module doc); empty 200 when handled."""
    settings = request.app.state.settings
    if not settings.SLACK_SIGNING_SECRET:
        return _refuse(404, "slack_not_configured", "SLACK_SIGNING_SECRET is not set")
    raw = await request.body()
    verifier = SignatureVerifier(settings.SLACK_SIGNING_SECRET)
    if not verifier.is_valid_request(raw, dict(request.headers)):
        return _refuse(401, "bad_signature", "Slack request signature invalid or too old")
    parsed = _click(raw)
    if parsed is None:
        return _refuse(400, "bad_payload", "expected a form field 'payload' holding JSON")
    payload, click = parsed
    if payload.get("type") != "block_actions":
        return Response(status_code=200)  # e.g. a message shortcut: nothing to do
    verb, value = click.get("action_id"), str(click.get("value", ""))
    if verb not in ("approve", "reject") or not value.isdigit():
        return _refuse(400, "bad_action", "expected button approve/reject with an action id")
    response_url = str(payload.get("response_url", ""))
    if not response_url.startswith(settings.SLACK_RESPONSE_URL_PREFIX):
        return _refuse(400, "bad_response_url", "response_url outside SLACK_RESPONSE_URL_PREFIX")
    slack_user = str((payload.get("user") or {}).get("id", ""))
    principal = approver_for(settings, slack_user)
    if principal is None:
        return _refuse(403, "unknown_slack_user", f"Slack user {slack_user!r} is not an approver")
    replace = str(click.get("block_id", "")).startswith("costguard-action-")
    await run_in_threadpool(
        _decide,
        request,
        action_id=int(value),
        approve=verb == "approve",
        actor=principal,
        note=f"via Slack (user {slack_user})",
        response={"response_url": response_url, "replace": replace},
    )
    worker = getattr(request.app.state, "outbox", None)
    if worker is not None:
        worker.wake()
    return Response(status_code=200)


def _decide(
    request: Request,
    *,
    action_id: int,
    approve: bool,
    actor: str,
    note: str,
    response: dict[str, Any],
) -> None:
    state = request.app.state

    def slack_response(
        session: Session, outcome: str, error: str | None = None, known: bool = True
    ) -> None:
        enqueue(
            session,
            kind=SLACK_RESPONSE,
            action_id=action_id if known else None,
            payload={**response, "actor": actor, "outcome": outcome, "error": error},
        )

    with Session(state.engine, expire_on_commit=False) as session:
        try:
            crud.decide(
                session=session,
                policy=state.policy,
                action_id=action_id,
                approve=approve,
                actor=actor,
                note=note,
                request_id=request.state.request_id,
                image_digest=state.settings.IMAGE_DIGEST,
                # outcome: approved, rejected, or pending_approval (needs more approvers)
                before_commit=lambda decided: slack_response(session, decided.status),
            )
        except (TransitionError, PolicyViolation, NotFoundError) as exc:
            session.rollback()  # drop whatever the refused decision left in the session
            known = not isinstance(exc, NotFoundError)
            slack_response(session, "refused", json.dumps(exc.detail()), known)
            session.commit()
