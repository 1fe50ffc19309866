"""Fixtures for the billing-export reader tests: the real sample files and tiny CSV writers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"

FOCUS_HEADER = [
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


@pytest.fixture
def focus_sample() -> Path:
    return DATA / "focus_sample_1000.csv"


@pytest.fixture
def cur_sample() -> Path:
    return DATA / "aws_cur_sample_anonymous.csv"


@pytest.fixture
def koku_cur() -> Path:
    return DATA / "koku-local-1_cur_2018-06.csv.gz"


def _focus_row(**values: str) -> dict[str, str]:
    row = {
        "ChargePeriodStart": "2024-09-01T10:00:00Z",
        "ProviderName": "AWS",
        "BillingAccountId": "111",
        "SubAccountId": "222",
        "ServiceName": "Amazon S3",
        "ServiceCategory": "Storage",
        "RegionId": "us-east-1",
        "ResourceId": "bucket-a",
        "ChargeCategory": "Usage",
        "BillingCurrency": "USD",
        "Tags": "NULL",
        "BilledCost": "1.10",
        "EffectiveCost": "1.00",
        "ListCost": "1.20",
    }
    row.update(values)
    return row


def _write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    columns = header if header is not None else list(rows[0])
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


@pytest.fixture
def focus_row():
    """``focus_row(**overrides)``: a valid FOCUS row dict; keyword arguments override columns."""
    return _focus_row


@pytest.fixture
def write_csv():
    """``write_csv(path, rows, header=None)``: write row dicts as CSV (header: first row's keys)."""
    return _write_csv
