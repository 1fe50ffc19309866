"""The poller against a real backend process: watermarks, restatement window, the disk spool,
and a backend SIGKILLed in the middle of a poll (nothing lost, nothing counted twice)."""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from costguard_adapters import files  # noqa: F401  (registers "file")
from costguard_adapters.registry import adapters
from costguard_core.focus import read_daily
from costguard_core.models import CostRow

StartPoller = Callable[..., subprocess.Popen]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"
KOKU = EXAMPLES / "koku-local-1_cur_2018-06.csv.gz"  # 45 days, 13,380 daily rows
CUR = EXAMPLES / "aws_cur_sample_anonymous.csv"  # 14 days, 427 daily rows


def write_config(tmp_path: Path, paths: list[Path], **top: object) -> Path:
    config = {
        "batch_size": 300,
        **top,
        "sources": [
            {"name": "src", "adapter": "file", "settings": {"paths": [str(p) for p in paths]}}
        ],
    }
    path = tmp_path / "adapters.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def day_sums(rows: list[CostRow]) -> dict[str, tuple[Decimal, Decimal]]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in rows:
        sums[r.ChargePeriodStart.isoformat()][0] += r.BilledCost
        sums[r.ChargePeriodStart.isoformat()][1] += r.EffectiveCost
    return {day: (b.normalize(), e.normalize()) for day, (b, e) in sums.items()}


def assert_stored_equals_source(backend, paths: list[Path]) -> None:
    expected = read_daily(paths).to_cost_rows()
    stored = backend.client().all_costs()
    assert len(stored) == len(expected)
    keys = [r.model_dump_json(exclude={"BilledCost", "EffectiveCost", "ListCost"}) for r in stored]
    assert len(set(keys)) == len(keys)  # nothing stored twice
    assert day_sums(stored) == day_sums(expected)
    assert {(k, r.BilledCost) for k, r in zip(keys, stored, strict=True)} == {
        (r.model_dump_json(exclude={"BilledCost", "EffectiveCost", "ListCost"}), r.BilledCost)
        for r in expected
    }


def test_registry_names_and_schema() -> None:
    assert "file" in adapters.names()
    for name in adapters.names():
        cls = adapters.get(name)
        assert cls.__doc__ and cls.Settings.model_json_schema()["properties"]
    with pytest.raises(KeyError, match="unknown adapter"):
        adapters.get("nope")


def test_backend_killed_mid_poll_loses_and_duplicates_nothing(
    backend, tmp_path: Path, start_poller: StartPoller
) -> None:
    backend.start()
    total = len(read_daily([KOKU]).frame)
    config = write_config(tmp_path, [KOKU], retry_attempts=30, retry_max_wait_s=1)
    proc = start_poller(backend, config)
    try:
        deadline = time.monotonic() + 90
        while backend.stored_rows() == 0:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        backend.kill()
        at_kill = backend.stored_rows()
        assert 0 < at_kill < total  # really in the middle of the poll
        time.sleep(1.5)  # the poller meets a dead backend and backs off
        assert proc.poll() is None
        backend.start()
        assert proc.wait(180) == 0, (tmp_path / "poller.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_stored_equals_source(backend, [KOKU])
    assert not list((tmp_path / "state" / "spool").glob("*.json"))
    log = (tmp_path / "poller.log").read_text()
    assert "backing off" in log


def test_backend_down_for_whole_poll_spools_then_delivers(
    backend, tmp_path: Path, start_poller: StartPoller
) -> None:
    config = write_config(tmp_path, [CUR], batch_size=100, retry_attempts=2, retry_max_wait_s=0.1)
    first = start_poller(backend, config)  # nothing listens on backend.port yet
    assert first.wait(120) == 3
    spooled = sorted((tmp_path / "state" / "spool").glob("*.json"))
    assert len(spooled) == 5  # 427 rows in batches of 100
    assert sum(len(json.loads(p.read_text())["rows"]) for p in spooled) == 427
    marks = json.loads((tmp_path / "state" / "watermarks.json").read_text())
    assert marks["src"]["watermark"] == "2023-11-14"
    backend.start()
    second = start_poller(backend, config)
    assert second.wait(120) == 0, (tmp_path / "poller.log").read_text()[-3000:]
    assert not list((tmp_path / "state" / "spool").glob("*.json"))
    assert_stored_equals_source(backend, [CUR])


FOCUS_HEADER = (
    "ChargePeriodStart,ChargePeriodEnd,ProviderName,BillingAccountId,ServiceName,"
    "ChargeCategory,BillingCurrency,BilledCost,EffectiveCost\n"
)


def focus_file(path: Path, costs: dict[int, str]) -> None:
    lines = [
        f"2025-01-{d:02d}T00:00:00Z,2025-01-{d + 1:02d}T00:00:00Z,AWS,111,{svc},Usage,USD,"
        f"{cost},{cost}\n"
        for d, cost in costs.items()
        for svc in ("Amazon EC2", "Amazon S3")
    ]
    path.write_text(FOCUS_HEADER + "".join(lines))


def test_restatement_within_window_updates_not_duplicates(
    backend, tmp_path: Path, start_poller: StartPoller
) -> None:
    backend.start()
    export = tmp_path / "focus.csv"
    costs = {d: "10.00" for d in range(1, 11)}
    focus_file(export, costs)
    config = write_config(tmp_path, [export])
    assert start_poller(backend, config).wait(120) == 0
    assert backend.stored_rows() == 20
    # The provider restates Jan 9 (inside the 3-day window before the Jan 10 watermark) and
    # Jan 2 (outside it: long closed, not pulled again).
    focus_file(export, costs | {9: "12.345", 2: "99"})
    assert start_poller(backend, config).wait(120) == 0
    stored = backend.client().all_costs()
    assert len(stored) == 20
    by_day = day_sums(stored)
    assert by_day["2025-01-09"] == (Decimal("24.69"), Decimal("24.69"))
    assert by_day["2025-01-02"] == (Decimal("20"), Decimal("20"))
    assert by_day["2025-01-08"] == (Decimal("20"), Decimal("20"))
