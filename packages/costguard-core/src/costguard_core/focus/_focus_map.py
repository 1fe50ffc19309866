"""FOCUS 1.0-1.3 exports: the FOCUS columns are taken as they are (see README.md)."""

from __future__ import annotations

from costguard_core.focus._plan import Check, Columns, Plan, common_checks


def focus_plan(cols: Columns) -> Plan:
    """Plan for a FOCUS file; InputError when a column the daily rows need is missing."""
    text = {
        "charge_start": cols.require("ChargePeriodStart"),
        # FOCUS 1.3 renamed ProviderName to ServiceProviderName; either (row by row) will do.
        "ProviderName": cols.require(
            "ProviderName", "ServiceProviderName", focus_field="ProviderName"
        ),
        "BillingAccountId": cols.ref("BillingAccountId"),
        "SubAccountId": cols.ref("SubAccountId"),
        "ServiceName": cols.require("ServiceName"),
        "ServiceCategory": cols.ref("ServiceCategory"),
        "RegionId": cols.ref("RegionId"),
        "ResourceId": cols.ref("ResourceId"),
        "ChargeCategory": cols.require("ChargeCategory"),
        "BillingCurrency": cols.require("BillingCurrency"),
        "tags_raw": cols.ref("Tags"),
    }
    money = {
        "billed": ("BilledCost", cols.require("BilledCost")),
        "effective": ("EffectiveCost", cols.require("EffectiveCost")),
        "listed": ("ListCost", cols.ref("ListCost")),
    }
    checks = common_checks(
        day_field="ChargePeriodStart",
        currency_field="BillingCurrency",
        provider_field="ProviderName",
        service_field="ServiceName",
    )
    checks += [
        Check("ChargeCategory", "ChargeCategory IS NULL", "empty charge category"),
        # BilledCost and EffectiveCost are mandatory and not nullable in FOCUS: an empty one is
        # an error, never a zero. ListCost may be null.
        Check("BilledCost", "billed IS NULL", "empty cost (mandatory column)"),
        Check("EffectiveCost", "effective IS NULL", "empty cost (mandatory column)"),
    ]
    return Plan(
        text=text,
        money=money,
        billed="billed_d",
        effective="effective_d",
        listed="listed_d",
        checks=checks,
        nullable=frozenset({"listed"}),  # ListCost may be null
    )
