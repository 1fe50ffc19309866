"""``read_daily(paths, granularity="hour")``: ChargePeriodStart floored to the UTC hour, same
columns, exact money, same checks; the hours of a day sum exactly to that day's row."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from costguard_core.errors import InputError
from costguard_core.focus import DAILY_COLUMNS, read_daily

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")

_KEY = DAILY_COLUMNS[1:-3]  # the dimensions and Tags


def _roll_up(frame: pd.DataFrame) -> dict[tuple, tuple]:
    """Hourly rows summed per UTC day + dimensions + Tags, ListCost None when any hour's is."""
    out: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for rec in frame.itertuples(index=False):
        key = (rec.ChargePeriodStart.normalize(), *(getattr(rec, c) for c in _KEY))
        acc = out[key]
        acc[0] += rec.BilledCost
        acc[1] += rec.EffectiveCost
        acc[2] = None if acc[2] is None or rec.ListCost is None else acc[2] + rec.ListCost
    return {k: tuple(v) for k, v in out.items()}


def _daily(frame: pd.DataFrame) -> dict[tuple, tuple]:
    return {
        (rec.ChargePeriodStart, *(getattr(rec, c) for c in _KEY)): (
            rec.BilledCost,
            rec.EffectiveCost,
            rec.ListCost,
        )
        for rec in frame.itertuples(index=False)
    }


@needs_shared
@pytest.mark.parametrize(
    ("sample", "min_hours"),
    [
        ("focus_converters/oci_cost_report_sample.csv", 7),  # OCI hourly intervals 05:00-11:00
        ("koku/oci/reports_cost-csv_0001000000603747.csv", 2),
        ("focus_converters/aws_cur_sample_anonymous.csv", 24),  # CUR hourly line items
        ("koku/aws/koku-local-1_cur_2018-06.csv.gz", 24),
        ("focus_sample_data/focus_sample_1000.csv", 24),  # FOCUS, hourly grain
    ],
)
def test_hours_sum_exactly_to_days(sample: str, min_hours: int) -> None:
    path = SHARED / sample
    daily = read_daily([path])
    hourly = read_daily([path], granularity="hour")
    assert list(hourly.frame.columns) == list(DAILY_COLUMNS)
    assert hourly.granularity == "hour" and hourly.rows_read == daily.rows_read
    starts = hourly.frame.ChargePeriodStart
    assert str(starts.dtype) == "datetime64[ns]"
    assert (starts == starts.dt.floor("h")).all()
    assert starts.nunique() >= min_hours > 1
    assert len(hourly.frame) >= len(daily.frame)
    assert all(isinstance(v, Decimal) for v in hourly.frame.BilledCost)
    assert _roll_up(hourly.frame) == _daily(daily.frame)


def test_hour_is_utc_and_a_long_line_item_stays_on_its_start_hour(tmp_path: Path) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(
        "ChargePeriodStart,ChargePeriodEnd,ProviderName,ServiceName,ChargeCategory,"
        "BillingCurrency,BilledCost,EffectiveCost\n"
        # 10:45 at +05:30 is 05:15 UTC.
        "2025-01-01T10:45:00+05:30,2025-01-01T11:45:00+05:30,AWS,EC2,Usage,USD,0.10,0.10\n"
        "2025-01-01T05:59:59Z,2025-01-01T06:59:59Z,AWS,EC2,Usage,USD,0.20,0.20\n"
        # A three-hour period is not split: all of it counts at 06:00.
        "2025-01-01T06:00:00Z,2025-01-01T09:00:00Z,AWS,EC2,Usage,USD,3.00,3.00\n"
        "2025-01-01 23:30:00,2025-01-02 00:30:00,AWS,EC2,Usage,USD,1E-7,1E-7\n"
    )
    frame = read_daily([path], granularity="hour").frame
    assert [(str(r.ChargePeriodStart), r.BilledCost) for r in frame.itertuples()] == [
        ("2025-01-01 05:00:00", Decimal("0.3")),
        ("2025-01-01 06:00:00", Decimal("3")),
        ("2025-01-01 23:00:00", Decimal("1E-7")),
    ]
    day = read_daily([path]).frame
    assert day.BilledCost.tolist() == [Decimal("3.3000001")]


def test_same_checks_and_hourly_rows_are_not_cost_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ChargePeriodStart,ProviderName,ServiceName,ChargeCategory,BillingCurrency,"
        "BilledCost,EffectiveCost\n2025-01-01T00:00:00Z,AWS,EC2,Usage,USD,abc,1\n"
    )
    with pytest.raises(InputError, match="row 2: field BilledCost: not a number"):
        read_daily([bad], granularity="hour")
    with pytest.raises(ValueError, match="granularity"):
        read_daily([bad], granularity="minute")  # type: ignore[arg-type]
    good = tmp_path / "good.csv"
    good.write_text(bad.read_text().replace("abc", "1"))
    with pytest.raises(ValueError, match="daily rows"):
        read_daily([good], granularity="hour").to_cost_rows()
    assert read_daily([good]).to_cost_rows()[0].BilledCost == 1
