"""Actions page: every proposed action by state, the approval queue, executed actions and the
audit trail of any one action."""

from __future__ import annotations

import streamlit as st
from costguard_ui import backend, review, session, tables


@st.fragment(run_every=session.refresh_interval())
def actions() -> None:
    login = session.signed_in()
    session.show_flash()
    if login is None:
        return
    try:
        with st.spinner("Loading from the backend…"), backend.make_client(login.api_key) as client:
            data = backend.load_dashboard(client)
            st.subheader("Awaiting approval")
            if not data.pending:
                st.info("Nothing awaits approval. New proposals appear here as the optimizer runs.")
            for action in data.pending:
                review.action_card(action, login.can_review)
            if data.executed:
                st.subheader("Executed")
                for action in data.executed[: backend.TABLE_ROWS]:
                    review.action_card(action, login.can_review)
            st.subheader("All actions")
            if not data.recent_actions:
                st.info("No actions yet: the optimizer proposes one for each anomaly it can fix.")
                return
            frame = tables.actions_frame(data.recent_actions)
            st.dataframe(frame, hide_index=True, width="stretch")
            st.subheader("Audit trail")
            titles = {a.id: a.title for a in data.recent_actions}
            chosen = st.selectbox(
                "Action", list(titles), key="audit-action",
                format_func=lambda i: f"#{i} {titles[i]}",
            )  # fmt: skip
            events = backend.action_audit(client, chosen)
            st.dataframe(tables.audit_frame(events), hide_index=True, width="stretch")
    except Exception as exc:  # noqa: BLE001 - backend_failure re-raises anything not HTTP
        session.backend_failure(exc)


st.title("CostGuard — actions")
actions()
