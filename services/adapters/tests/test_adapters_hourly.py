"""Hourly rows from the adapters (``granularity: hour``; llm-usage timestamps) and the spool's
endpoint field: hourly and daily batches, batches spooled by an older poller, unknown endpoints."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pydantic
import pytest
from costguard_adapters.poller import batches_by_endpoint
from costguard_adapters.registry import load_all, row_day
from costguard_adapters.spool import Spool
from costguard_core.client import BackendError
from costguard_core.errors import InputError
from costguard_core.llm_pricing import LlmUsage, usage_hourly_rows, usage_rows
from costguard_core.models import CostHourlyRow, CostRow, IngestResult
from moto import mock_aws

adapters = load_all()
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"
FOCUS = EXAMPLES / "focus_sample_1000.csv"  # 999 hourly rows over 24 distinct hours
CUR = EXAMPLES / "aws_cur_sample_anonymous.csv"  # 638 hourly rows, 427 daily


def by_day(rows: list[CostRow]) -> dict[tuple[date, str], tuple[Decimal, Decimal]]:
    sums: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in rows:
        sums[(row_day(r), r.BillingCurrency)][0] += r.BilledCost
        sums[(row_day(r), r.BillingCurrency)][1] += r.EffectiveCost
    return {k: (b.normalize(), e.normalize()) for k, (b, e) in sums.items()}


@pytest.mark.parametrize(("adapter", "path"), [("file", FOCUS), ("focus", FOCUS), ("aws-cur", CUR)])
def test_granularity_hour_gives_hourly_rows_summing_to_the_days(adapter: str, path: Path) -> None:
    cls = adapters.get(adapter)
    props = cls.Settings.model_json_schema()["properties"]
    assert props["granularity"]["default"] == "day" and props["granularity"]["description"]
    with pytest.raises(pydantic.ValidationError, match="granularity"):
        cls.Settings.model_validate({"paths": [str(path)], "granularity": "minute"})
    daily = list(adapters.build(adapter, {"paths": [str(path)]}).pull(None, None))
    hourly = list(
        adapters.build(adapter, {"paths": [str(path)], "granularity": "hour"}).pull(None, None)
    )
    assert all(type(r) is CostRow for r in daily)
    assert hourly and all(type(r) is CostHourlyRow for r in hourly)
    assert all(r.ChargePeriodStart.tzinfo is UTC for r in hourly)  # type: ignore[attr-defined]
    assert len({r.ChargePeriodStart.hour for r in hourly}) > 1  # type: ignore[attr-defined]
    assert by_day(hourly) == by_day(daily)  # exact Decimals
    # The window is in UTC days: every hour of a day in it, none of a day before it.
    days = sorted({row_day(r) for r in hourly})
    late = list(
        adapters.build(adapter, {"paths": [str(path)], "granularity": "hour"}).pull(days[-1], None)
    )
    assert late == [r for r in hourly if row_day(r) == days[-1]]


def test_azure_has_no_granularity_setting() -> None:
    """Azure cost-details exports are daily lines: reading them by hour would only put each
    day's money at 00:00."""
    assert "granularity" not in adapters.get("azure").Settings.model_json_schema()["properties"]


@mock_aws
def test_aws_cur_hourly_from_s3() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="cur")
    s3.upload_file(str(CUR), "cur", "exports/2023-11/part-1.csv")
    settings = {"bucket": "cur", "prefix": "exports/", "granularity": "hour"}
    rows = list(adapters.build("aws-cur", settings).pull(None, None))
    from_disk = list(
        adapters.build("aws-cur", {"paths": [str(CUR)], "granularity": "hour"}).pull(None, None)
    )
    assert len(rows) == 638 and rows == from_disk


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


GPT = {"provider": "openai", "model": "gpt-4o-mini", "project": "bot"}


def test_llm_usage_timestamps_become_hours_day_records_stay_daily(tmp_path: Path) -> None:
    records = [
        {**GPT, "timestamp": "2025-01-02T01:15:00Z", "input_tokens": 1000, "output_tokens": 7},
        {**GPT, "timestamp": "2025-01-02T01:59:59Z", "input_tokens": 3, "output_tokens": 11},
        {**GPT, "timestamp": "2025-01-02T03:00:00+02:00", "input_tokens": 5},  # 01:00 UTC
        {**GPT, "timestamp": "2025-01-02T02:30:00", "cost": "0.000000000000000000000001"},
        {"provider": "anthropic", "model": "x", "day": "2025-01-02", "cost": "1.25"},
    ]
    path = write_jsonl(tmp_path / "usage.jsonl", records)
    rows = list(adapters.build("llm-usage", {"paths": [str(path)]}).pull(None, None))
    parsed = [LlmUsage.model_validate(r) for r in records]
    # The same core helpers as POST /api/v1/llm-usage: no pricing here.
    assert rows == [*usage_rows(parsed[4:]), *usage_hourly_rows(parsed[:4])]
    hours = {r.ChargePeriodStart: r.BilledCost for r in rows if isinstance(r, CostHourlyRow)}
    assert hours == {
        datetime(2025, 1, 2, 1, tzinfo=UTC): (1008 * Decimal("0.15") + 18 * Decimal("0.60"))
        / 1_000_000,
        datetime(2025, 1, 2, 2, tzinfo=UTC): Decimal("0.000000000000000000000001"),
    }
    assert [r.ResourceId for r in rows if type(r) is CostRow] == ["x"]
    assert (
        list(adapters.build("llm-usage", {"paths": [str(path)]}).pull(date(2025, 1, 3), None)) == []
    )


