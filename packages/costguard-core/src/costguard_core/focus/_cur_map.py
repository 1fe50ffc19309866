"""Legacy AWS Cost and Usage Report (``lineItem/UnblendedCost`` headers) to FOCUS columns.

The rules follow the FinOps Foundation's focus_converters AWS configs (MIT,
github.com/finopsfoundation/focus_converters, conversion_configs/aws); README.md has the table.
"""

from __future__ import annotations

import json
import re

from costguard_core.focus._plan import (
    MONEY_TYPE,
    Check,
    Columns,
    Plan,
    common_checks,
    quote_literal,
)

#: lineItem/LineItemType -> FOCUS ChargeCategory. Credit keeps FOCUS 1.0's own Credit value;
#: Refund is "Adjustment" as in the converter. Any other type is an error, not a guess.
CHARGE_CATEGORY: dict[str, str] = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage",
    "BundledDiscount": "Usage",
    "Discount": "Usage",
    "EdpDiscount": "Usage",
    "PrivateRateDiscount": "Usage",
    "SppDiscount": "Usage",
    "DistributorDiscount": "Usage",
    "Tax": "Tax",
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "Credit": "Credit",
    "Refund": "Adjustment",
}

#: lineItem/ProductCode -> FOCUS ServiceCategory for the common services (a subset of the
#: converter's aws_category_mapping.csv); other codes get null.
SERVICE_CATEGORY: dict[str, str] = {
    "AmazonEC2": "Compute",
    "AWSLambda": "Compute",
    "AmazonECS": "Compute",
    "AmazonEKS": "Compute",
    "AmazonECR": "Compute",
    "AmazonLightsail": "Compute",
    "AmazonS3": "Storage",
    "AmazonEBS": "Storage",
    "AmazonEFS": "Storage",
    "AmazonFSx": "Storage",
    "AmazonGlacier": "Storage",
    "AWSBackup": "Storage",
    "AmazonRDS": "Databases",
    "AmazonDynamoDB": "Databases",
    "AmazonElastiCache": "Databases",
    "AmazonRedshift": "Databases",
    "AmazonDocDB": "Databases",
    "AmazonVPC": "Networking",
    "AWSELB": "Networking",
    "AmazonCloudFront": "Networking",
    "AmazonRoute53": "Networking",
    "AWSDataTransfer": "Networking",
    "AmazonApiGateway": "Networking",
    "AWSDirectConnect": "Networking",
    "AWSGlue": "Analytics",
    "AmazonAthena": "Analytics",
    "AmazonKinesis": "Analytics",
    "AmazonKinesisFirehose": "Analytics",
    "ElasticMapReduce": "Analytics",
    "AmazonES": "Analytics",
    "AmazonQuickSight": "Analytics",
    "AWSQueueService": "Integration",
    "AmazonSNS": "Integration",
    "AmazonStates": "Integration",
    "AmazonMQ": "Integration",
    "AmazonCloudWatch": "Management and Governance",
    "AWSCloudTrail": "Management and Governance",
    "AWSConfig": "Management and Governance",
    "AWSCloudFormation": "Management and Governance",
    "AWSSystemsManager": "Management and Governance",
    "AWSCostExplorer": "Management and Governance",
    "awskms": "Security",
    "AWSSecretsManager": "Security",
    "AmazonGuardDuty": "Security",
    "awswaf": "Security",
    "AmazonCognito": "Security",
    "AWSCertificateManager": "Security",
    "AmazonSageMaker": "AI and Machine Learning",
    "AmazonBedrock": "AI and Machine Learning",
    "AmazonRekognition": "AI and Machine Learning",
    "AmazonTextract": "AI and Machine Learning",
    "AmazonSES": "Business Applications",
}

_TAG_PREFIX = "resourceTags/user:"

# Amortization inputs each line type needs for EffectiveCost (converter effective_cost_S001).
_AMORTIZED_INPUTS: dict[str, tuple[str, ...]] = {
    "SavingsPlanCoveredUsage": ("sp_effective",),
    "SavingsPlanRecurringFee": ("sp_commitment", "sp_used"),
    "DiscountedUsage": ("ri_effective",),
    "RIFee": ("ri_unused_upfront", "ri_unused_recurring"),
}
_MONEY_SOURCES = {
    "unblended": "lineItem/UnblendedCost",
    "on_demand": "pricing/publicOnDemandCost",
    "sp_effective": "savingsPlan/SavingsPlanEffectiveCost",
    "sp_commitment": "savingsPlan/TotalCommitmentToDate",
    "sp_used": "savingsPlan/UsedCommitment",
    "ri_effective": "reservation/EffectiveCost",
    "ri_unused_upfront": "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "ri_unused_recurring": "reservation/UnusedRecurringFee",
}


#: Which rows' costs read each amortization input (and the reservation ARN, which decides an
#: upfront Fee's EffectiveCost); every other money input (UnblendedCost, publicOnDemandCost,
#: the line type, the currency) every row reads. Lenient mode uses this (``Plan.needed_when``).
_NEEDED_WHEN: dict[str, str] = {
    "ri_arn": "line_type = 'Fee'",
    **{
        alias: f"line_type = {quote_literal(kind)}"
        for kind, inputs in _AMORTIZED_INPUTS.items()
        for alias in inputs
    },
}


_SNAKE_RE = re.compile(r"(?<!^)(?=[A-Z])")
_LEGACY_NEEDED = (
    "identity/LineItemId",
    "lineItem/LineItemType",
    "lineItem/ProductCode",
    "lineItem/UsageStartDate",
    "lineItem/UsageAccountId",
    "lineItem/ResourceId",
    "lineItem/CurrencyCode",
    "bill/PayerAccountId",
    "product/ProductName",
    "product/region",
    "product/regionCode",
    "reservation/ReservationARN",
    *_MONEY_SOURCES.values(),
)


