"""``costguard scan --granularity hour`` through typer's CliRunner: JSON, table, bad value."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner

from costguard_cli.scan import scan

_CORE_TESTS = Path(__file__).resolve().parents[1] / "packages" / "costguard-core" / "tests"
_spec = importlib.util.spec_from_file_location(
    "_scan_hourly_files", _CORE_TESTS / "test_scan_hourly.py"
)
assert _spec is not None and _spec.loader is not None
files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(files)

app = typer.Typer()
app.command("scan")(scan)
app.command("other")(lambda: None)  # two commands, so "scan" is a subcommand as in main.py
runner = CliRunner()


def test_hourly_json_and_table(tmp_path: Path) -> None:
    path = files.write_hourly_focus(tmp_path / "hourly.csv")
    result = runner.invoke(app, ["scan", str(path), "--granularity", "hour", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["granularity"] == "hour"
    [a] = data["anomalies"]
    raised = datetime.fromisoformat(a["detected_at"])
    assert files.SATURDAY + timedelta(hours=3) <= raised <= files.SATURDAY + timedelta(hours=8)
    table = runner.invoke(app, ["scan", str(path), "--granularity", "hour"], env={"COLUMNS": "250"})
    assert table.exit_code == 0, table.output
    assert "raised (UTC)" in table.stdout
    assert raised.strftime("%Y-%m-%d %H:%M") in table.stdout


def test_bad_granularity_exits_2(tmp_path: Path) -> None:
    path = files.write_hourly_focus(tmp_path / "hourly.csv", upto=files.SATURDAY)
    result = runner.invoke(app, ["scan", str(path), "--granularity", "week"])
    assert result.exit_code == 2
    assert "--granularity" in result.output
