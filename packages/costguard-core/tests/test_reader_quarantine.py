"""Lenient mode, row by row: ``max_bad_rows`` (bad rows set aside and listed, never summed, never
silently dropped) and the per-row padding rule (a short row is bad only when a column its own
cost reads is missing). Expected sums are written out by hand from the rows kept.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from costguard_core.errors import InputError
from costguard_core.focus import RejectedRow, read_daily

FOCUS = "ChargePeriodStart,ProviderName,ServiceName,ChargeCategory,BillingCurrency,BilledCost,"
FOCUS += "EffectiveCost\n"
GOOD = "2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,{0},{0}\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _billed(daily) -> dict[date, Decimal]:
    out: dict[date, Decimal] = {}
    for rec in daily.frame.itertuples(index=False):
        day = rec.ChargePeriodStart.date()
        out[day] = out.get(day, Decimal(0)) + rec.BilledCost
    return out


def test_bad_rows_up_to_the_limit_are_listed_not_summed(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "f.csv",
        FOCUS
        + GOOD.format("1.10")  # row 2
        + "2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,abc,1\n"  # row 3: not a number
        + ",AWS,EC2,Usage,USD,2.50,2.50\n"  # row 4: empty timestamp
        + "2025-01-02T00:00:00Z,AWS,EC2,Usage,USD,7,7,x\n"  # row 5: 8 fields
        + "2025-01-02T00:00:00Z,AWS,EC2,Usage,USD,,1\n"  # row 6: empty BilledCost
        + GOOD.format("0.20").replace("01T", "02T"),  # row 7
    )
    with pytest.raises(InputError, match=r"row 3: field BilledCost: not a number: 'abc'$"):
        read_daily([path], lenient=True)
    with pytest.raises(InputError) as info:
        read_daily([path], lenient=True, max_bad_rows=3)
    assert (info.value.row, info.value.field) == (3, "BilledCost")
    assert info.value.message.endswith("(4 bad rows of 6; max_bad_rows is 3)")
    daily = read_daily([path], lenient=True, max_bad_rows=4)
    assert [(r.row, r.field, r.reason, r.cost_field, r.cost_text) for r in daily.rejected] == [
        (3, "BilledCost", "not a number: 'abc'", "BilledCost", "abc"),
        (4, "ChargePeriodStart", "empty timestamp", "BilledCost", "2.50"),
        (
            5,
            None,
            "more fields than the header's 7 (lenient mode pads only missing trailing fields); "
            "fields found: 8",
            "BilledCost",
            "7",
        ),
        (6, "BilledCost", "empty cost (mandatory column)", "BilledCost", None),
    ]
    assert str(daily.rejected[3]).endswith(
        "row 6: field BilledCost: empty cost (mandatory column) "
        "(not summed; BilledCost as given: empty or missing)"
    )
    assert _billed(daily) == {date(2025, 1, 1): Decimal("1.1"), date(2025, 1, 2): Decimal("0.2")}
    assert daily.rows_read == 2 and daily.files[0].rejected == 4
    # Strict mode is unchanged: the first structural defect refuses the file.
    with pytest.raises(InputError, match="row 5: expected 7 fields, found 8"):
        read_daily([path])


def test_max_bad_rows_is_per_file_and_needs_lenient(tmp_path: Path) -> None:
    one = _write(tmp_path / "a.csv", FOCUS + GOOD.format("1") + GOOD.format("x"))
    two = _write(tmp_path / "b.csv", FOCUS + GOOD.format("y") + GOOD.format("2"))
    daily = read_daily([one, two], lenient=True, max_bad_rows=1)
    assert [(Path(r.path).name, r.row, r.cost_text) for r in daily.rejected] == [
        ("a.csv", 3, "x"),
        ("b.csv", 2, "y"),
    ]
    assert _billed(daily) == {date(2025, 1, 1): Decimal(3)}
    for bad in ({"max_bad_rows": 1}, {"lenient": True, "max_bad_rows": -1}):
        with pytest.raises(ValueError, match="max_bad_rows"):
            read_daily([one], **bad)  # type: ignore[arg-type]
    # A file whose every row is bad is refused, whatever the limit.
    worst = _write(tmp_path / "c.csv", FOCUS + GOOD.format("x"))
    with pytest.raises(
        InputError, match=r"row 2: field BilledCost: .*\(all 1 data rows are bad\)$"
    ):
        read_daily([worst], lenient=True, max_bad_rows=5)


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    csv_path = _write(
        tmp_path / "f.csv", FOCUS + GOOD.format("1") + GOOD.format("n/a") + GOOD.format("2")
    )
    parquet = tmp_path / "f.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{parquet}' "
        "(FORMAT PARQUET)"
    )
    daily = read_daily([parquet], lenient=True, max_bad_rows=1, granularity="hour")
    assert daily.rejected == (
        RejectedRow(str(parquet), 2, "BilledCost", "not a number: 'n/a'", "BilledCost", "n/a"),
    )
    assert list(daily.frame.BilledCost) == [Decimal(3)]
    assert daily.frame.ChargePeriodStart[0] == datetime(2025, 1, 1)


CUR = (
    "lineItem/UsageStartDate,lineItem/LineItemType,lineItem/ProductCode,lineItem/CurrencyCode,"
    "lineItem/UnblendedCost,reservation/EffectiveCost,pricing/publicOnDemandCost,"
    "savingsPlan/SavingsPlanEffectiveCost\n"
)


def test_a_short_row_is_bad_only_when_its_own_cost_needs_a_missing_column(
    tmp_path: Path,
) -> None:
    # Row 2 (Usage) lacks the SavingsPlan column and the list cost, which its cost does not
    # need: padded. Row 3 (SavingsPlanCoveredUsage) lacks the column its EffectiveCost is.
    path = _write(
        tmp_path / "cur.csv",
        CUR + "2025-01-01T00:00:00Z,Usage,AmazonEC2,USD,1.5,\n"
        "2025-01-01T00:00:00Z,SavingsPlanCoveredUsage,AmazonEC2,USD,2,,3\n"
        "2025-01-01T00:00:00Z,SavingsPlanCoveredUsage,AmazonEC2,USD,4,,5,3.5\n",
    )
    with pytest.raises(InputError) as info:
        read_daily([path], lenient=True)
    err = info.value
    assert (err.row, err.field) == (3, "savingsPlan/SavingsPlanEffectiveCost")
    assert err.message == (
        "missing from this short row (column 8 of 8), and this row's cost needs it; fields found: 7"
    )
    daily = read_daily([path], lenient=True, max_bad_rows=1)
    assert [(r.row, r.cost_text) for r in daily.rejected] == [(3, "2")]
    (rec,) = daily.frame.itertuples(index=False)
    assert (rec.BilledCost, rec.EffectiveCost) == (Decimal("5.5"), Decimal("5"))
    assert rec.ListCost is None  # row 2 has no list cost (padded): the day's is unknown
    assert [(w.row, w.rows) for w in daily.warnings] == [(2, 1), (3, 1)]


def test_text_in_a_cost_column_a_row_does_not_read_is_reported_not_refused(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path / "cur.csv",
        CUR + "2025-01-01T00:00:00Z,Usage,AmazonEC2,USD,1.5,n/a,,\n"
        "2025-01-01T00:00:00Z,Usage,AmazonEC2,USD,1,n/a,,\n",
    )
    with pytest.raises(InputError, match="row 2: field reservation/EffectiveCost: not a number"):
        read_daily([path])
    daily = read_daily([path], lenient=True)
    assert [(w.row, w.rows, w.message) for w in daily.warnings] == [
        (
            2,
            2,
            "field reservation/EffectiveCost: ignored text that is not a number on 2 row(s) "
            "whose cost does not read this column (first: 'n/a'); strict mode refuses it",
        )
    ]
    assert list(daily.frame.EffectiveCost) == [Decimal("2.5")]
    # A DiscountedUsage line reads reservation/EffectiveCost: the same text is an error there.
    used = _write(
        tmp_path / "used.csv", CUR + "2025-01-01T00:00:00Z,DiscountedUsage,AmazonEC2,USD,1,n/a,,\n"
    )
    with pytest.raises(InputError, match="row 2: field reservation/EffectiveCost: not a number"):
        read_daily([used], lenient=True)


def test_a_short_gcp_row_missing_its_credits_is_refused(tmp_path: Path) -> None:
    # Credits are netted into every GCP row's cost: a missing credits column is never read as 0.
    header = "usage_start_time,service.description,currency,cost,labels,credits\n"
    path = _write(
        tmp_path / "gcp.csv",
        header + '2025-01-01T00:00:00Z,Compute Engine,USD,2,[],"[{""amount"": -0.5}]"\n'
        "2025-01-01T00:00:00Z,Compute Engine,USD,3,[]\n"
        "2025-01-01T00:00:00Z,Compute Engine,USD,4\n",
    )
    with pytest.raises(InputError) as info:
        read_daily([path], lenient=True)
    assert (info.value.row, info.value.field) == (3, "credits")
    daily = read_daily([path], lenient=True, max_bad_rows=2)
    assert [r.row for r in daily.rejected] == [3, 4]
    assert list(daily.frame.BilledCost) == [Decimal("1.5")]
