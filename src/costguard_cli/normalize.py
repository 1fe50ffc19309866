"""``costguard normalize PATH... --output FILE.parquet|FILE.csv``: billing exports to FOCUS 1.2.

Reads every file the core reader accepts (FOCUS 1.0-1.3, AWS CUR legacy/2.0, Azure cost
details, GCP billing export, OCI; CSV, gzip CSV or Parquet; format detected from content) and
writes its daily FOCUS rows, one per UTC day + dimensions + Tags, with the columns of
:data:`OUTPUT_COLUMNS`. ChargePeriodStart/End are the UTC day's bounds (``--granularity hour``:
the UTC hour's; a line item is never split, it counts in the period of its start); Tags is a
JSON object; a ServiceCategory the source does not give is written as FOCUS's "Other" (the
spec allows no null there); costs are exact: CSV carries the decimal text (never exponent
form), Parquet DECIMAL(38, s) with ``s`` the largest number of fractional digits any cost needs.
Currencies are as billed. ``--lenient`` repairs mixed line endings and rows missing trailing
fields, keeps a non-ISO currency as given (``read_daily(lenient=True)``) and prints each repair
to stderr as ``warning: ...``; ``--max-bad-rows N`` (with ``--lenient``) sets aside up to N bad
rows per file and prints each to stderr as ``REJECTED (not summed): ...`` with its raw cost.

Exit codes: 0 on success, 2 on bad input (the reason on stderr naming file, row and field) or
an output name ending in neither ``.parquet`` nor ``.csv``. The output is written to a temporary
file beside it and renamed into place, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import typer
from costguard_core.errors import InputError
from costguard_core.focus import DAILY_COLUMNS, DailyCosts, ReadWarning, RejectedRow, read_daily

#: The FOCUS 1.2 columns written, in order (daily aggregates: per-line-item columns such as
#: ChargeDescription or PricingQuantity do not survive the daily sum and are not written).
OUTPUT_COLUMNS: tuple[str, ...] = (DAILY_COLUMNS[0], "ChargePeriodEnd", *DAILY_COLUMNS[1:])
_MONEY = ("BilledCost", "EffectiveCost", "ListCost")
#: Written for a null ServiceCategory (FOCUS allows no null there).
OTHER_CATEGORY = "Other"

_PATHS = typer.Argument(
    ..., exists=True, dir_okay=False, readable=True, help="Billing exports (any detected format)."
)
_OUTPUT = typer.Option(..., "--output", "-o", help="FILE.parquet or FILE.csv (replaced).")
_LENIENT = typer.Option(
    False,
    "--lenient",
    help="Repair mixed CRLF/LF line endings, pad rows missing trailing columns and keep a "
    "non-ISO currency as given (each repair is printed); a row missing a column its own cost "
    "needs is still an error.",
)
_MAX_BAD_ROWS = typer.Option(
    0,
    "--max-bad-rows",
    min=0,
    help="With --lenient: set aside up to N rows per file that fail a row check (bad cost, "
    "empty mandatory field, bad timestamp, wrong field count) instead of failing; each is "
    "printed with its raw cost text and nothing of it is written.",
)
_GRANULARITY = typer.Option(
    "day", "--granularity", help="Period of ChargePeriodStart: day or hour (UTC)."
)
_PERIOD = {"day": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1)}


def _scale(values: pd.Series) -> int:
    """Fractional digits the most precise cost needs (0 for whole numbers)."""
    exps = [v.as_tuple().exponent for v in values if isinstance(v, Decimal)]
    return max([0, *(-e for e in exps if isinstance(e, int))])  # "n"/"F": NaN, Infinity


def _frame(result: DailyCosts, granularity: Literal["day", "hour"]) -> tuple[pd.DataFrame, int]:
    daily = result.frame
    out = pd.DataFrame({c: daily[c] for c in OUTPUT_COLUMNS if c in daily.columns})
    out.insert(1, "ChargePeriodEnd", daily["ChargePeriodStart"] + _PERIOD[granularity])
    # FOCUS: ServiceCategory MUST NOT be null; "Other" is the spec's value for a service outside
    # the listed categories. The reader keeps null (category unknown) as its dimension value.
    category = daily["ServiceCategory"]
    out["ServiceCategory"] = category.where(category.notna(), OTHER_CATEGORY)
    scale = 0
    for column in _MONEY:
        normal = [None if v is None else v.normalize() for v in daily[column]]
        scale = max(scale, _scale(pd.Series(normal, dtype=object)))
        # Fixed-point text: str(Decimal) would write 1E-7; the exact value is kept either way.
        out[column] = pd.Series(
            [None if v is None else format(v, "f") for v in normal], dtype=object
        )
    return out[list(OUTPUT_COLUMNS)], scale


def _copy_sql(fmt: str, scale: int) -> str:
    if fmt == "csv":
        day = "strftime({c}, '%Y-%m-%dT%H:%M:%SZ')"
        money = "CAST({c} AS VARCHAR)"
        options = "FORMAT CSV, HEADER"
    else:
        day = "CAST({c} AS TIMESTAMPTZ)"
        money = f"CAST({{c}} AS DECIMAL(38, {min(scale, 38)}))"
        options = "FORMAT PARQUET"
    cols = [
        # Explicit VARCHAR: a column that is empty in every row would otherwise get type NULL.
        (
            day
            if c.startswith("ChargePeriod")
            else money
            if c in _MONEY
            else "CAST({c} AS VARCHAR)"
        ).format(c=c)
        + f" AS {c}"
        for c in OUTPUT_COLUMNS
    ]
    return f"COPY (SELECT {', '.join(cols)} FROM frame) TO $path ({options})"


def write_focus(
    paths: list[Path],
    output: Path,
    *,
    lenient: bool = False,
    granularity: Literal["day", "hour"] = "day",
    max_bad_rows: int = 0,
) -> tuple[int, tuple[ReadWarning, ...], tuple[RejectedRow, ...]]:
    """Write the daily (or hourly) FOCUS rows of ``paths`` to ``output``.

    Returns the rows written, the lenient repairs made and the rows set aside under
    ``max_bad_rows`` (both empty unless ``lenient``). Raises InputError for bad input and
    ValueError for an unsupported output suffix or granularity, or ``max_bad_rows`` without
    ``lenient``.
    """
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"--output must end with .parquet or .csv: {output}")
    if granularity not in _PERIOD:
        raise ValueError(f"--granularity must be day or hour, not {granularity!r}")
    result = read_daily(paths, lenient=lenient, granularity=granularity, max_bad_rows=max_bad_rows)
    frame, scale = _frame(result, granularity)
    if scale > 38:
        raise ValueError(f"a cost needs {scale} fractional digits; Parquet DECIMAL holds 38")
    fd, tmp = tempfile.mkstemp(dir=output.parent or Path("."), prefix=f".{output.name}.")
    os.close(fd)
    try:
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            con.register("frame", frame)
            con.execute(_copy_sql(fmt, scale), {"path": tmp})
        os.replace(tmp, output)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return len(frame), result.warnings, result.rejected


def report_read(warnings: tuple[ReadWarning, ...], rejected: tuple[RejectedRow, ...]) -> None:
    """Print lenient repairs and rejected rows to stderr (rejected ones loudly, with a count)."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    for row in rejected:
        typer.echo(f"REJECTED (not summed): {row}", err=True)
    if rejected:
        typer.echo(
            f"REJECTED: {len(rejected)} row(s) set aside by --max-bad-rows; their costs are "
            "NOT in the output (listed above with their raw cost text)",
            err=True,
        )


def normalize(
    paths: list[Path] = _PATHS,
    output: Path = _OUTPUT,
    lenient: bool = _LENIENT,
    granularity: str = _GRANULARITY,
    max_bad_rows: int = _MAX_BAD_ROWS,
) -> None:
    """Write the FOCUS 1.2 daily (or hourly) rows of billing exports to a Parquet or CSV file."""
    if max_bad_rows and not lenient:
        typer.echo("error: --max-bad-rows needs --lenient", err=True)
        raise typer.Exit(2)
    try:
        rows, warnings, rejected = write_focus(
            paths,
            output,
            lenient=lenient,
            granularity=granularity,  # type: ignore[arg-type]  # checked in write_focus
            max_bad_rows=max_bad_rows,
        )
    except (InputError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    report_read(warnings, rejected)
    period = "hourly" if granularity == "hour" else "daily"
    typer.echo(f"{rows:,} {period} FOCUS rows written to {output}", err=True)
