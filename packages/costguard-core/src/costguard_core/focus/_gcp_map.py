"""GCP Cloud Billing exports written to CSV: the BigQuery export row shape with nested fields
flattened as ``service.description`` (standard or detailed export), and the legacy
"file export" (``Account ID``, ``Line Item``, ``Start Time``, ``CreditN Amount`` ...).

Credits are netted as Google's export schema defines them: "cost ... before any credits";
the total is ``cost + SUM(credits.amount)`` (credits are negative). README.md has the table.
"""

from __future__ import annotations

import re

from costguard_core.focus._plan import Check, Columns, Plan, common_checks, quote_literal

#: BigQuery export cost_type -> FOCUS ChargeCategory (rounding_error is an adjustment too).
GCP_CHARGE_CATEGORY = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding_error": "Adjustment",
}

_MONEY = "DECIMAL(38, 24)"
# credits is a list of records; in CSV it is JSON or (koku's files) a Python repr. Either way
# each credit has one "amount" number, which is all the daily sum needs.
_AMOUNT_RE = """['"]amount['"]: *(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)"""


def credits_sum(expr: str) -> str:
    """SQL text of the sum of every ``amount`` in a credits list cell (NULL for ``[]``)."""
    return (
        f"CAST(list_sum(list_transform(regexp_extract_all({expr}, {quote_literal(_AMOUNT_RE)}, 1),"
        f" lambda x: CAST(x AS {_MONEY}))) AS VARCHAR)"
    )


def gcp_plan(cols: Columns) -> Plan:
    """Plan for a flattened BigQuery billing export CSV; InputError on a missing column."""
    cost_type = cols.ref("cost_type")
    text = {
        "charge_start": cols.require("usage_start_time"),
        "ProviderName": "'Google Cloud'",
        "BillingAccountId": cols.ref("billing_account_id"),
        "SubAccountId": cols.ref("project.id"),
        "ServiceName": cols.require("service.description"),
        "ServiceCategory": "CAST(NULL AS VARCHAR)",
        "RegionId": f"coalesce({cols.ref('location.region')}, {cols.ref('location.location')})",
        "ResourceId": cols.ref("resource.global_name")
        if cols.has("resource.global_name")
        else cols.ref("resource.name"),
        "ChargeCategory": f"CASE WHEN {cost_type} IS NULL THEN 'Usage' ELSE CASE {cost_type} "
        + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in GCP_CHARGE_CATEGORY.items())
        + " END END",
        "cost_type": cost_type,
        "BillingCurrency": cols.require("currency"),
        "tags_raw": f"nullif({cols.ref('labels')}, '[]')",
    }
    money = {
        "cost": ("cost", cols.require("cost")),
        "credits": ("credits", credits_sum(cols.ref("credits"))),
        "at_list": ("cost_at_list", cols.ref("cost_at_list")),
    }
    net = f"cost_d + coalesce(credits_d, CAST(0 AS {_MONEY}))"
    checks = common_checks(
        day_field="usage_start_time",
        currency_field="currency",
        provider_field="ProviderName",
        service_field="service.description",
    )
    checks += [
        Check("cost", "cost IS NULL", "empty cost"),
        Check("cost_type", "ChargeCategory IS NULL", "unknown cost_type", "cost_type"),
    ]
    return Plan(
        text=text,
        money=money,
        billed=net,
        effective=net,
        listed="at_list_d",
        checks=checks,
        currency_field="currency",
        nullable=frozenset({"at_list"}),  # ListCost may be null; credits may not
    )


_CREDIT_RE = re.compile(r"^Credit(\d+) Amount$")


def gcp_legacy_plan(cols: Columns) -> Plan:
    """Plan for the legacy GCP file export; every ``CreditN Amount`` column is netted in."""
    line_item = cols.require("Line Item")
    text = {
        "charge_start": cols.require("Start Time"),
        "ProviderName": "'Google Cloud'",
        "BillingAccountId": cols.ref("Account ID"),
        "SubAccountId": f"coalesce({cols.ref('Project ID')}, {cols.ref('Project')})",
        # "com.google.cloud/services/compute-engine/Licensed..." -> "compute-engine"
        "ServiceName": f"coalesce(nullif(split_part({line_item}, '/', 3), ''), {line_item})",
        "ServiceCategory": "CAST(NULL AS VARCHAR)",
        "RegionId": "CAST(NULL AS VARCHAR)",
        "ResourceId": "CAST(NULL AS VARCHAR)",
        "ChargeCategory": "'Usage'",
        "BillingCurrency": cols.require("Currency"),
        "tags_raw": "CAST(NULL AS VARCHAR)",
    }
    money = {"cost": ("Cost", cols.require("Cost"))}
    credit_cols = sorted((int(m[1]), name) for name in cols.names if (m := _CREDIT_RE.match(name)))
    for n, name in credit_cols:
        money[f"credit{n}"] = (name, cols.ref(name))
    zero = f"CAST(0 AS {_MONEY})"
    net = " + ".join(["cost_d", *(f"coalesce(credit{n}_d, {zero})" for n, _ in credit_cols)])
    checks = common_checks(
        day_field="Start Time",
        currency_field="Currency",
        provider_field="ProviderName",
        service_field="Line Item",
    )
    checks.append(Check("Cost", "cost IS NULL", "empty cost"))
    return Plan(
        text=text,
        money=money,
        billed=net,
        effective=net,
        listed=f"CAST(NULL AS {_MONEY})",
        checks=checks,
        currency_field="Currency",
    )
