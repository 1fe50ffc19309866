"""CostGuard dashboard (Streamlit): open anomalies, proposed actions, approval, audit trail.

Run: ``streamlit run services/ui/src/costguard_ui/app.py`` with ``BACKEND_URL`` and
``COSTGUARD_API_KEY`` set (see :mod:`costguard_ui.backend`). Every figure comes from the backend
API on each rerun; the page keeps no state of its own beyond one-shot messages.
"""

from __future__ import annotations

import httpx
import streamlit as st
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import ActionPublic

from costguard_ui import backend, tables

#: Session key holding ``[(kind, text)]`` messages set by button callbacks, shown once.
FLASH = "costguard_flash"


def _flash(kind: str, text: str) -> None:
    st.session_state.setdefault(FLASH, []).append((kind, text))


def _review(verb: str, action_id: int) -> None:
    """Button callback: approve or reject one action, leaving a message for the next render.

    Runs before the rerun draws the page, so the tables below already show the new state.
    """
    reason = ""
    if verb == "reject":
        reason = (st.session_state.get(f"reason-{action_id}") or "").strip()
        if not reason:
            _flash("error", f"Cannot reject action {action_id}: give a reason first.")
            return
    try:
        with backend.make_client() as client:
            if verb == "approve":
                action = client.approve(action_id)
                who = action.approved_by
            else:
                action = client.reject(action_id, reason)
                who = action.rejected_by
    except BackendError as exc:
        _flash("error", backend.describe_error(exc, verb, action_id))
        return
    except httpx.HTTPError as exc:
        _flash("error", f"Cannot {verb} action {action_id}: backend unreachable ({exc}).")
        return
    _flash("success", f"Action {action_id} is now '{action.status.value}' (by {who}).")


def _show(messages: list[tuple[str, str]]) -> None:
    for kind, text in messages:
        getattr(st, kind)(text)


def _banner(summary: tables.Summary) -> None:
    if summary.open_anomalies == 0:
        st.success("No open anomalies")
    elif summary.serious_open:
        st.error(tables.banner_text(summary))
    else:
        st.warning(tables.banner_text(summary))


def _metrics(summary: tables.Summary) -> None:
    cols = st.columns(5)
    cols[0].metric("Open anomalies", summary.open_anomalies)
    cols[1].metric("Open impact (USD)", tables.usd(summary.open_impact_usd))
    cols[2].metric("Pending approvals", summary.pending_approvals)
    cols[3].metric("Executed actions", summary.executed_actions)
    cols[4].metric("Est. monthly savings (USD)", tables.usd(summary.executed_monthly_saving_usd))


def _review_queue(pending: list[ActionPublic]) -> None:
    st.subheader("Awaiting approval")
    if not pending:
        st.info("Nothing awaits approval.")
        return
    for action in pending:
        with st.container(border=True):
            st.markdown(
                f"**#{action.id} {action.title}** — {action.action_type} on "
                f"`{action.resource_id or action.provider}`, est. "
                f"{tables.usd(action.estimated_monthly_saving_usd)}/month, risk {action.risk}"
            )
            if action.description:
                st.caption(action.description)
            approve_col, reason_col, reject_col = st.columns([1, 4, 1], vertical_alignment="bottom")
            approve_col.button(
                "Approve",
                key=f"approve-{action.id}",
                type="primary",
                on_click=_review,
                args=("approve", action.id),
            )
            reason_col.text_input("Reason for rejection", key=f"reason-{action.id}")
            reject_col.button(
                "Reject", key=f"reject-{action.id}", on_click=_review, args=("reject", action.id)
            )


def _executed(executed: list[ActionPublic]) -> None:
    if not executed:
        return
    st.subheader("Executed")
    for action in executed[: backend.TABLE_ROWS]:
        badge_col, text_col = st.columns([1, 8])
        with badge_col:
            st.badge("Executed", color="green")
        result = action.execution_result or {}
        summary = result.get("summary") or ""
        text_col.markdown(
            f"**#{action.id} {action.title}** — est. "
            f"{tables.usd(action.estimated_monthly_saving_usd)}/month. {summary}"
        )


def _audit(client: BackendClient, actions: list[ActionPublic]) -> None:
    st.subheader("Audit trail")
    if not actions:
        st.info("No actions yet.")
        return
    titles = {a.id: a.title for a in actions}
    chosen = st.selectbox(
        "Action", list(titles), format_func=lambda i: f"#{i} {titles[i]}", key="audit-action"
    )
    events = backend.action_audit(client, chosen)
    st.dataframe(tables.audit_frame(events), hide_index=True, width="stretch")


def main() -> None:
    st.set_page_config(page_title="CostGuard", layout="wide")
    st.title("CostGuard")
    messages = st.session_state.pop(FLASH, [])
    try:
        with backend.make_client() as client:
            data = backend.load_dashboard(client)
            summary = tables.summarize(data.open_anomalies, data.pending, data.executed)
            _banner(summary)
            _show(messages)
            _metrics(summary)
            st.subheader("Anomalies")
            st.dataframe(
                tables.anomalies_frame(data.recent_anomalies), hide_index=True, width="stretch"
            )
            st.subheader("Actions")
            st.dataframe(
                tables.actions_frame(data.recent_actions), hide_index=True, width="stretch"
            )
            _review_queue(data.pending)
            _executed(data.executed)
            _audit(client, data.recent_actions)
    except BackendError as exc:
        _show(messages)
        st.error(
            f"The backend at {backend.backend_url()} answered HTTP {exc.status_code}: {exc.detail}"
        )
    except httpx.HTTPError as exc:
        _show(messages)
        st.error(f"Cannot reach the backend at {backend.backend_url()}: {exc}")


main()
