"""``scan(granularity="hour")`` on a written hourly FOCUS file with a Saturday 02:00 loop."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from costguard_core.scan import HourlyScanReport, scan

_spec = importlib.util.spec_from_file_location(
    "_hourly_frames", Path(__file__).with_name("test_detection_hourly.py")
)
assert _spec is not None and _spec.loader is not None
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)

SATURDAY = datetime.combine(frames.LOOP_DAY, datetime.min.time())


def write_hourly_focus(path: Path, upto: datetime | None = None) -> Path:
    """The hourly test frame with the loop, as a FOCUS 1.2 CSV (ISO 8601 UTC hours, 6-place
    costs), cut before ``upto`` when given."""
    frame = frames.hourly_frame(loop_from=SATURDAY + timedelta(hours=2))
    if upto is not None:
        frame = frame[pd.to_datetime(frame["ChargePeriodStart"]) < upto]
    out = pd.DataFrame(
        {
            "ChargePeriodStart": pd.to_datetime(frame["ChargePeriodStart"]).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "ChargePeriodEnd": (
                pd.to_datetime(frame["ChargePeriodStart"]) + pd.Timedelta(hours=1)
            ).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ProviderName": frame["ProviderName"],
            "BillingAccountId": frame["BillingAccountId"],
            "SubAccountId": frame["SubAccountId"],
            "ServiceName": frame["ServiceName"],
            "RegionId": frame["RegionId"],
            "ResourceId": frame["ResourceId"],
            "ChargeCategory": "Usage",
            "BillingCurrency": "USD",
            "BilledCost": frame["EffectiveCost"].map(lambda v: f"{v:.6f}"),
            "EffectiveCost": frame["EffectiveCost"].map(lambda v: f"{v:.6f}"),
        }
    )
    out.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def hourly_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hourly_focus(tmp_path_factory.mktemp("hourly") / "focus_hourly.csv")


def test_hourly_scan_raises_the_loop_saturday_morning(hourly_file: Path) -> None:
    report = scan([hourly_file], granularity="hour")
    assert isinstance(report, HourlyScanReport)
    [a] = report.anomalies
    assert a.start == frames.LOOP_DAY
    assert SATURDAY + timedelta(hours=3) <= a.detected_at <= SATURDAY + timedelta(hours=8)
    assert a.root_causes[0].ResourceId == "etl-scheduled"
    data = json.loads(report.model_dump_json())
    assert set(data) == {
        "rows_read",
        "series_scanned",
        "currency",
        "period",
        "anomalies",
        "granularity",
        "last_hour",
    }
    assert data["granularity"] == "hour"
    assert {"detected_at", "checkpoint_hour"} <= set(data["anomalies"][0])
    assert HourlyScanReport.model_validate(data) == report
    # The daily scan of the same file finds the same loop, raised only once the day is over.
    [d] = scan([hourly_file]).anomalies
    assert d.start == a.start and d.root_causes[0].ResourceId == "etl-scheduled"


def test_hourly_scan_of_a_day_in_progress(tmp_path: Path, hourly_file: Path) -> None:
    """Data up to Saturday 08:00: the loop is raised already, with the same id as the full
    scan; ``last_hour`` says how far the data goes."""
    full = scan([hourly_file], granularity="hour").anomalies[0]
    part = write_hourly_focus(tmp_path / "upto.csv", upto=SATURDAY + timedelta(hours=8))
    report = scan([part], granularity="hour")
    assert report.last_hour == SATURDAY + timedelta(hours=7)
    assert [(a.id, a.detected_at) for a in report.anomalies] == [(full.id, full.detected_at)]