def _snake(legacy: str) -> str:
    return "_".join(_SNAKE_RE.sub("_", part).lower() for part in legacy.split("/"))


_FROM_SNAKE = {_snake(name): name for name in _LEGACY_NEEDED}


def legacy_names(columns: tuple[str, ...]) -> tuple[str, ...]:
    """CUR 2.0 / Athena snake_case names (``line_item_unblended_cost``) as legacy CUR names
    (``lineItem/UnblendedCost``), so one plan serves both; positions are unchanged.
    ``resource_tags_user_<k>`` (Athena) becomes ``resourceTags/user:<k>``."""
    out = []
    for name in columns:
        if name in _FROM_SNAKE:
            out.append(_FROM_SNAKE[name])
        elif name.startswith("resource_tags_user_"):
            out.append(_TAG_PREFIX + name[len("resource_tags_user_") :])
        else:
            out.append(name)
    return tuple(out)


def _case(column: str, mapping: dict[str, str]) -> str:
    whens = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in sorted(mapping.items())
    )
    return f"CASE {column} {whens} ELSE CAST(NULL AS VARCHAR) END"


def tags_json(cols: Columns, prefix: str = _TAG_PREFIX) -> str:
    """A JSON object of the non-empty ``<prefix><key>`` column values, keys without the prefix."""
    keys = sorted((name[len(prefix) :], name) for name in cols.names if name.startswith(prefix))
    if not keys:
        return "CAST(NULL AS VARCHAR)"
    parts = [
        f"CASE WHEN {cols.ref(name)} IS NOT NULL THEN "
        f"{quote_literal(json.dumps(key) + ':')} || to_json({cols.ref(name)}) END"
        for key, name in keys
    ]
    return f"'{{' || concat_ws(',', {', '.join(parts)}) || '}}'"


def cur_plan(cols: Columns) -> Plan:
    """Plan for a legacy CUR file; InputError when a column the daily rows need is missing."""
    line_type = cols.require("lineItem/LineItemType")
    product_code = cols.ref("lineItem/ProductCode")
    text = {
        "charge_start": cols.require("lineItem/UsageStartDate"),
        "ProviderName": "'AWS'",
        "BillingAccountId": cols.ref("bill/PayerAccountId"),
        "SubAccountId": cols.ref("lineItem/UsageAccountId"),
        "ServiceName": cols.require("product/ProductName", "lineItem/ProductCode"),
        "ServiceCategory": _case(product_code, SERVICE_CATEGORY),
        "RegionId": f"coalesce({cols.ref('product/region')}, {cols.ref('product/regionCode')})",
        "ResourceId": cols.ref("lineItem/ResourceId"),
        "ChargeCategory": _case(line_type, CHARGE_CATEGORY),
        "BillingCurrency": cols.require("lineItem/CurrencyCode"),
        # CUR 2.0 holds tags in one JSON map column; legacy CUR in one column per tag.
        "tags_raw": cols.ref("resource_tags") if cols.has("resource_tags") else tags_json(cols),
        "line_type": line_type,
        "ri_arn": cols.ref("reservation/ReservationARN"),
    }
    money = {alias: (src, cols.ref(src)) for alias, src in _MONEY_SOURCES.items()}
    money["unblended"] = ("lineItem/UnblendedCost", cols.require("lineItem/UnblendedCost"))
    zero = f"CAST(0 AS {MONEY_TYPE})"
    effective = (
        "CASE line_type "
        "WHEN 'SavingsPlanCoveredUsage' THEN sp_effective_d "
        "WHEN 'SavingsPlanRecurringFee' THEN sp_commitment_d - sp_used_d "
        f"WHEN 'SavingsPlanNegation' THEN {zero} "
        f"WHEN 'SavingsPlanUpfrontFee' THEN {zero} "
        "WHEN 'DiscountedUsage' THEN ri_effective_d "
        "WHEN 'RIFee' THEN ri_unused_upfront_d + ri_unused_recurring_d "
        # An RI upfront Fee is already spread over the DiscountedUsage lines.
        f"WHEN 'Fee' THEN CASE WHEN ri_arn IS NOT NULL THEN {zero} ELSE unblended_d END "
        "ELSE unblended_d END"
    )
    checks = common_checks(
        day_field="lineItem/UsageStartDate",
        currency_field="lineItem/CurrencyCode",
        provider_field="ProviderName",
        service_field="product/ProductName",
    )
    checks += [
        Check("lineItem/LineItemType", "line_type IS NULL", "empty line item type"),
        Check(
            "lineItem/LineItemType",
            "ChargeCategory IS NULL",
            "unknown line item type",
            "line_type",
        ),
        # Every line of a real CUR has an UnblendedCost; an empty one is an error, not zero.
        Check("lineItem/UnblendedCost", "unblended IS NULL", "empty cost (mandatory column)"),
    ]
    for kind, inputs in _AMORTIZED_INPUTS.items():
        for alias in inputs:
            checks.append(
                Check(
                    _MONEY_SOURCES[alias],
                    f"line_type = {quote_literal(kind)} AND {alias}_d IS NULL",
                    f"empty or missing, but {kind} lines need it for EffectiveCost",
                )
            )
    return Plan(
        text=text,
        money=money,
        billed="unblended_d",
        effective=effective,
        listed="on_demand_d",
        checks=checks,
        currency_field="lineItem/CurrencyCode",
        money_inputs=("line_type", "ri_arn"),
        needed_when=_NEEDED_WHEN,
        nullable=frozenset({"on_demand"}),  # ListCost may be null
    )
