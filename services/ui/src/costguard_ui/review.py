"""Approve / reject / feedback: the button callbacks and the widgets that call them.

Callbacks run before the rerun draws the page, so what is drawn next already shows the new
state; each leaves a one-shot message (:func:`costguard_ui.session.flash`). Each takes its login
from :func:`costguard_ui.session.signed_in` and, when there is none (a stale tab), returns
without calling the API: the rerun then shows the sign-in page with the message.
"""

from __future__ import annotations

import httpx
import streamlit as st
from costguard_core.client import BackendError
from costguard_core.models import ActionPublic, ActionStatus

from costguard_ui import backend, session, tables

FEEDBACK = {
    "accurate": "Accurate",
    "not_an_issue": "Not an issue",
    "planned_activity": "Planned activity",
}


def _comment(key: str) -> str | None:
    return (st.session_state.get(key) or "").strip() or None


def decide(verb: str, action_id: int, comment_key: str) -> None:
    """Approve (comment optional) or reject (comment required as the reason) one action."""
    login = session.signed_in()
    if login is None:
        return
    comment = _comment(comment_key)
    if verb == "reject" and not comment:
        session.flash("error", f"Cannot reject action {action_id}: give a reason first.")
        return
    try:
        with backend.make_client(login.api_key) as client:
            if verb == "approve":
                action = client.approve(action_id, comment=comment)
                who = action.approved_by
            else:
                action = client.reject(action_id, comment or "")  # not empty: checked above
                who = action.rejected_by
    except BackendError as exc:
        session.flash("error", backend.describe_error(exc, verb, action_id))
        return
    except httpx.HTTPError as exc:
        session.flash("error", f"Cannot {verb} action {action_id}: backend unreachable ({exc}).")
        return
    session.flash("success", f"Action {action_id} is now '{action.status.value}' (by {who}).")


def send_feedback(anomaly_id: str, kind: backend.FeedbackKind) -> None:
    """Post feedback on an anomaly (accurate / not an issue / planned activity) as the caller."""
    login = session.signed_in()
    if login is None:
        return
    comment = _comment(f"feedback-comment-{anomaly_id}")
    try:
        backend.post_feedback(login.api_key, anomaly_id, kind, comment)
    except BackendError as exc:
        if exc.status_code == 404:
            session.flash("error", f"Anomaly {anomaly_id} no longer exists.")
        else:
            session.flash("error", f"Feedback refused: HTTP {exc.status_code}: {exc.detail}")
        return
    except httpx.HTTPError as exc:
        session.flash("error", f"Cannot send feedback: backend unreachable ({exc}).")
        return
    session.flash("success", f"Feedback recorded: {FEEDBACK[kind].lower()}.")


def action_card(action: ActionPublic, can_review: bool) -> None:
    """Title, estimate, risk and state of one action; Approve/Reject for reviewers while it
    awaits approval."""
    with st.container(border=True):
        if action.status == ActionStatus.executed:
            st.badge("Executed", color="green")
        elif action.status in (ActionStatus.failed, ActionStatus.rejected):
            st.badge(action.status.value.capitalize(), color="red")
        else:
            st.badge(action.status.value.replace("_", " "), color="blue")
        st.markdown(
            f"**#{action.id} {action.title}** — {action.action_type} on "
            f"`{action.resource_id or action.provider}`, est. "
            f"{tables.usd(action.estimated_monthly_saving_usd)}/month, risk {action.risk}"
        )
        if action.description:
            st.caption(action.description)
        result = action.execution_result or {}
        if result.get("summary"):
            st.caption(f"Execution: {result['summary']}")
        if action.status != ActionStatus.pending_approval:
            return
        if not can_review:
            st.caption("Awaiting approval by an approver.")
            return
        key = f"comment-{action.id}"
        approve_col, comment_col, reject_col = st.columns([1, 4, 1], vertical_alignment="bottom")
        approve_col.button(
            "Approve", key=f"approve-{action.id}", type="primary",
            on_click=decide, args=("approve", action.id, key),
        )  # fmt: skip
        comment_col.text_input("Comment (required to reject)", key=key)
        reject_col.button(
            "Reject", key=f"reject-{action.id}", on_click=decide, args=("reject", action.id, key)
        )


def feedback_buttons(anomaly_id: str) -> None:
    st.text_input("Feedback comment (optional)", key=f"feedback-comment-{anomaly_id}")
    for col, (kind, label) in zip(st.columns(len(FEEDBACK)), FEEDBACK.items(), strict=True):
        col.button(label, key=f"feedback-{kind}", on_click=send_feedback, args=(anomaly_id, kind))
