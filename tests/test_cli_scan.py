"""``costguard scan`` through typer's CliRunner: JSON shape, table, exit codes, errors."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from costguard_cli.scan import scan

_BUNDLED = Path(__file__).resolve().parents[1] / "examples" / "data"
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL = {
    "focus_sample_1000.csv": _SHARED / "focus_sample_data",
    "aws_cur_sample_anonymous.csv": _SHARED / "focus_converters",
    "koku-local-1_cur_2018-06.csv.gz": _SHARED / "koku" / "aws",
}
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

app = typer.Typer()
app.command("scan")(scan)
app.command("other")(lambda: None)  # two commands, so "scan" is a subcommand as in main.py
runner = CliRunner()


def real(name: str) -> Path:
    path = _BUNDLED / name
    return path if path.exists() else REAL[name] / name


def write_focus(path: Path, rows: list[list[str]] | None = None) -> Path:
    """A daily FOCUS CSV: 49 days of two resources, +500 USD on day 42 in ``i-batch``."""
    if rows is None:
        rows = []
        for i in range(49):
            day = FIRST + timedelta(days=i)
            for resource, usd in (("i-batch", 70.0), ("i-web", 40.0)):
                cost = usd * (0.5 if day.weekday() >= 5 else 1) * (1 + 0.02 * (i % 3 - 1))
                cost += 500 if (resource, i) == ("i-batch", 42) else 0
                rows.append(
                    [
                        f"{day}T00:00:00Z",
                        "AWS",
                        "111",
                        "222",
                        "Amazon EC2",
                        "Compute",
                        "us-east-1",
                        resource,
                        "Usage",
                        "USD",
                        "NULL",
                        f"{cost:.4f}",
                        f"{cost:.4f}",
                        f"{cost:.4f}",
                    ]
                )
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        out.writerows(rows)
    return path


def run(*args: str):
    # A wide virtual terminal, so rich does not fold the table's dates.
    return runner.invoke(app, ["scan", *map(str, args)], env={"COLUMNS": "200"})


ANOMALY_TYPES = {
    "id": str,
    "start": str,
    "end": str,
    "scope": dict,
    "expected_cost": float,
    "actual_cost": float,
    "impact_usd": float,
    "severity": str,
    "confidence": float,
    "root_causes": list,
}
CAUSE_KEYS = {
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "RegionId",
    "ResourceId",
    "impact_usd",
    "share",
}


def check_shape(data: dict) -> None:
    assert set(data) == {"rows_read", "series_scanned", "currency", "period", "anomalies"}
    assert isinstance(data["rows_read"], int) and isinstance(data["series_scanned"], int)
    assert isinstance(data["currency"], str) and len(data["currency"]) == 3
    assert set(data["period"]) == {"start", "end"}
    for day in data["period"].values():
        date.fromisoformat(day)
    for a in data["anomalies"]:
        assert {k: type(v) for k, v in a.items()} == ANOMALY_TYPES
        assert a["severity"] in {"low", "medium", "high", "critical"}
        assert 0 <= a["confidence"] <= 1 and len(a["root_causes"]) <= 10
        for rc in a["root_causes"]:
            assert set(rc) == CAUSE_KEYS
            assert isinstance(rc["impact_usd"], float) and isinstance(rc["share"], float)


@pytest.mark.parametrize("name", list(REAL))
def test_json_on_real_exports_is_the_exact_shape(name: str) -> None:
    result = run(real(name), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stdout is the JSON and nothing else
    check_shape(data)
    assert data["currency"] == "USD" and data["anomalies"] == []


def test_json_with_an_anomaly(tmp_path: Path) -> None:
    result = run(write_focus(tmp_path / "spike.csv"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    check_shape(data)
    [a] = data["anomalies"]
    assert (a["start"], a["end"]) == ("2024-05-13", "2024-05-13")
    assert a["root_causes"][0]["ResourceId"] == "i-batch"
    assert a["impact_usd"] == pytest.approx(500, rel=0.05)
    assert run(tmp_path / "spike.csv", "--json", "--since", "2024-05-14").stdout.count('"id"') == 0


def test_table_and_summary(tmp_path: Path) -> None:
    result = run(write_focus(tmp_path / "spike.csv"))
    assert result.exit_code == 0, result.output
    assert "Cost anomalies" in result.stdout and "2024-05-13" in result.stdout
    assert "98 line items, 4 series, 2024-04-01 .. 2024-05-19 (USD): 1 anomaly" in result.stdout


def test_thresholds_are_options(tmp_path: Path) -> None:
    path = write_focus(tmp_path / "spike.csv")
    data = json.loads(run(path, "--json", "--min-impact-usd", "1000").stdout)
    assert data["anomalies"] == []


def _truncated(tmp: Path) -> Path:
    text = real("focus_sample_1000.csv").read_text()
    path = tmp / "truncated.csv"
    path.write_text(text[: len(text) // 2 - 37])
    return path


def _bad_cost(tmp: Path) -> Path:
    row = [
        "2024-04-01T00:00:00Z",
        "AWS",
        "111",
        "222",
        "Amazon EC2",
        "Compute",
        "us-east-1",
        "i-1",
        "Usage",
        "USD",
        "NULL",
        "12.5",
        "abc",
        "12.5",
    ]
    return write_focus(tmp / "bad_cost.csv", [row])


def _two_currencies(tmp: Path) -> Path:
    rows = [
        [
            "2024-04-01T00:00:00Z",
            "AWS",
            "111",
            "222",
            "Amazon EC2",
            "Compute",
            "us-east-1",
            "i-1",
            "Usage",
            cur,
            "NULL",
            "1",
            "1",
            "1",
        ]
        for cur in ("USD", "EUR")
    ]
    return write_focus(tmp / "two_currencies.csv", rows)


def _unknown_header(tmp: Path) -> Path:
    path = tmp / "unknown.csv"
    path.write_text("when,what,how_much\n2024-04-01,thing,3\n")
    return path


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (_truncated, ["truncated.csv"]),
        (_bad_cost, ["bad_cost.csv", "row 2", "EffectiveCost"]),
        (_two_currencies, ["two_currencies.csv", "EUR", "USD"]),
        (_unknown_header, ["unknown.csv"]),
    ],
)
def test_bad_files_exit_2_with_a_clear_error(tmp_path: Path, make, needles: list[str]) -> None:
    result = run(make(tmp_path), "--json")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr


def test_missing_path_and_bad_since_exit_2(tmp_path: Path) -> None:
    missing = run(tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "nope.csv" in missing.stderr
    bad = run(write_focus(tmp_path / "ok.csv"), "--since", "13/05/2024")
    assert bad.exit_code == 2 and "--since" in bad.stderr and "13/05/2024" in bad.stderr
    combine = run(tmp_path / "ok.csv", "--combine", "xor")
    assert combine.exit_code == 2 and "--combine" in combine.stderr


def test_monitors_file_sets_dimensions_and_thresholds(tmp_path: Path) -> None:
    path = write_focus(tmp_path / "spike.csv")
    monitors = tmp_path / "monitors.yaml"
    monitors.write_text("monitors:\n  - dimension: total\nleaf_monitors: false\n")
    data = json.loads(run(path, "--json", "--monitors", monitors).stdout)
    check_shape(data)
    assert data["series_scanned"] == 1 and [a["scope"] for a in data["anomalies"]] == [{}]
    monitors.write_text("monitors:\n  - dimension: total\n    min_impact_usd: 100000\n")
    assert json.loads(run(path, "--json", "--monitors", monitors).stdout)["anomalies"] == []
    example = Path(__file__).parents[1] / "config" / "monitors.example.yaml"
    assert run(path, "--json", "--monitors", example).exit_code == 0


def test_bad_monitors_file_exits_2_naming_the_field(tmp_path: Path) -> None:
    path = write_focus(tmp_path / "spike.csv")
    monitors = tmp_path / "monitors.yaml"
    monitors.write_text(
        "monitors:\n  - dimension: total\n  - dimension: ServiceName\n"
        "  - dimension: RegionId\n    min_impact_usd: -5\n"
    )
    result = run(path, "--json", "--monitors", monitors)
    assert result.exit_code == 2 and result.stdout == ""
    assert "monitors[2].min_impact_usd: Input should be greater than or equal to 0" in (
        result.stderr
    )


def test_lenient_and_max_bad_rows_print_rejected_rows_to_stderr(tmp_path: Path) -> None:
    path = write_focus(tmp_path / "spike.csv")
    good = json.loads(run(path, "--json").stdout)
    with path.open("a") as fh:  # one more line item whose cost is not a number
        fh.write("2024-04-10T00:00:00Z,AWS,111,222,Amazon EC2,Compute,us-east-1,i-web,Usage,USD,")
        fh.write("NULL,12.5,twelve,12.5\n")
    assert run(path, "--json").exit_code == 2
    alone = run(path, "--json", "--max-bad-rows", "1")
    assert alone.exit_code == 2 and "--max-bad-rows" in alone.stderr and "--lenient" in alone.stderr
    result = run(path, "--json", "--lenient", "--max-bad-rows", "1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == good  # the rejected row is not scanned
    assert f"REJECTED (not summed): {path}: row 100: field EffectiveCost: not a number: " in (
        result.stderr
    )
    assert "(not summed; BilledCost as given: '12.5')" in result.stderr
    assert "REJECTED: 1 row(s) set aside by --max-bad-rows" in result.stderr


def test_lenient_scan_keeps_a_non_iso_currency_as_given(tmp_path: Path) -> None:
    rows = [
        ["2024-04-01T00:00:00Z", "AWS", "1", "2", "EC2", "Compute", "r", "i", "Usage", "MC"]
        + ["NULL", "1", "1", "1"]
    ]
    path = write_focus(tmp_path / "mc.csv", rows)
    assert run(path, "--json").exit_code == 2
    result = run(path, "--json", "--lenient")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["currency"] == "MC"
    assert "'MC' is not an ISO 4217 code; kept as given" in result.stderr
