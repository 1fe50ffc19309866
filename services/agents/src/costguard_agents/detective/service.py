"""One detective pass: read the daily cost rows (and the hourly rows of sources that have
them) from the backend, detect, post one anomaly per incident.

The daily path runs ``detect`` on every daily row, per ``BillingCurrency``; the hourly path
(``hourly.py``) runs ``detect_hourly`` on recent hours so an incident is raised the hour its data
shows it, with ``detected_at``. Both paths' anomalies go through ``incidents.one_per_incident``
before posting, so an incident seen by both, or by an earlier pass under another id, is posted
once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd
from costguard_core.client import BackendClient, BackendError
from costguard_core.detection import DetectorConfig, MonitorsConfig, detect
from costguard_core.detection.gaps import lookback_days
from costguard_core.detection.monitors import parse_monitors
from costguard_core.models import AnomalyCreate, AnomalyPublic, FeedbackItem

from costguard_agents.detective.frames import (
    FRAME_COLUMNS,
    by_currency,
    costs_frame,
    feedback_for,
    tag_currency,
)
from costguard_agents.detective.hourly import detect_hourly_all, fetch_hourly
from costguard_agents.detective.incidents import one_per_incident, stored_anomalies

__all__ = ["FRAME_COLUMNS", "costs_frame", "detect_all", "run_once"]
log = logging.getLogger("costguard_agents.detective")


def backend_settings(client: BackendClient) -> tuple[MonitorsConfig | None, list[FeedbackItem]]:
    """The monitors document (``None`` = the built-in default: none stored yet) and every
    feedback answer, from the backend. A backend without those routes (404) gives the defaults;
    other errors raise ``BackendError``; a stored document the detector refuses raises
    ``InputError``."""
    try:
        stored = client.get_monitors()
        monitors = None if stored.updated_by is None else parse_monitors(stored.document)
    except BackendError as exc:
        if exc.status_code != 404:
            raise
        monitors = None
    try:
        feedback = client.list_feedback()
    except BackendError as exc:
        if exc.status_code != 404:
            raise
        feedback = []
    return monitors, feedback


def detect_all(
    rows_frame: pd.DataFrame,
    *,
    since: date | None,
    config: DetectorConfig | None,
    monitors: MonitorsConfig | None = None,
    feedback: Iterable[FeedbackItem] = (),
) -> list[AnomalyCreate]:
    """Run ``detect`` on each currency's rows separately and tag non-primary currencies."""
    found: list[AnomalyCreate] = []
    feedback = list(feedback)
    for currency, part in by_currency(rows_frame):
        anomalies = detect(
            part, since=since, config=config, monitors=monitors,
            feedback=feedback_for(feedback, currency),
        )  # fmt: skip
        log.info("%s: %d row(s), %d anomaly(ies)", currency, len(part), len(anomalies))
        found.extend(tag_currency(a, currency) for a in anomalies)
    return found


def run_once(
    client: BackendClient, *, since: date | None = None, config: DetectorConfig | None = None
) -> list[AnomalyPublic]:
    """One pass. Fetch all daily rows (``client.all_costs()``), the recent hourly rows
    (``hourly.fetch_hourly``) and the stored monitors and feedback (``backend_settings``);
    detect per ``BillingCurrency`` on both; keep one anomaly per incident
    (``incidents.one_per_incident``, against the stored anomalies) and post them
    (``POST /api/v1/anomalies``; the backend keeps an id it already has unchanged unless the
    post ends later, when it revises the figures, so a repeated pass is harmless). ``since``
    limits reporting to anomalies starting on or after that UTC day (earlier rows still train
    the baselines); without it the hourly path reports the newest two hourly days. Returns the
    backend's answers, one per posted anomaly. Raises ``BackendError``/``httpx.TransportError``
    from the backend and the detector's ``InputError`` on unusable rows."""
    rows = client.all_costs()
    if not rows:
        return []
    config = config or DetectorConfig()
    monitors, feedback = backend_settings(client)
    daily = detect_all(
        costs_frame(rows), since=since, config=config, monitors=monitors, feedback=feedback
    )
    newest = max(r.ChargePeriodStart for r in rows)
    hours, report_from = fetch_hourly(client, newest_day=newest, since=since, config=config)
    hourly = detect_hourly_all(
        hours, report_from=report_from, config=config, monitors=monitors, feedback=feedback
    )
    candidates: list[AnomalyCreate] = [*hourly, *daily]
    if not candidates:
        return []
    first = min(a.start for a in candidates) - timedelta(days=lookback_days(config))
    post, left_out = one_per_incident(
        candidates, stored_anomalies(client, first), config.cooldown_days
    )
    for anomaly, same in left_out:
        log.info("%s (start %s) is the incident of %s: not posted", anomaly.id, anomaly.start, same)
    return [client.create_anomaly(a) for a in post]
