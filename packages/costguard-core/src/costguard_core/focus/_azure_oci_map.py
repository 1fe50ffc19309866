"""Azure cost-details exports (EA and MCA, actual or amortized, any column casing) and OCI cost
reports to FOCUS columns. The tables in README.md say which column becomes which FOCUS column.

Azure column names follow Microsoft's "cost details" field reference
(learn.microsoft.com/azure/cost-management-billing/automate/understand-usage-details-fields);
the mapping follows the FinOps toolkit's FOCUS conversion (github.com/microsoft/finops-toolkit,
MIT) where it applies to a daily roll-up.
"""

from __future__ import annotations

from costguard_core.focus._cur_map import tags_json
from costguard_core.focus._plan import Check, Columns, Plan, common_checks, quote_literal

#: Azure ChargeType -> FOCUS ChargeCategory. Unused reservation/savings-plan hours are usage of
#: a commitment (FOCUS puts them under Usage with CommitmentDiscountStatus "Unused").
AZURE_CHARGE_CATEGORY = {
    "Usage": "Usage",
    "UnusedReservation": "Usage",
    "UnusedSavingsPlan": "Usage",
    "Purchase": "Purchase",
    "Tax": "Tax",
    "Refund": "Credit",
    "Credit": "Credit",
    "RoundingAdjustment": "Adjustment",
    "Adjustment": "Adjustment",
}

#: Azure ServiceFamily -> FOCUS ServiceCategory where the two vocabularies agree.
AZURE_SERVICE_CATEGORY = {
    "Compute": "Compute",
    "Storage": "Storage",
    "Networking": "Networking",
    "Databases": "Databases",
    "Analytics": "Analytics",
    "AI + Machine Learning": "AI and Machine Learning",
    "Security": "Security",
    "Management and Governance": "Management and Governance",
    "Internet of Things": "Internet of Things",
    "Integration": "Integration",
    "Web": "Web",
    "Developer Tools": "Developer Tools",
}


def _case(expr: str, mapping: dict[str, str], default: str = "CAST(NULL AS VARCHAR)") -> str:
    whens = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in sorted(mapping.items())
    )
    return f"CASE {expr} {whens} ELSE {default} END"


def us_or_iso_date(expr: str) -> str:
    """Azure EA files write ``MM/DD/YYYY`` (``9/2/2023``); turn that into ISO text, keep the rest
    (an unparsable US date stays as is, so the ISO check reports it)."""
    return (
        f"CASE WHEN regexp_matches(trim({expr}), '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}$') "
        f"THEN coalesce(strftime(try_strptime(trim({expr}), '%m/%d/%Y'), '%Y-%m-%d'), {expr}) "
        f"ELSE {expr} END"
    )