def test_llm_usage_day_record_beside_hours_of_its_leaf_is_refused(tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path / "a.jsonl", [{**GPT, "timestamp": "2025-01-02T05:00:00Z", "cost": "1"}]
    )
    second = write_jsonl(
        tmp_path / "b.jsonl",
        [
            {**GPT, "day": "2025-01-03", "cost": "2"},  # another day: fine
            {**GPT, "day": "2025-01-02", "cost": "3"},
        ],
    )
    adapter = adapters.build("llm-usage", {"paths": [str(first), str(second)]})
    with pytest.raises(InputError, match=r"b\.jsonl: row 2: field day: record 1 of .*a\.jsonl"):
        list(adapter.pull(None, None))
    unknown = write_jsonl(
        tmp_path / "c.jsonl",
        [
            {**GPT, "cost": "1", "day": "2025-01-01"},
            {
                "provider": "acme",
                "model": "m",
                "timestamp": "2025-01-01T00:00:00Z",
                "input_tokens": 5,
            },
        ],
    )
    with pytest.raises(InputError, match=r"c\.jsonl: row 2: field model: .*not in the price table"):
        list(adapters.build("llm-usage", {"paths": [str(unknown)]}).pull(None, None))


def daily_row(day: int, cost: str = "1.5") -> CostRow:
    return CostRow(
        ChargePeriodStart=date(2025, 1, day),
        ProviderName="AWS",
        ServiceName="Amazon EC2",
        BillingCurrency="USD",
        BilledCost=cost,
        EffectiveCost=cost,
    )


def hourly_row(hour: int, cost: str = "0.000000000000000000000007") -> CostHourlyRow:
    return CostHourlyRow(
        ChargePeriodStart=datetime(2025, 1, 1, hour, tzinfo=UTC),
        ProviderName="AWS",
        ServiceName="Amazon EC2",
        BillingCurrency="USD",
        BilledCost=cost,
        EffectiveCost=cost,
    )


def result(source: str, n: int) -> IngestResult:
    return IngestResult(
        ingestion_id=1, source=source, received=n, inserted=n, updated=0, unchanged=0
    )


def test_spool_records_the_endpoint_and_delivers_each_batch_to_it(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    # A batch spooled by a poller from before hourly rows: no "endpoint" field.
    legacy = {"source": "file:old", "rows": [daily_row(1).model_dump(mode="json")]}
    (tmp_path / "spool" / "000000000001.json").write_text(json.dumps(legacy))
    spool = Spool(tmp_path)  # a restarted poller numbers after it
    hours = [hourly_row(0), hourly_row(23, "12345678901234.123456789012345678901234")]
    assert spool.put("file:a", hours).name == "000000000002.json"
    spool.put("file:a", [daily_row(2)])
    payloads = [json.loads(p.read_text()) for p in spool.pending()]
    assert [p.get("endpoint") for p in payloads] == [None, "ingest-hourly", "ingest"]
    assert payloads[1]["rows"][0]["ChargePeriodStart"] == "2025-01-01T00:00:00Z"
    with pytest.raises(ValueError, match="one kind of row"):
        spool.put("file:a", [daily_row(3), hourly_row(3)])
    sent: list[tuple[str, str, list[CostRow]]] = []

    def send(endpoint: str, source: str, rows: list[CostRow]) -> IngestResult:
        sent.append((endpoint, source, rows))
        return result(source, len(rows))

    delivered, rejected = spool.deliver(send)
    assert [(e, s) for e, s, _ in sent] == [
        ("ingest", "file:old"),
        ("ingest-hourly", "file:a"),
        ("ingest", "file:a"),
    ]
    assert sent[0][2] == [daily_row(1)] and sent[2][2] == [daily_row(2)]
    assert sent[1][2] == hours and all(type(r) is CostHourlyRow for r in sent[1][2])
    assert [d.endpoint for d in delivered] == ["ingest", "ingest-hourly", "ingest"]
    assert rejected == [] and spool.pending() == []


def test_spool_sets_aside_unknown_endpoint_and_refused_hourly_batch(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put("file:a", [hourly_row(1)])
    odd = {"source": "file:a", "endpoint": "ingest-minutely", "rows": []}
    (tmp_path / "spool" / "000000000002.json").write_text(json.dumps(odd))
    spool = Spool(tmp_path)
    spool.put("file:a", [hourly_row(2)])

    def send(endpoint: str, source: str, rows: list[CostRow]) -> IngestResult:
        if rows[0].ChargePeriodStart.hour == 1:  # type: ignore[attr-defined]
            raise BackendError(
                422, {"error": "invalid_field", "field": "rows[0].ChargePeriodStart"}
            )
        return result(source, len(rows))

    delivered, rejected = spool.deliver(send)
    assert [d.name for d in delivered] == ["000000000003.json"]
    assert [p.name for p, _ in rejected] == ["000000000001.json", "000000000002.json"]
    errors = sorted((tmp_path / "spool" / "rejected").glob("*.error"))
    assert "rows[0].ChargePeriodStart" in errors[0].read_text()
    assert "unknown endpoint 'ingest-minutely'" in errors[1].read_text()


def test_batches_by_endpoint_keeps_kinds_apart() -> None:
    rows: list[CostRow] = [daily_row(1), hourly_row(1), hourly_row(2), daily_row(2), hourly_row(3)]
    got = list(batches_by_endpoint(rows, 2))
    assert got == [[hourly_row(1), hourly_row(2)], [daily_row(1), daily_row(2)], [hourly_row(3)]]
