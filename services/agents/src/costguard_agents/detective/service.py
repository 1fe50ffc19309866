"""One detective pass: read every daily cost row from the backend, detect, post anomalies.

``costs_frame`` builds the frame ``detect`` reads, with the FOCUS reader's columns:
``ChargePeriodStart`` (``datetime.date``, UTC day), the ``DIMENSIONS`` (strings or ``None``),
``Tags`` (a JSON string with sorted keys) and ``BilledCost``, ``EffectiveCost``, ``ListCost`` as
``Decimal`` objects (``None`` where a source gave no ListCost): nothing is rounded or converted.
Detection runs once per ``BillingCurrency``; currencies are never mixed in one sum.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import date

import pandas as pd
from costguard_core.client import BackendClient, BackendError
from costguard_core.detection import DetectorConfig, MonitorsConfig, detect, fingerprint
from costguard_core.detection.monitors import parse_monitors
from costguard_core.models import DIMENSIONS, AnomalyCreate, AnomalyPublic, CostRow, FeedbackItem

log = logging.getLogger("costguard_agents.detective")
MONEY_COLUMNS: tuple[str, ...] = ("BilledCost", "EffectiveCost", "ListCost")
FRAME_COLUMNS: tuple[str, ...] = ("ChargePeriodStart", *DIMENSIONS, "Tags", *MONEY_COLUMNS)
#: The currency whose anomalies keep the detector's scope (and so the ids ``costguard scan``
#: prints); anomalies in any other currency get it in their scope, so the same monitor on the
#: same day in two currencies makes two anomalies rather than one id posted twice.
PRIMARY_CURRENCY = "USD"


def costs_frame(rows: Iterable[CostRow]) -> pd.DataFrame:
    """One frame row per cost row, columns ``FRAME_COLUMNS`` in that order (object dtype, so
    Decimals stay Decimals). An empty input gives an empty frame with those columns."""
    records = [
        {
            **row.model_dump(include={"ChargePeriodStart", *DIMENSIONS, *MONEY_COLUMNS}),
            "Tags": json.dumps(row.Tags, sort_keys=True, separators=(",", ":")),
        }
        for row in rows
    ]
    return pd.DataFrame.from_records(records, columns=list(FRAME_COLUMNS)).astype(object)


def by_currency(frame: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(BillingCurrency, rows in it)`` for each currency, in code order; never mixes them."""
    for currency, part in frame.groupby("BillingCurrency", sort=True):
        yield str(currency), part.reset_index(drop=True)


def tag_currency(anomaly: AnomalyCreate, currency: str) -> AnomalyCreate:
    """``anomaly`` unchanged for ``PRIMARY_CURRENCY``; otherwise with ``BillingCurrency`` added to
    its scope and its id re-fingerprinted from that scope (still stable across runs)."""
    if currency == PRIMARY_CURRENCY:
        return anomaly
    scope = {**anomaly.scope, "BillingCurrency": currency}
    return anomaly.model_copy(update={"scope": scope, "id": fingerprint(scope, anomaly.start)})


def feedback_for(feedback: Iterable[FeedbackItem], currency: str) -> list[FeedbackItem]:
    """The answers about ``currency``'s anomalies, with the ``BillingCurrency`` scope key that
    ``tag_currency`` added removed again, so they match what ``detect`` sees for that currency."""
    out = []
    for item in feedback:
        scope = dict(item.scope)
        if scope.pop("BillingCurrency", PRIMARY_CURRENCY) == currency:
            out.append(item.model_copy(update={"scope": scope}))
    return out


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
    """Fetch all daily rows (``client.all_costs()``) and the stored monitors and feedback
    (``backend_settings``), detect per ``BillingCurrency`` and post each
    anomaly (``POST /api/v1/anomalies``; the backend keeps an id it already has unchanged, so a
    repeated pass is harmless). ``since`` limits reporting to anomalies starting on or after that
    UTC day; earlier rows still train the baselines. Returns the backend's answers, one per
    anomaly. Raises ``BackendError``/``httpx.TransportError`` from the backend and the
    detector's ``InputError`` on unusable rows."""
    rows = client.all_costs()
    if not rows:
        return []
    monitors, feedback = backend_settings(client)
    anomalies = detect_all(
        costs_frame(rows), since=since, config=config, monitors=monitors, feedback=feedback
    )
    return [client.create_anomaly(a) for a in anomalies]
