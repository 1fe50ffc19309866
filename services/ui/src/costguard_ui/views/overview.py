"""Overview page: spend by provider and service, open anomalies by severity, actions by state,
and savings (estimated from executed actions; realized from ``GET /api/v1/savings``)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import plotly.express as px
import streamlit as st
from costguard_ui import backend, session, tables

#: The spend window: this many UTC days ending on the newest stored cost day.
SPEND_DAYS = 30


def _spend(client) -> None:
    st.subheader(f"Spend, last {SPEND_DAYS} days of data")
    rows = backend.recent_costs(client, SPEND_DAYS)
    if not rows:
        st.info(
            "No cost data yet. Ingest a billing export: run the adapters poller "
            "(`python -m costguard_adapters`) or `POST /api/v1/costs/ingest` "
            "(`make demo` loads the bundled samples)."
        )
        return
    spend = tables.spend_frame(rows)
    currencies = sorted(spend["BillingCurrency"].unique())
    currency = currencies[0]
    if len(currencies) > 1:
        currency = st.selectbox("Currency (never mixed)", currencies, key="spend-currency")
    daily = tables.daily_provider_spend(rows, currency)
    fig = px.bar(daily, x="day", y="cost", color="ProviderName", labels={"cost": currency})
    fig.update_layout(height=300, margin={"t": 10, "b": 10}, barmode="stack")
    st.plotly_chart(fig, key="spend-chart")
    st.dataframe(
        spend[spend["BillingCurrency"] == currency].astype(
            {"BilledCost": str, "EffectiveCost": str}
        ),
        hide_index=True,
        width="stretch",
    )


def _anomalies_and_actions(client, api_key: str) -> None:
    data = backend.load_dashboard(client)
    summary = tables.summarize(data.open_anomalies, data.pending, data.executed)
    if summary.open_anomalies == 0:
        st.success("No open anomalies")
    elif summary.serious_open:
        st.error(tables.banner_text(summary))
    else:
        st.warning(tables.banner_text(summary))

    left, right = st.columns(2)
    with left:
        st.subheader("Open anomalies by severity")
        counts = tables.severity_counts(data.open_anomalies)
        for col, (severity, n) in zip(st.columns(4), counts.items(), strict=True):
            col.metric(severity.capitalize(), n)
        if not data.recent_anomalies:
            st.info(
                "No anomalies yet. The detective judges new cost days on its timer "
                "(DETECTIVE_INTERVAL_S) or on `POST /run` (port 8011)."
            )
    with right:
        st.subheader("Actions by state")
        counts = backend.action_counts(client)
        st.dataframe(
            [{"status": s, "actions": n} for s, n in counts.items() if n],
            hide_index=True,
            width="stretch",
        )
        if not any(counts.values()):
            st.info("No actions yet: the optimizer proposes one for each open anomaly it can fix.")

    st.subheader("Savings")
    pending_est = sum((a.estimated_monthly_saving_usd for a in data.pending), Decimal(0))
    cols = st.columns(3)
    cols[0].metric(
        "Estimated, executed (USD/month)", tables.usd(summary.executed_monthly_saving_usd)
    )
    cols[1].metric("Estimated, awaiting approval (USD/month)", tables.usd(pending_est))
    realized, realized_help = _realized(api_key)
    cols[2].metric("Realized (USD)", realized, help=realized_help)
    if data.recent_anomalies:
        st.subheader("Recent anomalies")
        st.caption("Open one on the Anomaly page for its chart, root causes and action.")
        st.dataframe(
            tables.anomalies_frame(data.recent_anomalies), hide_index=True, width="stretch"
        )


def _realized(api_key: str) -> tuple[str, str]:
    """The realized-savings metric (value, help) from ``GET /api/v1/savings``: the USD
    total to date; other currencies are named in the help (never converted)."""
    resp = httpx.get(
        f"{backend.backend_url().rstrip('/')}/api/v1/savings",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10.0,
    )
    resp.raise_for_status()
    totals = {t["currency"]: t for t in resp.json()["totals"]}
    usd = totals.get("USD")
    value = tables.usd(Decimal(usd["realized"])) if usd else "none measured yet"
    others = "; ".join(f"{c} {t['realized']}" for c, t in totals.items() if c != "USD")
    help_text = (
        "Scope spend after each executed action against the counterfactual (the anomaly's "
        "excess run-rate on top of its expected spend), per full UTC day after execution."
        + (f" Other currencies: {others}." if others else "")
    )
    return value, help_text


@st.fragment(run_every=session.refresh_interval())
def overview() -> None:
    login = session.signed_in()
    if login is None:
        session.show_flash()
        return
    try:
        with st.spinner("Loading from the backend…"), backend.make_client(login.api_key) as client:
            _anomalies_and_actions(client, login.api_key)
            _spend(client)
    except Exception as exc:  # noqa: BLE001 - backend_failure re-raises anything not HTTP
        session.backend_failure(exc)


st.title("CostGuard — overview")
overview()
