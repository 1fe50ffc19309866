"""``costguard normalize PATH... --output FILE.parquet|FILE.csv``: billing exports to FOCUS 1.2.

Reads every file the core reader accepts (FOCUS 1.0-1.3, AWS CUR legacy/2.0, Azure cost
details, GCP billing export, OCI; CSV, gzip CSV or Parquet; format detected from content) and
writes its daily FOCUS rows, one per UTC day + dimensions + Tags, with the columns of
:data:`OUTPUT_COLUMNS`. ChargePeriodStart/End are the UTC day's bounds (``--granularity hour``:
the UTC hour's; a line item is never split, it counts in the period of its start); Tags is a
JSON object; a ServiceCategory the source does not give is written as FOCUS's "Other" (the
spec allows no null there); costs are exact: CSV carries the decimal text (never exponent
form), Parquet DECIMAL(38, s) with ``s`` the largest number of fractional digits any cost needs.
Currencies are as billed. ``--lenient`` repairs mixed line endings and rows missing non-money
trailing fields (``read_daily(lenient=True)``) and prints each repair to stderr as
``warning: ...``.

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
from costguard_core.focus import DAILY_COLUMNS, ReadWarning, read_daily

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
    help="Repair mixed CRLF/LF line endings and pad rows missing non-money trailing columns "
    "(each repair is printed); a missing cost column is still an error.",
)
_GRANULARITY = typer.Option(
    "day", "--granularity", help="Period of ChargePeriodStart: day or hour (UTC)."
)
_PERIOD = {"day": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1)}


def _scale(values: pd.Series) -> int:
    """Fractional digits the most precise cost needs (0 for whole numbers)."""
    exps = [v.as_tuple().exponent for v in values if isinstance(v, Decimal)]
    return max([0, *(-e for e in exps if isinstance(e, int))])  # "n"/"F": NaN, Infinity


def _frame(
    paths: list[Path], lenient: bool, granularity: Literal["day", "hour"]
) -> tuple[pd.DataFrame, int, tuple[ReadWarning, ...]]:
    result = read_daily(paths, lenient=lenient, granularity=granularity)
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
    return out[list(OUTPUT_COLUMNS)], scale, result.warnings


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
) -> tuple[int, tuple[ReadWarning, ...]]:
    """Write the daily (or hourly) FOCUS rows of ``paths`` to ``output``.

    Returns the rows written and the lenient repairs made (empty unless ``lenient``). Raises
    InputError for bad input and ValueError for an unsupported output suffix or granularity.
    """
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"--output must end with .parquet or .csv: {output}")
    if granularity not in _PERIOD:
        raise ValueError(f"--granularity must be day or hour, not {granularity!r}")
    frame, scale, warnings = _frame(paths, lenient, granularity)
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
    return len(frame), warnings


def normalize(
    paths: list[Path] = _PATHS,
    output: Path = _OUTPUT,
    lenient: bool = _LENIENT,
    granularity: str = _GRANULARITY,
) -> None:
    """Write the FOCUS 1.2 daily (or hourly) rows of billing exports to a Parquet or CSV file."""
    try:
        rows, warnings = write_focus(
            paths,
            output,
            lenient=lenient,
            granularity=granularity,  # type: ignore[arg-type]  # checked in write_focus
        )
    except (InputError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    period = "hourly" if granularity == "hour" else "daily"
    typer.echo(f"{rows:,} {period} FOCUS rows written to {output}", err=True)
