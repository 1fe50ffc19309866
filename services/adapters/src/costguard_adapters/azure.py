"""``azure``: the Cost Management Query API (azure-mgmt-costmanagement with azure-identity's
DefaultAzureCredential), daily ActualCost grouped by ServiceName and ResourceGroup, plus
exported CSVs (EA/MCA actual or amortized cost details, FocusCost) read by the core reader.

A query result row is ``[PreTaxCost, UsageDate (yyyymmdd int), ServiceName, ResourceGroup,
Currency]`` (columns named in ``result.columns``; REST example BillingAccountQuery.json).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from costguard_core.errors import InputError
from costguard_core.models import CostRow
from pydantic import Field

from costguard_adapters.registry import (
    Adapter,
    ReadSettings,
    adapters,
    in_range,
    read_exports,
)


class AzureSettings(ReadSettings):
    scope: str | None = Field(
        None,
        title="Scope",
        description="e.g. /subscriptions/<id> or "
        "/providers/Microsoft.Billing/billingAccounts/<id>; unset = exports only.",
    )
    cost_type: str = Field(
        "ActualCost",
        title="Cost type",
        description="ActualCost or AmortizedCost (Query API 'type').",
    )
    export_paths: list[str] = Field(
        default_factory=list,
        title="Exported CSVs",
        description="Cost details or FocusCost export files.",
    )
    base_url: str | None = Field(
        None, title="ARM endpoint", description="Override of https://management.azure.com (tests)."
    )
    lookback_days: int = Field(30, ge=1, title="First pull", description="Days when no start.")


def _query_rows(result: Any, scope: str) -> Iterable[CostRow]:
    if getattr(result, "next_link", None):
        # The SDK does not follow nextLink; refusing beats silently dropping later pages.
        raise InputError("query result has more pages (nextLink); pull a shorter range", path=scope)
    names = [c.name for c in result.columns]
    for i, raw in enumerate(result.rows):
        rec = dict(zip(names, raw, strict=True))
        try:
            cost = Decimal(str(rec["PreTaxCost"] if "PreTaxCost" in rec else rec["Cost"]))
            day = datetime.strptime(str(rec["UsageDate"]), "%Y%m%d").date()
        except (KeyError, ValueError) as exc:
            raise InputError(f"bad query row: {exc}", path=scope, row=i + 1) from exc
        yield CostRow(
            ChargePeriodStart=day,
            ProviderName="Microsoft",
            BillingAccountId=None,
            SubAccountId=scope.split("/")[2] if scope.startswith("/subscriptions/") else None,
            ServiceName=rec.get("ServiceName") or "Unassigned",
            ChargeCategory="Usage",
            BillingCurrency=rec["Currency"],
            BilledCost=cost,
            EffectiveCost=cost,
            Tags={"ResourceGroup": rec["ResourceGroup"]} if rec.get("ResourceGroup") else {},
        )


@adapters.register("azure")
class AzureAdapter(Adapter):
    """Azure spend from the Query API and/or exported CSVs."""

    Settings = AzureSettings

    def __init__(self, settings: AzureSettings, credential: Any = None, **client_kw: Any) -> None:
        super().__init__(settings)
        self._credential, self._client_kw = credential, client_kw

    def _query(self, start: date, end: date) -> Any:
        from azure.mgmt.costmanagement import CostManagementClient
        from azure.mgmt.costmanagement.models import (
            QueryAggregation,
            QueryDataset,
            QueryDefinition,
            QueryGrouping,
            QueryTimePeriod,
        )

        s = self.settings
        assert isinstance(s, AzureSettings) and s.scope
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        kw = dict(self._client_kw)
        if s.base_url:
            kw["base_url"] = s.base_url
        client = CostManagementClient(self._credential, **kw)
        definition = QueryDefinition(
            type=s.cost_type,
            timeframe="Custom",
            time_period=QueryTimePeriod(
                from_property=datetime.combine(start, time()),
                to=datetime.combine(end, time(23, 59, 59)),
            ),
            dataset=QueryDataset(
                granularity="Daily",
                aggregation={"totalCost": QueryAggregation(name="PreTaxCost", function="Sum")},
                grouping=[
                    QueryGrouping(type="Dimension", name="ServiceName"),
                    QueryGrouping(type="Dimension", name="ResourceGroup"),
                ],
            ),
        )
        return client.query.usage(s.scope, definition)

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        s = self.settings
        assert isinstance(s, AzureSettings)
        rows: list[CostRow] = []
        if s.scope:
            q_end = end or date.today()
            q_start = start or q_end - timedelta(s.lookback_days)
            rows += _query_rows(self._query(q_start, q_end), s.scope)
        if s.export_paths:
            rows += read_exports(s.export_paths, lenient=s.lenient, max_bad_rows=s.max_bad_rows)
        return [r for r in rows if in_range(r.ChargePeriodStart, start, end)]
