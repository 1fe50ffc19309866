"""Anomaly page: its UTC days (and, for one found on hourly rows, when it was raised), spend
against the expected band, root causes with their share, the proposed action with its estimate
and risk, Approve/Reject, the action's timeline, and feedback.

The anomaly shown is ``?anomaly=<id>`` from the URL, else the one picked in the selector.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from costguard_core.client import BackendClient
from costguard_core.models import AnomalyPublic
from costguard_ui import backend, band, review, session, tables

#: Days of history before the anomaly drawn (and used by the band), and days after it.
HISTORY_DAYS, AFTER_DAYS = 56, 14


def _chart(client: BackendClient, anomaly: AnomalyPublic) -> None:
    rows = client.all_costs(
        start=anomaly.start - timedelta(days=HISTORY_DAYS),
        end=anomaly.end + timedelta(days=AFTER_DAYS),
    )
    spend = band.daily_spend(rows, anomaly.scope)
    if spend.empty:
        st.info("No stored cost rows match this anomaly's scope, so there is nothing to chart.")
        return
    frame = band.reference_band(spend)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame.index, y=frame["upper"], line={"width": 0}, showlegend=False))
    fig.add_trace(
        go.Scatter(
            x=frame.index, y=frame["lower"], fill="tonexty", line={"width": 0},
            fillcolor="rgba(100,150,250,0.2)", name="expected band",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=frame.index, y=frame["expected"], name="expected", line={"dash": "dash"})
    )
    fig.add_trace(
        go.Scatter(x=frame.index, y=frame["actual"], name="actual", line={"color": "black"})
    )
    fig.add_vrect(
        x0=pd.Timestamp(anomaly.start) - pd.Timedelta(hours=12),
        x1=pd.Timestamp(anomaly.end) + pd.Timedelta(hours=12),
        fillcolor="red", opacity=0.12, line_width=0, annotation_text="anomaly",
    )  # fmt: skip
    fig.update_layout(height=340, margin={"t": 20, "b": 10}, yaxis_title="EffectiveCost per day")
    st.plotly_chart(fig, key="anomaly-chart")
    st.caption(
        f"Shaded: the {band.BAND_LABEL}. The detector's own figures for the window: expected "
        f"{tables.usd(anomaly.expected_cost)}, actual {tables.usd(anomaly.actual_cost)}."
    )


def _root_causes(anomaly: AnomalyPublic) -> None:
    st.subheader("Root causes")
    if not anomaly.root_causes:
        st.info("The detector named no single leaf: the excess is spread across the scope.")
        return
    frame = pd.DataFrame(
        [
            {**c.model_dump(exclude={"share"}), "share": f"{c.share:.0%}"}
            for c in sorted(anomaly.root_causes, key=lambda c: -c.impact_usd)
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch", key="root-causes")


def _actions(client: BackendClient, anomaly: AnomalyPublic, can_review: bool) -> None:
    st.subheader("Proposed action")
    actions, _ = client.list_actions(anomaly_id=anomaly.id, limit=50)
    if not actions:
        st.info(
            "No action proposed yet: the optimizer proposes one on its next pass "
            "(OPTIMIZER_INTERVAL_S, or `POST /run` on port 8012)."
        )
        return
    for action in actions:
        review.action_card(action, can_review)
        events = backend.action_audit(client, action.id)
        st.caption(f"Timeline of action #{action.id}")
        st.dataframe(tables.audit_frame(events), hide_index=True, width="stretch")


@st.fragment(run_every=session.refresh_interval())
def details(anomaly_id: str) -> None:
    login = session.signed_in()
    session.show_flash()
    if login is None:
        return
    try:
        with st.spinner("Loading from the backend…"), backend.make_client(login.api_key) as client:
            anomaly = client.get_anomaly(anomaly_id)
            scope = ", ".join(f"{k}={v}" for k, v in sorted(anomaly.scope.items())) or "all spend"
            st.subheader(f"{anomaly.severity.capitalize()} anomaly on {scope}")
            raised = tables.raised_text(anomaly)
            st.caption(
                f"UTC days {anomaly.start} → {anomaly.end}; "
                + (f"{raised}; " if raised else "")
                + f"id {anomaly.id}"
            )
            cols = st.columns(4)
            cols[0].metric("Impact (USD)", tables.usd(anomaly.impact_usd))
            cols[1].metric("Confidence", f"{anomaly.confidence:.0%}")
            cols[2].metric("Severity", anomaly.severity)
            cols[3].metric("Status", anomaly.status)
            _chart(client, anomaly)
            _root_causes(anomaly)
            _actions(client, anomaly, login.can_review)
    except Exception as exc:  # noqa: BLE001 - backend_failure re-raises anything not HTTP
        session.backend_failure(exc)
        return
    st.subheader("Was this right?")
    review.feedback_buttons(anomaly_id)


def _pick(client: BackendClient) -> str | None:
    recent, _ = client.list_anomalies(limit=backend.TABLE_ROWS)
    options = {a.id: a for a in recent}
    wanted = st.query_params.get("anomaly")
    if wanted and wanted not in options:
        options = {wanted: client.get_anomaly(wanted), **options}
    if not options:
        st.info(
            "No anomalies yet. The detective judges new cost days on its timer "
            "(DETECTIVE_INTERVAL_S) or on `POST /run` (port 8011)."
        )
        return None
    ids = list(options)
    chosen = st.selectbox(
        "Anomaly", ids, index=ids.index(wanted) if wanted in options else 0, key="anomaly-select",
        format_func=lambda i: (
            f"{options[i].start} · {options[i].severity} · {tables.usd(options[i].impact_usd)} · "
            + ", ".join(f"{k}={v}" for k, v in sorted(options[i].scope.items()))
        ),
    )  # fmt: skip
    st.query_params["anomaly"] = chosen
    return chosen


st.title("CostGuard — anomaly")
_login = session.signed_in()
_chosen: str | None = None
if _login is None:
    session.show_flash()
else:
    try:
        with backend.make_client(_login.api_key) as _client:
            _chosen = _pick(_client)
    except Exception as _exc:  # noqa: BLE001 - backend_failure re-raises anything not HTTP
        session.backend_failure(_exc)
if _chosen:
    details(_chosen)
