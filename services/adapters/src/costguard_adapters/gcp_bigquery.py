"""``gcp-bigquery``: GCP's standard or detailed billing export table through
google-cloud-bigquery, with the daily aggregation pushed down into BigQuery SQL
(:mod:`costguard_adapters.gcp_sql`). Rows come back already summed per day and leaf.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from costguard_core.errors import InputError
from costguard_core.models import CostRow
from google.cloud import bigquery
from pydantic import Field

from costguard_adapters.gcp_sql import daily_sql
from costguard_adapters.registry import Adapter, AdapterSettings, adapters

#: Export cost_type -> FOCUS ChargeCategory (same table as the core reader's GCP CSV plan).
_CHARGE = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding_error": "Adjustment",
}


class BigQuerySettings(AdapterSettings):
    project: str = Field(title="Project", description="Project that runs (and pays for) the query.")
    table: str = Field(
        pattern=r"^[\w-]+\.[\w-]+\.[\w$-]+$",
        title="Export table",
        description="project.dataset.gcp_billing_export_v1_XXXX (or _resource_v1_ for detailed).",
    )
    location: str | None = Field(None, title="Location", description="Dataset location (US, EU).")
    api_endpoint: str | None = Field(
        None, title="API endpoint", description="Override of https://bigquery.googleapis.com."
    )
    anonymous: bool = Field(
        False, title="Anonymous", description="No credentials (only for a local test endpoint)."
    )
    lookback_days: int = Field(90, ge=1, title="First pull", description="Days when no start.")


@adapters.register("gcp-bigquery")
class BigQueryAdapter(Adapter):
    """Daily GCP spend, credits netted, from the billing export in BigQuery."""

    Settings = BigQuerySettings

    def _client(self) -> bigquery.Client:
        s = self.settings
        assert isinstance(s, BigQuerySettings)
        kwargs: dict = {"project": s.project, "location": s.location}
        if s.api_endpoint:
            kwargs["client_options"] = {"api_endpoint": s.api_endpoint}
        if s.anonymous:
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()
        return bigquery.Client(**kwargs)

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        s = self.settings
        assert isinstance(s, BigQuerySettings)
        end = end or date.today()
        start = start or end - timedelta(s.lookback_days)
        params = [
            bigquery.ScalarQueryParameter(
                "start", "TIMESTAMP", datetime.combine(start, time(), UTC)
            ),
            bigquery.ScalarQueryParameter(
                "end", "TIMESTAMP", datetime.combine(end + timedelta(1), time(), UTC)
            ),
        ]
        job = bigquery.QueryJobConfig(query_parameters=params)
        rows = self._client().query_and_wait(daily_sql(s.table, "bigquery"), job_config=job)
        for r in rows:
            charge = _CHARGE.get(r["cost_type"] or "regular")
            if charge is None:
                raise InputError(
                    f"unknown cost_type {r['cost_type']!r}", path=s.table, field="cost_type"
                )
            net = Decimal(r["net_cost"])
            yield CostRow(
                ChargePeriodStart=r["day"],
                ProviderName="Google Cloud",
                BillingAccountId=r["billing_account_id"],
                SubAccountId=r["project_id"],
                ServiceName=r["service"],
                RegionId=r["region"],
                ChargeCategory=charge,
                BillingCurrency=r["currency"],
                BilledCost=net,
                EffectiveCost=net,
            )
