"""``costguard scan FILE...``: find cost anomalies in billing exports, offline.

Exit codes: 0 on success (anomalies or not), 2 on bad input (unreadable or mixed-currency file,
missing path, bad ``--since`` or ``--granularity``, invalid ``--monitors`` file, ``--max-bad-rows``
without ``--lenient``), with the reason on stderr. With ``--json`` stdout carries only the
``ScanReport`` JSON. ``--lenient`` / ``--max-bad-rows`` read as ``costguard normalize`` does and
print repairs and rejected rows to stderr.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import typer
from costguard_core.detection import DetectorConfig
from costguard_core.detection.monitors import load_monitors
from costguard_core.errors import InputError
from costguard_core.scan import ScanReport
from costguard_core.scan import scan as run_scan
from rich.console import Console

from costguard_cli.normalize import report_read
from costguard_cli.render import anomalies_table


def _since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"not a YYYY-MM-DD date: {value!r}", param_hint="--since"
        ) from None


def summary(report: ScanReport) -> str:
    """One line: what was read and how much the anomalies add up to."""
    impact = sum(a.impact_usd for a in report.anomalies)
    return (
        f"{report.rows_read:,} line items, {report.series_scanned:,} series, "
        f"{report.period.start} .. {report.period.end} ({report.currency}): "
        f"{len(report.anomalies)} anomal{'y' if len(report.anomalies) == 1 else 'ies'}, "
        f"impact {impact:,.2f} {report.currency}"
    )


_DEFAULTS = DetectorConfig()
# Module-level so the signature does not call a function per default (ruff B008); typer checks
# that each path exists and is a readable file, and exits 2 naming it otherwise.
_PATHS = typer.Argument(
    ...,
    exists=True,
    dir_okay=False,
    readable=True,
    help="FOCUS or AWS CUR exports (CSV, CSV.gz or Parquet), one BillingCurrency in all.",
)

_MONITORS = typer.Option(
    None,
    "--monitors",
    exists=True,
    dir_okay=False,
    readable=True,
    help="YAML monitors file (config/monitors.example.yaml): dimensions, per-monitor "
    "thresholds and severity tiers. Default: total, provider, service, account, leaves.",
)


def scan(
    paths: list[Path] = _PATHS,
    since: str | None = typer.Option(
        None, "--since", help="YYYY-MM-DD: report anomalies starting on or after this UTC day."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout only."),
    min_impact_usd: float = typer.Option(
        _DEFAULTS.min_impact_usd,
        "--min-impact-usd",
        min=0,
        help="Smallest daily excess over expected (billing currency) that can be anomalous.",
    ),
    min_impact_pct: float = typer.Option(
        _DEFAULTS.min_impact_pct,
        "--min-impact-pct",
        min=0,
        help="Smallest daily excess as a fraction of expected (0.25 = 25 %).",
    ),
    combine: str = typer.Option(
        _DEFAULTS.combine, "--combine", help="'and': both thresholds; 'or': either one."
    ),
    monitors_file: Path | None = _MONITORS,
    granularity: str = typer.Option(
        "day",
        "--granularity",
        help="'day': judge whole UTC days. 'hour': judge each day so far at every UTC hour "
        "against the same weekday's hours (hourly FOCUS/CUR/OCI data), so a loop is raised "
        "hours after it starts; the JSON adds granularity, last_hour and per-anomaly "
        "detected_at.",
    ),
    lenient: bool = typer.Option(
        False,
        "--lenient",
        help="Read as `costguard normalize --lenient` (repairs printed to stderr).",
    ),
    max_bad_rows: int = typer.Option(
        0,
        "--max-bad-rows",
        min=0,
        help="With --lenient: set aside up to N bad rows per file (printed to stderr with their "
        "raw cost text; not scanned).",
    ),
) -> None:
    """Find cost anomalies (spend increases) in billing exports and name their root causes."""
    if combine not in ("and", "or"):
        raise typer.BadParameter("must be 'and' or 'or'", param_hint="--combine")
    if granularity not in ("day", "hour"):
        raise typer.BadParameter("must be 'day' or 'hour'", param_hint="--granularity")
    if max_bad_rows and not lenient:
        raise typer.BadParameter("needs --lenient", param_hint="--max-bad-rows")
    grain: Literal["day", "hour"] = "hour" if granularity == "hour" else "day"
    mode: Literal["and", "or"] = "and" if combine == "and" else "or"
    config = DetectorConfig(
        min_impact_usd=min_impact_usd, min_impact_pct=min_impact_pct, combine=mode
    )
    try:
        monitors = load_monitors(monitors_file) if monitors_file else None
        report = run_scan(
            paths,
            since=_since(since),
            config=config,
            monitors=monitors,
            granularity=grain,
            lenient=lenient,
            max_bad_rows=max_bad_rows,
            on_read=lambda daily: report_read(daily.warnings, daily.rejected),
        )
    except InputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if json_out:
        typer.echo(report.model_dump_json(indent=2))
        return
    console = Console()
    rows = [a.model_dump(mode="json") for a in report.anomalies]
    console.print(anomalies_table(rows, title="Cost anomalies"))
    console.print(summary(report), soft_wrap=True)
