"""The detective's hourly path: judge the hours of sources that have them, so an incident is
raised the hour its data shows it (a loop starting Saturday 02:00 on Saturday morning), not
after the day closes.

**Rows read.** ``GET /api/v1/costs/hourly`` from ``report_from - lookback_days(config)`` on
(``gaps.lookback_days``: every day a decision can read, 294 days = 42 weeks with the default
config), where ``report_from`` is the day before the newest hour's UTC day, or the pass's
``since`` when given. Older hours cannot change a decision on the reported days. Hourly sources
are also in ``cost_daily`` (their days are the sums of their hours), so the daily path sees the
same money and the hourly path adds only *when* an incident shows.

**What is reported.** ``detect_hourly`` per ``BillingCurrency`` (never mixed), anomalies
starting on or after ``report_from`` only: the last two hourly days, which are the days a live
pass can raise early; older days are the daily path's. Each becomes an ``AnomalyPost`` with
``detected_at`` (aware UTC): the end of the first checkpoint hour whose data showed it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from costguard_core.client import BackendClient, BackendError
from costguard_core.detection import DetectorConfig, MonitorsConfig, fingerprint
from costguard_core.detection.gaps import lookback_days
from costguard_core.detection.hourly import HourlyAnomaly, detect_hourly
from costguard_core.models import AnomalyPost, CostHourlyRow, FeedbackItem

from costguard_agents.detective.frames import (
    PRIMARY_CURRENCY,
    by_currency,
    costs_frame,
    feedback_for,
)

log = logging.getLogger("costguard_agents.detective")

#: Hourly days a pass reports when no ``since`` is given: the newest and the one before it
#: (an incident raised at 23:00 is ``detected_at`` the next day's 00:00).
REPORT_DAYS = 2


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def fetch_hourly(
    client: BackendClient, *, newest_day: date, since: date | None, config: DetectorConfig
) -> tuple[list[CostHourlyRow], date | None]:
    """``(rows, report_from)``: the hourly rows a pass judges and the first day it reports.
    ``newest_day`` is the newest day of the daily rows (never older than the newest hour, as
    every hour is in its day's row). A backend without the route (404) gives ``([], None)``."""
    look = timedelta(days=lookback_days(config))
    first = min(since or newest_day, newest_day - timedelta(days=REPORT_DAYS - 1))
    try:
        rows = client.all_hourly(since=_midnight(first - look))
    except BackendError as exc:
        if exc.status_code != 404:
            raise
        return [], None
    if not rows:
        return [], None
    newest = max(r.ChargePeriodStart for r in rows).date()
    report_from = since or newest - timedelta(days=REPORT_DAYS - 1)
    keep = _midnight(report_from - look)
    return [r for r in rows if r.ChargePeriodStart >= keep], report_from


def as_post(anomaly: HourlyAnomaly, currency: str) -> AnomalyPost:
    """The hourly anomaly as posted: ``detected_at`` made aware (UTC), ``checkpoint_hour``
    dropped. Outside ``PRIMARY_CURRENCY`` its scope gains ``BillingCurrency`` and its id becomes
    ``fingerprint({"hourly": id, "BillingCurrency": currency}, start)`` (stable while the first
    raise is; the first raise's scope, which the id was made from, is not kept)."""
    body = anomaly.model_dump(exclude={"detected_at", "checkpoint_hour"})
    if currency != PRIMARY_CURRENCY:
        body["scope"] = {**anomaly.scope, "BillingCurrency": currency}
        body["id"] = fingerprint({"hourly": anomaly.id, "BillingCurrency": currency}, anomaly.start)
    return AnomalyPost(**body, detected_at=anomaly.detected_at.replace(tzinfo=UTC))


def detect_hourly_all(
    rows: list[CostHourlyRow],
    *,
    report_from: date | None,
    config: DetectorConfig | None,
    monitors: MonitorsConfig | None = None,
    feedback: Iterable[FeedbackItem] = (),
) -> list[AnomalyPost]:
    """``detect_hourly`` on each currency's hourly rows, anomalies starting on or after
    ``report_from``, ordered by ``detected_at``."""
    if not rows:
        return []
    found: list[AnomalyPost] = []
    feedback = list(feedback)
    for currency, part in by_currency(costs_frame(rows)):
        anomalies = detect_hourly(
            part, since=report_from, config=config, monitors=monitors,
            feedback=feedback_for(feedback, currency),
        )  # fmt: skip
        log.info("%s hourly: %d row(s), %d anomaly(ies)", currency, len(part), len(anomalies))
        found.extend(as_post(a, currency) for a in anomalies)
    return sorted(found, key=lambda a: (a.detected_at or _midnight(a.start), a.id))
