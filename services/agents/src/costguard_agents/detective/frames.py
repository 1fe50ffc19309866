"""The frames the detector reads, built from the backend's cost rows, and the per-currency
helpers both detective paths share.

``costs_frame`` builds the frame ``detect``/``detect_hourly`` read, with the FOCUS reader's
columns: ``ChargePeriodStart`` (``datetime.date``, a UTC day, for daily rows; an aware UTC
``datetime`` for hourly rows), the ``DIMENSIONS`` (strings or ``None``), ``Tags`` (a JSON string
with sorted keys) and ``BilledCost``, ``EffectiveCost``, ``ListCost`` as ``Decimal`` objects
(``None`` where a source gave no ListCost): nothing is rounded or converted. Detection runs once
per ``BillingCurrency``; currencies are never mixed in one sum.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pandas as pd
from costguard_core.detection import fingerprint
from costguard_core.models import DIMENSIONS, AnomalyBase, AnomalyCreate, CostRow, FeedbackItem

MONEY_COLUMNS: tuple[str, ...] = ("BilledCost", "EffectiveCost", "ListCost")
FRAME_COLUMNS: tuple[str, ...] = ("ChargePeriodStart", *DIMENSIONS, "Tags", *MONEY_COLUMNS)
#: The currency whose anomalies keep the detector's scope (and so the ids ``costguard scan``
#: prints); anomalies in any other currency get it in their scope, so the same monitor on the
#: same day in two currencies makes two anomalies rather than one id posted twice.
PRIMARY_CURRENCY = "USD"


def costs_frame(rows: Iterable[CostRow]) -> pd.DataFrame:
    """One frame row per cost row (daily or hourly), columns ``FRAME_COLUMNS`` in that order
    (object dtype, so Decimals stay Decimals). An empty input gives an empty frame with those
    columns."""
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


def currency_of(anomaly: AnomalyBase) -> str:
    """The currency an anomaly's figures are in (``PRIMARY_CURRENCY`` unless its scope says)."""
    return anomaly.scope.get("BillingCurrency", PRIMARY_CURRENCY)


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
