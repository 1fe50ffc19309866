"""Poller configuration validation, spool ordering and rejection, and a failing poll."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from costguard_adapters.config import ConfigError, load_config
from costguard_adapters.poller import Poller
from costguard_adapters.registry import load_all
from costguard_adapters.spool import Spool
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import CostRow, IngestResult

ROOT = Path(__file__).resolve().parents[3]


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config" / "adapters.example.yaml")
    assert [s.name for s in config.sources] == ["focus-sample", "koku-cur"]
    assert config.sources[1].start == date(2018, 6, 1)
    settings = load_all().get("file").Settings.model_validate(config.sources[0].settings)
    assert settings.granularity == "day"  # type: ignore[attr-defined]


def test_example_config_vultr_block_is_valid(tmp_path: Path) -> None:
    """The commented-out vultr source of the example, uncommented, is a valid source."""
    text = (ROOT / "config" / "adapters.example.yaml").read_text()
    block = text[text.index("  # - name: vultr-main") :]
    uncommented = "\n".join(line.replace("  # ", "  ", 1) for line in block.splitlines())
    path = tmp_path / "adapters.yaml"
    path.write_text(text + "\n" + uncommented + "\n")
    config = load_config(path)
    assert config.sources[-1].name == "vultr-main"
    settings = load_all().get("vultr").Settings.model_validate(config.sources[-1].settings)
    assert settings.restatement_days == 45 and settings.include_pending  # type: ignore[attr-defined]


def test_example_config_azure_block_is_valid(tmp_path: Path) -> None:
    """The commented-out azure cost_details source of the example, uncommented, is valid."""
    text = (ROOT / "config" / "adapters.example.yaml").read_text()
    block = text[text.index("  # - name: azure-cost-details") : text.index("  # Vultr")]
    uncommented = "\n".join(line.replace("  # ", "  ", 1) for line in block.splitlines())
    path = tmp_path / "adapters.yaml"
    path.write_text(text + "\n" + uncommented + "\n")
    config = load_config(path)
    assert config.sources[-1].name == "azure-cost-details"
    settings = load_all().get("azure").Settings.model_validate(config.sources[-1].settings)
    assert settings.api == "cost_details"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [", r"line \d+: not YAML"),
        ("sources: []", r"sources: List should have at least 1 item"),
        (
            "batch_size: 0\nsources: [{name: a, adapter: file, settings: {paths: [x]}}]",
            "batch_size",
        ),
        ("sources: [{name: a, adapter: nope}]", r"sources\[0\]\.adapter: unknown adapter 'nope'"),
        ("sources: [{name: a, adapter: file}]", r"sources\[0\]\.settings\.paths: Field required"),
        (
            "sources: [{name: a, adapter: file, interval_s: -1, settings: {paths: [x]}}]",
            r"sources\[0\]\.interval_s: Input should be greater than 0",
        ),
        (
            "sources: [{name: a, adapter: file, settings: {paths: [x]}},"
            " {name: a, adapter: file, settings: {paths: [y]}}]",
            "source name 'a' appears twice",
        ),
        ("sources: [{name: a, adapter: file, typo: 1, settings: {paths: [x]}}]", "typo"),
        (
            "sources: [{name: a, adapter: file, settings: {paths: [x], granularty: hour}}]",
            r"sources\[0\]\.settings\.granularty: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_config_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "adapters.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(info.value).startswith(str(path))


def test_json_config_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "adapters.json"
    path.write_text(
        json.dumps({"sources": [{"name": "a", "adapter": "file", "settings": {"paths": ["x"]}}]})
    )
    assert load_config(path).sources[0].interval_s is None
    path.write_text("{")
    with pytest.raises(ConfigError, match="line 1: not JSON"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def _row(day: int) -> CostRow:
    return CostRow(
        ChargePeriodStart=date(2025, 1, day),
        ProviderName="AWS",
        ServiceName="Amazon EC2",
        BillingCurrency="USD",
        BilledCost="1.5",
        EffectiveCost="1.5",
    )


def test_spool_delivers_in_order_and_sets_aside_refused_batches(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for day in (1, 2, 3):
        spool.put("file:a", [_row(day)])
    sent: list[int] = []

    def send(endpoint: str, source: str, rows: list[CostRow]) -> IngestResult:
        assert endpoint == "ingest"
        day = rows[0].ChargePeriodStart.day
        sent.append(day)
        if day == 2:
            raise BackendError(422, {"error": "invalid_field", "field": "rows[0].ServiceName"})
        return IngestResult(
            ingestion_id=day, source=source, received=1, inserted=1, updated=0, unchanged=0
        )

    delivered, rejected = spool.deliver(send)
    assert sent == [1, 2, 3]
    assert [d.name for d in delivered] == ["000000000001.json", "000000000003.json"]
    assert [(p.name, s) for p, s in rejected] == [("000000000002.json", "file:a")]
    assert "rows[0].ServiceName" in (tmp_path / "spool/rejected/000000000002.error").read_text()
    assert spool.pending() == []


def test_spool_stops_at_transient_failure_and_keeps_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for day in (1, 2):
        spool.put("file:a", [_row(day)])

    def down(endpoint: str, source: str, rows: list[CostRow]) -> IngestResult:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(httpx.ConnectError):
        spool.deliver(down)
    assert [p.name for p in spool.pending()] == ["000000000001.json", "000000000002.json"]
    # A restarted poller continues numbering after what is still spooled.
    assert Spool(tmp_path).put("file:a", [_row(3)]).name == "000000000003.json"


def test_failed_poll_spools_nothing_and_keeps_watermark(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Foo,Bar\n1,2\n")
    path = tmp_path / "adapters.json"
    path.write_text(
        json.dumps(
            {"sources": [{"name": "bad", "adapter": "file", "settings": {"paths": [str(bad)]}}]}
        )
    )
    poller = Poller(load_config(path), BackendClient("http://127.0.0.1:9"), tmp_path / "state")
    assert poller.run_due(0.0) is False
    assert poller.spool.pending() == []
    assert poller.watermarks.watermark("bad") is None
    assert poller.due_at(poller.config.sources[0]) == 0.0  # still due: retried next cycle
