"""The reader's daily sums reconcile with the real sample files, whatever the container."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from costguard_core.focus import DAILY_COLUMNS, DailyCosts, detect_format, read_daily
from costguard_core.models import CostRow

Sums = dict[tuple[date, str], tuple[Decimal, Decimal]]


def _records(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _utc_day(text: str) -> date:
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)
    return stamp.date()


def _reference_focus(path: Path) -> Sums:
    sums: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for rec in _records(path):
        acc = sums[(_utc_day(rec["ChargePeriodStart"]), rec["ProviderName"])]
        acc[0] += Decimal(rec["BilledCost"])
        acc[1] += Decimal(rec["EffectiveCost"])
    return {k: (v[0], v[1]) for k, v in sums.items()}


def _reference_cur(path: Path) -> Sums:
    sums: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for rec in _records(path):
        # These samples hold only Usage and Tax lines, whose EffectiveCost is the UnblendedCost.
        assert rec["lineItem/LineItemType"] in {"Usage", "Tax"}
        cost = Decimal(rec["lineItem/UnblendedCost"])
        acc = sums[(_utc_day(rec["lineItem/UsageStartDate"]), "AWS")]
        acc[0] += cost
        acc[1] += cost
    return {k: (v[0], v[1]) for k, v in sums.items()}


def _produced(daily: DailyCosts) -> Sums:
    sums: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for rec in daily.frame.itertuples(index=False):
        acc = sums[(rec.ChargePeriodStart.date(), rec.ProviderName)]
        acc[0] += rec.BilledCost
        acc[1] += rec.EffectiveCost
    return {k: (v[0], v[1]) for k, v in sums.items()}


@pytest.mark.parametrize(
    ("fixture", "reference", "fmt", "compressed"),
    [
        ("focus_sample", _reference_focus, "focus", False),
        ("cur_sample", _reference_cur, "aws-cur", False),
        ("koku_cur", _reference_cur, "aws-cur", True),
    ],
)
def test_daily_sums_reconcile_with_source(request, fixture, reference, fmt, compressed):
    path: Path = request.getfixturevalue(fixture)
    daily = read_daily([path])
    expected = reference(path)
    assert _produced(daily) == expected  # exact Decimal equality, so to the cent and beyond
    assert daily.rows_read == len(_records(path))
    assert daily.files[0].rows == daily.rows_read
    assert (daily.files[0].format, daily.files[0].compressed) == (fmt, compressed)
    assert daily.currencies() == ("USD",)


def test_frame_shape_and_types(focus_sample):
    frame = read_daily([focus_sample]).frame
    assert tuple(frame.columns) == DAILY_COLUMNS
    assert frame["ChargePeriodStart"].dtype == "datetime64[ns]"
    assert (frame["ChargePeriodStart"] == frame["ChargePeriodStart"].dt.normalize()).all()
    for column in ("BilledCost", "EffectiveCost", "ListCost"):
        assert frame[column].map(type).eq(Decimal).all()
    assert frame["Tags"].str.startswith("{").all()
    keys = frame.drop(columns=["BilledCost", "EffectiveCost", "ListCost"])
    assert not keys.duplicated().any()  # one row per day + dimensions + Tags


def test_to_cost_rows_round_trips(focus_sample):
    daily = read_daily([focus_sample])
    rows = daily.to_cost_rows()
    assert len(rows) == len(daily.frame)
    assert all(isinstance(r, CostRow) for r in rows)
    assert sum(r.BilledCost for r in rows) == sum(daily.frame["BilledCost"])
    tagged = [r for r in rows if r.Tags]
    assert tagged and all(isinstance(v, str) for r in tagged for v in r.Tags.values())


def test_gzip_copy_gives_identical_output(focus_sample, tmp_path):
    # No .gz suffix: compression must come from the magic bytes.
    packed = tmp_path / "export.csv"
    packed.write_bytes(gzip.compress(focus_sample.read_bytes()))
    assert detect_format(packed) == ("focus", True)
    plain, zipped = read_daily([focus_sample]), read_daily([packed])
    pd.testing.assert_frame_equal(plain.frame, zipped.frame)
    assert zipped.rows_read == plain.rows_read


def test_parquet_copy_gives_identical_output(focus_sample, tmp_path):
    target = tmp_path / "export.parquet"
    # Typed the way a real Parquet export is: timestamps and float costs, IDs as text.
    duckdb.sql(
        "COPY (SELECT * REPLACE ("
        "CAST(ChargePeriodStart AS TIMESTAMP) AS ChargePeriodStart, "
        "CAST(BilledCost AS DOUBLE) AS BilledCost, "
        "CAST(EffectiveCost AS DOUBLE) AS EffectiveCost, "
        "CAST(ListCost AS DOUBLE) AS ListCost) "
        f"FROM read_csv('{focus_sample}', all_varchar=true, nullstr='NULL')) "
        f"TO '{target}' (FORMAT parquet)"
    )
    assert detect_format(target) == ("focus", False)
    pd.testing.assert_frame_equal(read_daily([focus_sample]).frame, read_daily([target]).frame)


def test_format_detection_ignores_file_name(cur_sample, tmp_path):
    disguised = tmp_path / "focus.csv"
    shutil.copyfile(cur_sample, disguised)
    assert detect_format(disguised) == ("aws-cur", False)
    pd.testing.assert_frame_equal(read_daily([cur_sample]).frame, read_daily([disguised]).frame)


def test_multiple_files_in_one_call(focus_sample, cur_sample, koku_cur):
    parts = [read_daily([p]) for p in (focus_sample, cur_sample, koku_cur)]
    together = read_daily([focus_sample, cur_sample, koku_cur])
    assert together.rows_read == sum(p.rows_read for p in parts)
    assert [f.format for f in together.files] == ["focus", "aws-cur", "aws-cur"]
    expected: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    for part in parts:
        for key, (billed, effective) in _produced(part).items():
            expected[key] = [expected[key][0] + billed, expected[key][1] + effective]
    assert _produced(together) == {k: tuple(v) for k, v in expected.items()}
    assert len(together.frame) == sum(len(p.frame) for p in parts)
