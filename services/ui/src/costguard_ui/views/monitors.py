"""Monitors page: the monitors document the detective runs with (``GET /api/v1/monitors``) —
which series are watched, each monitor's thresholds and severity tiers, the leaf monitors — and
who last changed it and when. An admin also gets the editor (:mod:`costguard_ui.monitors`).

A value a monitor leaves unset is shown as the detector's default (``DetectorConfig()``), marked
``(default)``; document shape and validation: ``costguard_core.detection.monitors``.
"""

from __future__ import annotations

import streamlit as st
from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.monitors import parse_monitors
from costguard_core.errors import InputError
from costguard_core.models import MonitorConfigPublic
from costguard_ui import backend, monitors, session, tables

#: What a leaf monitor's percent threshold is a fraction of, by ``leaf_percent_of``.
LEAF_BASIS = {
    "parent": "the smaller of its service's and its account's expected spend",
    "resource": "the resource's own expected spend",
    "lasting": "the resource's own expected spend for a rise lasting three days, a drift or a "
    "new resource, and the smaller of its service's and its account's for a one- or two-day rise",
}


def _changed(stored: MonitorConfigPublic) -> str:
    if stored.updated_by is None:
        return "Built-in default: no admin has stored a monitors document yet."
    when = f" on {tables.utc_minute(stored.updated_at)}" if stored.updated_at else ""
    return f"Last changed by **{stored.updated_by}**{when}."


@st.fragment(run_every=session.refresh_interval())
def stored_monitors() -> None:
    login = session.signed_in()
    if login is None:
        session.show_flash()
        return
    try:
        stored = backend.get_monitors(login.api_key)
    except Exception as exc:  # noqa: BLE001 - backend_failure re-raises anything not HTTP
        session.backend_failure(exc)
        return
    st.markdown(_changed(stored))
    try:
        config = parse_monitors(stored.document)
    except InputError as exc:  # stored under an older document shape than this UI knows
        st.error(f"The stored monitors document does not parse here: {exc.message}")
        return
    frame = tables.monitors_frame(config, DetectorConfig())
    st.dataframe(frame, hide_index=True, width="stretch", key="monitors-table")
    st.caption(
        "min_impact_usd and severity tiers in USD; min_impact_pct is a fraction of expected "
        "spend; combine: 'and' needs both thresholds, 'or' either. (default): unset, the "
        "detector's value."
    )
    leaves = "on" if config.leaf_monitors else "off"
    st.markdown(
        f"Leaf monitors: **{leaves}** (every provider / account / service / region / resource "
        "leaf also judged on its own, reported under its service and account)."
    )
    st.markdown(
        f"leaf_percent_of: **{config.leaf_percent_of}**: a leaf's percent threshold is a fraction "
        f"of {LEAF_BASIS[config.leaf_percent_of]}"
        + ("." if config.leaf_monitors else " (unused while leaf monitors are off).")
    )
    if not login.can_configure:
        st.caption("Read-only: changing monitors needs an admin key.")


st.title("CostGuard — monitors")
stored_monitors()
# The editor stays outside the refreshing fragment so an auto-refresh never redraws the text
# area while an admin is typing in it.
_login = session.current_login()
if _login is not None and _login.can_configure:
    monitors.editor(_login)
