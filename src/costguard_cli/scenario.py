"""The seed scenario: a BigQuery job that loops all weekend, as synthetic FOCUS daily rows.

This is NOT real billing data. The demo ingests it under the source name
``scenario:bigquery-weekend-loop`` on top of the bundled real exports, so it is always labelled.

Numbers: BigQuery on-demand analysis is priced at USD 6.25 per TiB scanned (Google Cloud's
published on-demand rate). The looping job scans 2 TiB every 10 minutes, i.e. 12 runs of
USD 12.50 = USD 75.00 an hour, from Saturday 02:00 UTC. The team's normal BigQuery spend is a
weekday/weekend pattern drawn from a seeded generator, so every run produces the same rows.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from costguard_core.models import CostRow

SOURCE = "scenario:bigquery-weekend-loop"
LOOP_START_DAY = date(2024, 11, 16)  # a Saturday
LOOP_START_HOUR_UTC = 2
LOOP_JOB_ID = "bquxjob_7c1e5a2f_weekend_rollup_retry"
PROJECT_ID = "acme-analytics-prod"
PRICE_PER_TIB_USD = Decimal("6.25")
TIB_PER_RUN = Decimal("2")
RUNS_PER_HOUR = 6
HISTORY_DAYS = 56

_COMMON = {
    "ProviderName": "Google Cloud",
    "BillingAccountId": "01A2B3-C4D5E6-F7A8B9",
    "SubAccountId": PROJECT_ID,
    "RegionId": "US",
    "ChargeCategory": "Usage",
    "BillingCurrency": "USD",
}


def loop_cost_per_hour() -> Decimal:
    """USD an hour of the looping job: 6 runs × 2 TiB × USD 6.25/TiB = USD 75.00."""
    return PRICE_PER_TIB_USD * TIB_PER_RUN * RUNS_PER_HOUR


def _row(
    day: date, service: str, category: str, resource: str, cost: Decimal, tags: dict[str, str]
) -> CostRow:
    return CostRow(
        ChargePeriodStart=day,
        ServiceName=service,
        ServiceCategory=category,
        ResourceId=resource,
        Tags=tags,
        BilledCost=cost,
        EffectiveCost=cost,
        ListCost=cost,
        **_COMMON,
    )


def rows() -> list[CostRow]:
    """Daily rows for the 8 weeks before the loop plus the loop weekend (Saturday and Sunday).

    Shape: one row a day for each of scheduled BigQuery reports, Compute Engine and Cloud
    Storage, plus the looping job's rows on the weekend. Costs are USD with cent precision.
    """
    rng = random.Random(20241116)
    first = LOOP_START_DAY - timedelta(days=HISTORY_DAYS)
    out: list[CostRow] = []
    for i in range(HISTORY_DAYS + 2):
        day = first + timedelta(days=i)
        weekend = day.weekday() >= 5
        reports = Decimal(str(round(rng.uniform(16, 22) if weekend else rng.uniform(46, 58), 2)))
        compute = Decimal(str(round(rng.uniform(118, 126), 2)))
        storage = Decimal(str(round(30 + i * 0.05 + rng.uniform(-0.4, 0.4), 2)))
        team = {"team": "data-platform"}
        out.append(
            _row(
                day,
                "BigQuery",
                "Analytics",
                "bquxjob_scheduled_reports",
                reports,
                {**team, "job": "scheduled-reports"},
            )
        )
        out.append(
            _row(
                day,
                "Compute Engine",
                "Compute",
                "projects/acme-analytics-prod/zones/us-central1-a/instances/etl-worker-1",
                compute,
                team,
            )
        )
        out.append(_row(day, "Cloud Storage", "Storage", "gs://acme-analytics-lake", storage, team))
        if day >= LOOP_START_DAY:
            hours = 24 - LOOP_START_HOUR_UTC if day == LOOP_START_DAY else 24
            out.append(
                _row(
                    day,
                    "BigQuery",
                    "Analytics",
                    LOOP_JOB_ID,
                    loop_cost_per_hour() * hours,
                    {**team, "job": "weekend-rollup"},
                )
            )
    return out
