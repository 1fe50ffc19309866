"""``scan``/``scan_frame`` on the bundled real exports and on a written FOCUS file with a spike."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from costguard_core.errors import InputError
from costguard_core.focus import read_daily
from costguard_core.scan import ScanReport, scan, scan_frame

_BUNDLED = Path(__file__).resolve().parents[3] / "examples" / "data"
_SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
REAL = {
    "focus_sample_1000.csv": _SHARED / "focus_sample_data",
    "aws_cur_sample_anonymous.csv": _SHARED / "focus_converters",
    "koku-local-1_cur_2018-06.csv.gz": _SHARED / "koku" / "aws",
}


def real(name: str) -> Path:
    path = _BUNDLED / name
    return path if path.exists() else REAL[name] / name


HEADER = [
    "ChargePeriodStart",
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "ChargeCategory",
    "BillingCurrency",
    "Tags",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
]
FIRST = date(2024, 4, 1)


def write_focus(path: Path, *, days: int = 49, spike_day: int = 42, currency: str = "USD") -> Path:
    """Hourly-free daily FOCUS rows: three resources with a weekly cycle; a +600 USD spike on
    ``spike_day`` in ``i-batch``; costs vary by a fixed pattern, so the file is reproducible."""
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(days):
            day = FIRST + timedelta(days=i)
            weekend = day.weekday() >= 5
            for service, resource, usd in (
                ("Amazon EC2", "i-batch", 80),
                ("Amazon EC2", "i-web", 50),
                ("Amazon S3", "logs", 12),
            ):
                cost = (
                    usd * (0.5 if weekend else 1) * (1 + 0.03 * ((i * 7 + len(resource)) % 5 - 2))
                )
                if resource == "i-batch" and i == spike_day:
                    cost += 600
                out.writerow(
                    [
                        f"{day}T00:00:00Z",
                        "AWS",
                        "111",
                        "222",
                        service,
                        "Compute",
                        "us-east-1",
                        resource,
                        "Usage",
                        currency,
                        "NULL",
                        f"{cost:.4f}",
                        f"{cost:.4f}",
                        f"{cost:.4f}",
                    ]
                )
    return path


@pytest.mark.parametrize(
    ("name", "rows", "series", "period"),
    [
        ("focus_sample_1000.csv", 1000, 110, (date(2024, 9, 1), date(2024, 9, 30))),
        ("aws_cur_sample_anonymous.csv", 1281, 17, (date(2023, 11, 1), date(2023, 11, 14))),
        ("koku-local-1_cur_2018-06.csv.gz", 13380, 8, (date(2018, 6, 20), date(2018, 8, 3))),
    ],
)
def test_real_exports_scan_quietly(name: str, rows: int, series: int, period: tuple) -> None:
    """No anomaly in the real samples with default thresholds: the FOCUS sample's days cost at
    most 3 USD (a random 1,000 line items), the CUR sample has 14 days (under the 21 days of
    history needed), and koku's EC2 spend is i.i.d. noise whose largest judged z is about 3."""
    report = scan([real(name)])
    assert (report.rows_read, report.series_scanned, report.currency) == (rows, series, "USD")
    assert (report.period.start, report.period.end) == period
    assert report.anomalies == []


def test_spike_in_a_written_file_and_exact_json_keys(tmp_path: Path) -> None:
    report = scan([write_focus(tmp_path / "spike.csv")])
    assert report.rows_read == 49 * 3
    assert report.series_scanned == 1 + 1 + 2 + 1
    [a] = report.anomalies
    assert (a.start, a.end, a.scope) == (FIRST + timedelta(days=42),) * 2 + (
        {"ServiceName": "Amazon EC2"},
    )
    assert a.root_causes[0].ResourceId == "i-batch"
    data = json.loads(report.model_dump_json())
    assert set(data) == {"rows_read", "series_scanned", "currency", "period", "anomalies"}
    assert set(data["period"]) == {"start", "end"}
    assert set(data["anomalies"][0]) == {
        "id",
        "start",
        "end",
        "scope",
        "expected_cost",
        "actual_cost",
        "impact_usd",
        "severity",
        "confidence",
        "root_causes",
    }
    assert set(data["anomalies"][0]["root_causes"][0]) == {
        "ProviderName",
        "BillingAccountId",
        "SubAccountId",
        "ServiceName",
        "RegionId",
        "ResourceId",
        "impact_usd",
        "share",
    }
    assert ScanReport.model_validate(data) == report


def test_scan_frame_reuses_a_read_and_since_filters(tmp_path: Path) -> None:
    path = write_focus(tmp_path / "spike.csv")
    daily = read_daily([path])
    assert scan_frame(daily) == scan([path])
    assert scan_frame(daily, since=FIRST + timedelta(days=43)).anomalies == []
    kept = scan_frame(daily, since=FIRST + timedelta(days=42)).anomalies
    assert kept == scan([path]).anomalies


def test_two_currencies_across_files_name_files_and_currencies(tmp_path: Path) -> None:
    usd = write_focus(tmp_path / "usd.csv")
    eur = write_focus(tmp_path / "eur.csv", currency="EUR")
    with pytest.raises(InputError) as err:
        scan([usd, eur])
    message = str(err.value)
    assert "usd.csv (USD)" in message and "eur.csv (EUR)" in message
    assert err.value.field == "BillingCurrency"
