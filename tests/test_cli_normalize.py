"""``costguard normalize``: FOCUS 1.2 output (CSV and Parquet), round trip through the reader,
exact money, exit 2 on bad input without leaving a half-written output."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from costguard_core.focus import detect_format, read_daily
from typer.testing import CliRunner

from costguard_cli.main import app
from costguard_cli.normalize import OTHER_CATEGORY, OUTPUT_COLUMNS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
SAMPLES = sorted(p for p in EXAMPLES.iterdir() if p.name != "NOTICE.md")
runner = CliRunner()


def normalize(*args: object):
    return runner.invoke(app, ["normalize", *map(str, args)])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_keeps_every_daily_row(tmp_path: Path, sample: Path, suffix: str) -> None:
    out = tmp_path / f"focus{suffix}"
    result = normalize(sample, "--output", out)
    assert result.exit_code == 0, result.output
    assert detect_format(out)[0] == "focus"
    original = read_daily([sample]).frame
    again = read_daily([out]).frame
    # The one deliberate difference: FOCUS allows no null ServiceCategory, "Other" is written.
    known = original.ServiceCategory.notna()
    assert (again.ServiceCategory[~known] == OTHER_CATEGORY).all()
    again["ServiceCategory"] = again.ServiceCategory.where(known, None)
    pd.testing.assert_frame_equal(again, original)
    sums = original.groupby("ChargePeriodStart")["BilledCost"].sum()
    assert sums.equals(again.groupby("ChargePeriodStart")["BilledCost"].sum())


def test_columns_types_and_exact_money(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "ChargePeriodStart,ProviderName,ServiceName,ChargeCategory,BillingCurrency,"
        "BilledCost,EffectiveCost,ListCost,Tags\n"
        '2025-01-01T05:00:00Z,AWS,EC2,Usage,EUR,0.0000001,1E-7,,"{""b"":""2"",""a"":""1""}"\n'
        "2025-01-01T09:00:00Z,AWS,EC2,Usage,EUR,12345678.123456789012,3,4,\n"
    )
    csv_out, pq_out = tmp_path / "o.csv", tmp_path / "o.parquet"
    assert normalize(src, "-o", csv_out).exit_code == 0
    assert normalize(src, "-o", pq_out).exit_code == 0
    lines = csv_out.read_text().splitlines()
    assert lines[0].split(",") == list(OUTPUT_COLUMNS)
    assert len(lines) == 3  # two tag sets: two daily rows
    assert "2025-01-01T00:00:00Z,2025-01-02T00:00:00Z,AWS" in lines[1]
    assert lines[1].endswith(',"{""a"":""1"",""b"":""2""}",0.0000001,0.0000001,')
    assert lines[2].endswith(",{},12345678.123456789012,3,4")
    types = {r[0]: r[1] for r in duckdb.sql(f"DESCRIBE SELECT * FROM '{pq_out}'").fetchall()}
    assert types["BilledCost"] == "DECIMAL(38,12)" and types["RegionId"] == "VARCHAR"
    assert types["ChargePeriodStart"] == "TIMESTAMP WITH TIME ZONE"
    costs = duckdb.sql(f"SELECT BilledCost FROM '{pq_out}' ORDER BY 1").fetchall()
    assert [c for (c,) in costs] == [Decimal("1E-7"), Decimal("12345678.123456789012")]


def test_format_detected_from_content_not_name(tmp_path: Path) -> None:
    odd = tmp_path / "export.parquet.txt"
    shutil.copy(EXAMPLES / "aws_cur_sample_anonymous.csv", odd)
    result = normalize(odd, "-o", tmp_path / "o.csv")
    assert result.exit_code == 0, result.output
    assert "427 daily FOCUS rows" in result.output


def test_bad_input_exits_2_and_keeps_previous_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ChargePeriodStart,ProviderName,ServiceName,ChargeCategory,BillingCurrency,"
        "BilledCost,EffectiveCost\n"
        "2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,1,1\n"
        "2025-01-02T00:00:00Z,AWS,EC2,Usage,USD,abc,1\n"
    )
    out = tmp_path / "o.parquet"
    out.write_bytes(b"previous")
    result = normalize(bad, "-o", out)
    assert result.exit_code == 2
    assert "bad.csv: row 3: field BilledCost" in result.output
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "o.parquet"]


def test_bad_output_suffix_and_missing_file(tmp_path: Path) -> None:
    result = normalize(EXAMPLES / "focus_sample_1000.csv", "-o", tmp_path / "o.json")
    assert result.exit_code == 2 and ".parquet or .csv" in result.output
    assert not (tmp_path / "o.json").exists()
    assert normalize(tmp_path / "missing.csv", "-o", tmp_path / "o.csv").exit_code == 2


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")


@needs_shared
def test_lenient_repairs_are_printed_and_strict_stays_the_default(tmp_path: Path) -> None:
    cur = SHARED / "koku" / "aws" / "test_cur.csv"
    out = tmp_path / "o.csv"
    strict = normalize(cur, "-o", out)
    assert strict.exit_code == 2 and "test_cur.csv: row 2: expected 131 fields" in strict.output
    assert not out.exists()
    result = normalize(cur, "-o", out, "--lenient")
    assert result.exit_code == 0, result.output
    assert f"warning: {cur}: row 2: padded 1 missing trailing column(s) with NULL" in result.output
    pd.testing.assert_frame_equal(read_daily([out]).frame, read_daily([cur], lenient=True).frame)
    # A row that cannot be read is refused even with --lenient (unless --max-bad-rows).
    nov = SHARED / "koku" / "aws" / "November-2023-None.csv"
    refused = normalize(nov, "-o", out, "--lenient")
    assert refused.exit_code == 2
    assert "row 7: field lineItem/UnblendedCost: not a number: 'BoxUsage:m5.large'" in (
        refused.stderr
    )


@needs_shared
def test_max_bad_rows_prints_each_rejected_row_and_writes_the_rest(tmp_path: Path) -> None:
    nov = SHARED / "koku" / "aws" / "November-2023-None.csv"
    out = tmp_path / "nov.parquet"
    alone = normalize(nov, "-o", out, "--max-bad-rows", "2")
    assert alone.exit_code == 2 and "--max-bad-rows needs --lenient" in alone.stderr
    over = normalize(nov, "-o", out, "--lenient", "--max-bad-rows", "1")
    assert over.exit_code == 2 and "(2 bad rows of 26; max_bad_rows is 1)" in over.stderr
    assert not out.exists()
    result = normalize(nov, "-o", out, "--lenient", "--max-bad-rows", "2")
    assert result.exit_code == 0, result.output
    rejected = [line for line in result.stderr.splitlines() if line.startswith("REJECTED")]
    assert rejected == [
        f"REJECTED (not summed): {nov}: row 7: field lineItem/UnblendedCost: not a number: "
        "'BoxUsage:m5.large' (not summed; lineItem/UnblendedCost as given: 'BoxUsage:m5.large')",
        f"REJECTED (not summed): {nov}: row 27: field savingsPlan/SavingsPlanEffectiveCost: "
        "empty or missing, but SavingsPlanCoveredUsage lines need it for EffectiveCost "
        "(not summed; lineItem/UnblendedCost as given: '0.013910122499148437')",
        "REJECTED: 2 row(s) set aside by --max-bad-rows; their costs are NOT in the output "
        "(listed above with their raw cost text)",
    ]
    assert result.stdout == ""
    want = read_daily([nov], lenient=True, max_bad_rows=2).frame
    pd.testing.assert_frame_equal(read_daily([out]).frame, want)
    # The non-ISO currency sample is written with its currency as given.
    mc = SHARED / "koku" / "azure" / "azure_version_2.csv"
    mc_out = tmp_path / "mc.csv"
    written = normalize(mc, "-o", mc_out, "--lenient")
    assert written.exit_code == 0 and "'MC' is not an ISO 4217 code" in written.stderr
    assert set(pd.read_csv(mc_out, dtype=str).BillingCurrency) == {"MC"}


def test_hourly_output(tmp_path: Path) -> None:
    sample = EXAMPLES / "focus_sample_1000.csv"
    out = tmp_path / "hourly.csv"
    result = normalize(sample, "-o", out, "--granularity", "hour")
    assert result.exit_code == 0, result.output
    assert "hourly FOCUS rows written" in result.output
    written = pd.read_csv(out, dtype=str)
    start = pd.to_datetime(written.ChargePeriodStart)
    assert (pd.to_datetime(written.ChargePeriodEnd) - start == pd.Timedelta(hours=1)).all()
    assert start.dt.hour.nunique() > 1
    hourly = read_daily([sample], granularity="hour").frame
    pd.testing.assert_frame_equal(read_daily([out], granularity="hour").frame, hourly)
    bad = normalize(sample, "-o", out, "--granularity", "minute")
    assert bad.exit_code == 2 and "--granularity must be day or hour" in bad.output