def azure_plan(cols: Columns) -> Plan:
    """Plan for an Azure cost-details CSV (EA or MCA, actual or amortized; Pascal or camel case).

    The file's one cost column fills both BilledCost and EffectiveCost: an actual-cost export
    carries billed amounts, an amortized export carries effective amounts, and nothing in a
    single file gives the other view (README.md, "Azure").
    """
    day_col = cols.name("Date", "UsageDateTime", "UsageDate") or "Date"
    cost_col = cols.name("CostInBillingCurrency", "Cost", "PreTaxCost") or "CostInBillingCurrency"
    cur_col = cols.name("BillingCurrencyCode", "BillingCurrency", "Currency") or "BillingCurrency"
    tags = cols.find("Tags")
    charge = cols.find("ChargeType")
    text = {
        "charge_start": us_or_iso_date(
            cols.need("Date", "UsageDateTime", "UsageDate", focus_field="ChargePeriodStart")
        ),
        "ProviderName": "'Microsoft'",
        "BillingAccountId": cols.find("BillingAccountId"),
        "SubAccountId": cols.find("SubscriptionId", "SubscriptionGuid"),
        "ServiceName": cols.need("MeterCategory", focus_field="ServiceName"),
        "ServiceCategory": _case(cols.find("ServiceFamily"), AZURE_SERVICE_CATEGORY),
        "RegionId": cols.find("ResourceLocation"),
        "ResourceId": cols.find("ResourceId", "InstanceId", "InstanceName"),
        # Older exports have no ChargeType: every line is usage there.
        "ChargeCategory": f"CASE WHEN {charge} IS NULL THEN 'Usage' ELSE "
        f"{_case(charge, AZURE_CHARGE_CATEGORY)} END",
        "charge_type": charge,
        "BillingCurrency": cols.need(
            "BillingCurrencyCode", "BillingCurrency", "Currency", focus_field="BillingCurrency"
        ),
        # EA writes Tags without the braces ("a": "1","b": "2"); MCA and older files with them.
        "tags_raw": f"CASE WHEN {tags} IS NULL THEN NULL WHEN starts_with(ltrim({tags}), '{{') "
        f"THEN {tags} ELSE '{{' || {tags} || '}}' END",
    }
    money = {
        "cost": (
            cost_col,
            cols.need("CostInBillingCurrency", "Cost", "PreTaxCost", focus_field="BilledCost"),
        ),
        "payg": ("paygCostInBillingCurrency", cols.find("paygCostInBillingCurrency")),
    }
    checks = common_checks(
        day_field=day_col,
        currency_field=cur_col,
        provider_field="ProviderName",
        service_field=cols.name("MeterCategory") or "MeterCategory",
    )
    checks += [
        Check("ChargeType", "ChargeCategory IS NULL", "unknown charge type", "charge_type"),
        Check(cost_col, "cost IS NULL", "empty cost"),
    ]
    return Plan(
        text=text,
        money=money,
        billed="cost_d",
        effective="cost_d",
        listed="payg_d",
        checks=checks,
        currency_field=cur_col,
        nullable=frozenset({"payg"}),  # ListCost may be null
    )


def oci_plan(cols: Columns) -> Plan:
    """Plan for an OCI cost report (``lineItem/intervalUsageStart``, ``cost/myCost`` columns).

    OCI leaves ``cost/currencyCode`` empty on some zero-cost lines (koku's sample); such a line
    takes the file's currency. An empty currency on a line with a cost is an error.
    """
    currency = cols.require("cost/currencyCode")
    text = {
        "charge_start": cols.require("lineItem/intervalUsageStart"),
        "ProviderName": "'Oracle'",
        "BillingAccountId": cols.ref("lineItem/tenantId"),
        "SubAccountId": cols.ref("product/compartmentId"),
        "ServiceName": cols.require("product/service"),
        "ServiceCategory": "CAST(NULL AS VARCHAR)",
        "RegionId": cols.ref("product/region"),
        "ResourceId": cols.ref("product/resourceId"),
        "ChargeCategory": f"CASE WHEN lower({cols.ref('lineItem/isCorrection')}) = 'true' "
        "THEN 'Adjustment' ELSE 'Usage' END",
        "currency_raw": currency,
        "BillingCurrency": f"coalesce({currency}, max({currency}) OVER ())",
        "tags_raw": tags_json(cols, "tags/"),
    }
    money = {"cost": ("cost/myCost", cols.require("cost/myCost"))}
    checks = common_checks(
        day_field="lineItem/intervalUsageStart",
        currency_field="cost/currencyCode",
        provider_field="ProviderName",
        service_field="product/service",
    )
    checks += [
        Check("cost/myCost", "cost IS NULL", "empty cost"),
        Check(
            "cost/currencyCode",
            "currency_raw IS NULL AND cost_d <> 0",
            "empty currency on a line with a cost",
        ),
    ]
    return Plan(
        text=text,
        money=money,
        billed="cost_d",
        effective="cost_d",
        listed="CAST(NULL AS DECIMAL(38, 24))",
        checks=checks,
        currency_field="cost/currencyCode",
    )
