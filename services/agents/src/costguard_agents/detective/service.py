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
from costguard_core.client import BackendClient
from costguard_core.detection import DetectorConfig, detect, fingerprint
from costguard_core.models import DIMENSIONS, AnomalyCreate, AnomalyPublic, CostRow

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


def detect_all(
    rows_frame: pd.DataFrame, *, since: date | None, config: DetectorConfig | None
) -> list[AnomalyCreate]:
    """Run ``detect`` on each currency's rows separately and tag non-primary currencies."""
    found: list[AnomalyCreate] = []
    for currency, part in by_currency(rows_frame):
        anomalies = detect(part, since=since, config=config)
        log.info("%s: %d row(s), %d anomaly(ies)", currency, len(part), len(anomalies))
        found.extend(tag_currency(a, currency) for a in anomalies)
    return found


def run_once(
    client: BackendClient, *, since: date | None = None, config: DetectorConfig | None = None
) -> list[AnomalyPublic]:
    """Fetch all daily rows (``client.all_costs()``), detect per ``BillingCurrency`` and post each
    anomaly (``POST /api/v1/anomalies``; the backend keeps an id it already has unchanged, so a
    repeated pass is harmless). ``since`` limits reporting to anomalies starting on or after that
    UTC day; earlier rows still train the baselines. Returns the backend's answers, one per
    anomaly. Raises ``BackendError``/``httpx.TransportError`` from the backend and the
    detector's ``InputError`` on unusable rows."""
    rows = client.all_costs()
    if not rows:
        return []
    anomalies = detect_all(costs_frame(rows), since=since, config=config)
    return [client.create_anomaly(a) for a in anomalies]
