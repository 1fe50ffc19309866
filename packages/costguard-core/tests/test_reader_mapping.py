"""Column mapping rules: CUR line item types, amortized EffectiveCost, tags, days, FOCUS 1.3."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from costguard_core.errors import InputError
from costguard_core.focus import read_daily

CUR_HEADER = [
    "identity/LineItemId",
    "bill/PayerAccountId",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/ProductCode",
    "lineItem/ResourceId",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "product/ProductName",
    "product/region",
    "pricing/publicOnDemandCost",
    "reservation/EffectiveCost",
    "reservation/ReservationARN",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
    "resourceTags/user:team",
    "resourceTags/user:Env",
]


def _cur(line_type: str, cost: str, **extra: str) -> dict[str, str]:
    row = {
        "identity/LineItemId": "id",
        "bill/PayerAccountId": "999",
        "lineItem/UsageAccountId": "111",
        "lineItem/LineItemType": line_type,
        "lineItem/UsageStartDate": "2023-11-02T05:00:00Z",
        "lineItem/ProductCode": "AmazonEC2",
        "lineItem/ResourceId": "i-1",
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedCost": cost,
        "product/ProductName": "Amazon Elastic Compute Cloud",
        "product/region": "us-east-1",
    }
    row.update(extra)
    return row


def _one(daily, **match):
    frame = daily.frame
    for column, value in match.items():
        frame = frame[frame[column] == value]
    assert len(frame) == 1, frame
    return frame.iloc[0]


def test_cur_charge_category_and_amortized_effective_cost(tmp_path, write_csv):
    rows = [
        _cur("Usage", "2.50", **{"pricing/publicOnDemandCost": "2.50"}),
        _cur("Usage", "0.50", **{"pricing/publicOnDemandCost": "0.50"}),
        _cur(
            "DiscountedUsage",
            "0",
            **{"lineItem/ResourceId": "i-ri", "reservation/EffectiveCost": "0.70"},
        ),
        _cur(
            "SavingsPlanCoveredUsage",
            "1.00",
            **{"lineItem/ResourceId": "i-sp", "savingsPlan/SavingsPlanEffectiveCost": "0.60"},
        ),
        _cur(
            "RIFee",
            "30",
            **{
                "lineItem/ResourceId": "ri-fee",
                "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "1.25",
                "reservation/UnusedRecurringFee": "0.75",
            },
        ),
        _cur(
            "SavingsPlanRecurringFee",
            "24",
            **{
                "lineItem/ResourceId": "sp-fee",
                "savingsPlan/TotalCommitmentToDate": "24",
                "savingsPlan/UsedCommitment": "20.5",
            },
        ),
        _cur(
            "Fee",
            "100",
            **{"lineItem/ResourceId": "ri-upfront", "reservation/ReservationARN": "arn:ri"},
        ),
        _cur("Tax", "0.08", **{"lineItem/ResourceId": ""}),
        _cur("Credit", "-1", **{"lineItem/ResourceId": ""}),
        _cur("Refund", "-2", **{"lineItem/ResourceId": "i-1"}),
    ]
    daily = read_daily([write_csv(tmp_path / "cur.csv", rows, header=CUR_HEADER)])
    usage = _one(daily, ResourceId="i-1", ChargeCategory="Usage")
    assert (usage.BilledCost, usage.EffectiveCost, usage.ListCost) == (
        Decimal("3"),
        Decimal("3"),
        Decimal("3"),
    )
    assert _one(daily, ResourceId="i-ri").EffectiveCost == Decimal("0.7")
    assert _one(daily, ResourceId="i-sp").EffectiveCost == Decimal("0.6")
    ri_fee = _one(daily, ResourceId="ri-fee")
    assert (ri_fee.ChargeCategory, ri_fee.EffectiveCost) == ("Purchase", Decimal("2"))
    assert _one(daily, ResourceId="sp-fee").EffectiveCost == Decimal("3.5")
    upfront = _one(daily, ResourceId="ri-upfront")
    assert (upfront.ChargeCategory, upfront.BilledCost, upfront.EffectiveCost) == (
        "Purchase",
        Decimal("100"),
        Decimal("0"),
    )
    assert _one(daily, ChargeCategory="Tax").BilledCost == Decimal("0.08")
    assert _one(daily, ChargeCategory="Credit").BilledCost == Decimal("-1")
    assert _one(daily, ChargeCategory="Adjustment").BilledCost == Decimal("-2")
    assert _one(daily, ChargeCategory="Tax").ListCost is None  # no publicOnDemandCost
    assert set(daily.frame.ServiceCategory) == {"Compute"}
    assert set(daily.frame.ProviderName) == {"AWS"}
    assert set(daily.frame.BillingAccountId) == {"999"}
    assert set(daily.frame.SubAccountId) == {"111"}
    assert set(daily.frame.RegionId) == {"us-east-1"}
    assert daily.rows_read == len(rows)


def test_cur_unknown_line_item_type_is_an_error(tmp_path, write_csv):
    path = write_csv(tmp_path / "cur.csv", [_cur("Usage", "1"), _cur("Mystery", "1")], CUR_HEADER)
    with pytest.raises(InputError) as info:
        read_daily([path])
    assert (info.value.row, info.value.field) == (3, "lineItem/LineItemType")
    assert "'Mystery'" in str(info.value)


def test_cur_amortized_input_missing_is_an_error(tmp_path, write_csv):
    path = write_csv(tmp_path / "cur.csv", [_cur("DiscountedUsage", "0")], CUR_HEADER)
    with pytest.raises(InputError) as info:
        read_daily([path])
    assert (info.value.row, info.value.field) == (2, "reservation/EffectiveCost")


def test_cur_tags_from_user_columns(tmp_path, write_csv):
    rows = [
        _cur("Usage", "1", **{"resourceTags/user:team": "data", "resourceTags/user:Env": "prod"}),
        _cur("Usage", "2", **{"resourceTags/user:team": "data", "resourceTags/user:Env": "prod"}),
        _cur("Usage", "4", **{"resourceTags/user:team": "web"}),
        _cur("Usage", "8"),
    ]
    frame = read_daily([write_csv(tmp_path / "cur.csv", rows, CUR_HEADER)]).frame
    by_tags = dict(zip(frame.Tags, frame.BilledCost, strict=True))
    assert by_tags == {
        '{"Env":"prod","team":"data"}': Decimal("3"),
        '{"team":"web"}': Decimal("4"),
        "{}": Decimal("8"),
    }


def test_focus_days_are_utc_and_tags_canonical(tmp_path, focus_row, write_csv):
    rows = [
        focus_row(ChargePeriodStart="2024-09-01T23:30:00-02:00", Tags='{"b": "2", "a": "1"}'),
        focus_row(ChargePeriodStart="2024-09-02 01:00:00", Tags='{"a":"1","b":"2"}'),
        focus_row(ChargePeriodStart="2024-09-01T23:59:59Z", Tags="NULL"),
        focus_row(ChargePeriodStart="2024-09-02T00:30:00+01:00", Tags='{"k": null, "n": 3}'),
    ]
    frame = read_daily([write_csv(tmp_path / "f.csv", rows)]).frame
    got = {
        (d.to_pydatetime(), t): c
        for d, t, c in zip(frame.ChargePeriodStart, frame.Tags, frame.BilledCost, strict=True)
    }
    assert got == {
        (datetime(2024, 9, 2), '{"a":"1","b":"2"}'): Decimal("2.2"),
        (datetime(2024, 9, 1), "{}"): Decimal("1.1"),
        (datetime(2024, 9, 1), '{"k":"","n":"3"}'): Decimal("1.1"),
    }


def test_focus_13_service_provider_name_and_partial_list_cost(tmp_path, focus_row, write_csv):
    rows = [focus_row(), focus_row(ListCost="NULL")]
    for row in rows:
        row["ServiceProviderName"] = row.pop("ProviderName")
    frame = read_daily([write_csv(tmp_path / "f13.csv", rows)]).frame
    assert list(frame.ProviderName) == ["AWS"]
    assert frame.BilledCost[0] == Decimal("2.2")
    assert frame.ListCost[0] is None  # one line item had no ListCost: the day's is unknown
