"""Read billing exports (FOCUS CSV/Parquet, legacy AWS CUR CSV; plain or gzip) into daily rows.

DuckDB does all the row work out of core; Python only sees the aggregated daily groups.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import duckdb
import pandas as pd

from costguard_core.errors import InputError
from costguard_core.focus._detect import Format, read_header
from costguard_core.focus._lenient import ReadWarning
from costguard_core.focus._plan import MACROS, TEXT_COLUMNS
from costguard_core.focus._rows import RejectedRow
from costguard_core.focus._scan import FileScan, locate_tags, scan_file
from costguard_core.focus._tags import canonical_tags
from costguard_core.models import CostRow

#: Columns of :attr:`DailyCosts.frame`, in order.
DAILY_COLUMNS: tuple[str, ...] = (
    "ChargePeriodStart",
    *TEXT_COLUMNS,
    "Tags",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
)
_MONEY = ("BilledCost", "EffectiveCost", "ListCost")


@dataclass(frozen=True)
class SourceFile:
    """One input file: detected format, gzip flag, line items summed and its currency (one);
    ``rejected``: rows set aside (lenient ``max_bad_rows``), not in ``rows``."""

    path: str
    format: Format
    compressed: bool
    rows: int
    currencies: tuple[str, ...]
    rejected: int = 0


@dataclass(frozen=True)
class DailyCosts:
    """FOCUS rows summed from line items per UTC day (or UTC hour).

    ``frame`` has DAILY_COLUMNS, one row per period + dimensions + Tags, sorted by those.
    ``ChargePeriodStart`` is ``datetime64[ns]``, naive UTC: midnight when ``granularity`` is
    ``"day"``, the start of the hour when ``"hour"``. Text dimensions are ``str`` or ``None``.
    ``Tags`` is canonical JSON (sorted keys, ``"{}"`` when none).
    ``BilledCost``/``EffectiveCost``/``ListCost`` are exact ``decimal.Decimal`` (object dtype)
    in ``BillingCurrency``; ``ListCost`` is ``None`` for a group where any line item lacked it.
    ``warnings`` lists every lenient-mode repair (file, first row, rows, what); ``rejected``
    every row set aside under ``max_bad_rows`` (file, row, reason, raw cost text), none of
    which is in ``frame`` or ``rows_read``. Both are empty in strict mode.
    """

    frame: pd.DataFrame
    rows_read: int
    files: tuple[SourceFile, ...]
    warnings: tuple[ReadWarning, ...] = ()
    granularity: Literal["day", "hour"] = "day"
    rejected: tuple[RejectedRow, ...] = ()

    def to_cost_rows(self) -> list[CostRow]:
        """The frame as :class:`CostRow` models (day as ``date``, Tags as a dict).

        Raises ValueError for hourly rows: a CostRow is one UTC day.
        """
        if self.granularity != "day":
            raise ValueError("to_cost_rows needs daily rows (read with granularity='day')")
        rows = []
        for rec in self.frame.itertuples(index=False):
            data = rec._asdict()
            data["ChargePeriodStart"] = data["ChargePeriodStart"].date()
            data["Tags"] = json.loads(data["Tags"])
            rows.append(CostRow(**data))
        return rows

    def currencies(self) -> tuple[str, ...]:
        """Billing currencies present, sorted (one per file; files may differ)."""
        return tuple(sorted({c for f in self.files for c in f.currencies}))


def _tag_map(con: duckdb.DuckDBPyConnection, scans: list[FileScan], paths: list[str]) -> None:
    """Register ``cg_tag_map(raw, canonical)`` for every distinct raw Tags value."""
    raws: dict[str, str] = {}
    for scan, path in zip(scans, paths, strict=True):
        for (raw,) in con.execute(
            f"SELECT DISTINCT tags_raw FROM {scan.table} WHERE tags_raw IS NOT NULL"
        ).fetchall():
            if raw in raws:
                continue
            try:
                raws[raw] = canonical_tags(raw)
            except ValueError as exc:
                row = locate_tags(con, scan, raw)
                raise InputError(f"{exc}: {raw!r}", path=path, row=row, field="Tags") from exc
    mapping = pd.DataFrame({"raw": list(raws), "canonical": list(raws.values())}, dtype="object")
    con.register("cg_tag_map_df", mapping)
    con.execute(
        "CREATE TEMP TABLE cg_tag_map AS "
        "SELECT CAST(raw AS VARCHAR) AS raw, CAST(canonical AS VARCHAR) AS canonical "
        "FROM cg_tag_map_df"
    )


_ONE = Decimal(1)


def _plain(value: Decimal | None) -> Decimal | None:
    """``value`` without the scale's trailing zeros, never in exponent form (100, not 1E+2)."""
    if value is None:
        return None
    short = value.normalize()
    return short.quantize(_ONE) if short.as_tuple().exponent > 0 else short  # type: ignore[operator]


def _final_frame(con: duckdb.DuckDBPyConnection, scans: list[FileScan]) -> pd.DataFrame:
    union = " UNION ALL ".join(f"SELECT * FROM {s.table}" for s in scans)
    dims = ", ".join(f"a.{c}" for c in TEXT_COLUMNS)
    sql = (
        "WITH g AS ("
        f"SELECT a.day, {dims}, coalesce(m.canonical, '{{}}') AS Tags, "
        "sum(a.BilledCost) AS BilledCost, sum(a.EffectiveCost) AS EffectiveCost, "
        "CASE WHEN count(a.ListCost) = count(*) THEN sum(a.ListCost) END AS ListCost "
        f"FROM ({union}) a LEFT JOIN cg_tag_map m ON a.tags_raw = m.raw "
        f"GROUP BY a.day, {dims}, coalesce(m.canonical, '{{}}')) "
        f"SELECT CAST(day AS TIMESTAMP) AS ChargePeriodStart, {', '.join(TEXT_COLUMNS)}, Tags, "
        f"{', '.join(_MONEY)} FROM g ORDER BY ALL"
    )
    # Through Arrow, one column at a time (a 10 M-line CUR gives ~830k groups): DECIMAL(38, 24)
    # arrives as decimal128 and pyarrow makes the Decimal objects itself, ~10x faster than
    # fetchdf() (which would turn DECIMAL into float) plus text parsing; text goes through a
    # categorical so that equal strings share one Python object.
    table = con.sql(sql).to_arrow_table()
    columns: dict[str, pd.Series] = {}
    for name in DAILY_COLUMNS:
        values = table.column(name)
        if name == "ChargePeriodStart":
            columns[name] = values.to_pandas().astype("datetime64[ns]")
        elif name in _MONEY:
            columns[name] = pd.Series([_plain(v) for v in values.to_pylist()], dtype=object)
        else:
            text = values.dictionary_encode().to_pandas().astype(object)
            columns[name] = text.where(text.notna(), None)
        del values
    del table
    frame = pd.DataFrame(columns)
    return frame


def read_daily(
    paths: Sequence[str | os.PathLike[str]],
    *,
    lenient: bool = False,
    granularity: Literal["day", "hour"] = "day",
    max_bad_rows: int = 0,
) -> DailyCosts:
    """Read billing export files into daily (or hourly) FOCUS rows (see :class:`DailyCosts`).

    Each file's format (FOCUS 1.0-1.3, AWS CUR legacy/2.0, Azure cost details, GCP billing
    export, OCI cost report), container (CSV or Parquet) and gzip compression are detected from
    its bytes and header, never its name. ChargePeriodStart is floored to the UTC day, or with
    ``granularity="hour"`` to the UTC hour (a line item is never split: one whose charge period
    spans several hours or days counts wholly in the period of its start). Costs are summed
    exactly as DECIMAL(38, 24), never via float, and never across currencies (the currency is a
    grouping column; a file must hold a single currency).

    ``lenient=True`` (opt-in) repairs two CSV defects instead of refusing the file: mixed
    CRLF/LF line endings, and rows missing trailing fields (read as NULL; such a row is then
    bad if a column its own cost needs is missing). It keeps a currency that is not a
    3-letter code as given. ``max_bad_rows`` (lenient only) sets aside up to that many bad rows
    per file (a failing row check: unparsable cost, empty mandatory field, bad timestamp, a
    row longer than the header, ...): each is listed in ``DailyCosts.rejected`` with its raw
    cost text and nothing of it is summed; one more and the file is refused as in strict mode.
    Every repair is listed in ``DailyCosts.warnings``; every other check stays as strict.

    Raises InputError (naming the file, and the row and field where known) for a missing, empty,
    truncated or malformed file, an unknown header, a missing required column, a non-numeric or
    empty mandatory cost, an unparsable timestamp, an unknown CUR line item type, bad Tags JSON,
    or more than one currency in a file (lenient: more than ``max_bad_rows`` bad rows, or a
    short row missing a column its cost needs). Raises ValueError when ``paths`` is empty,
    ``granularity`` is not day/hour, or ``max_bad_rows`` is negative or set without lenient.
    """
    names = [os.fspath(p) for p in paths]
    if not names:
        raise ValueError("read_daily needs at least one path")
    if granularity not in ("day", "hour"):
        raise ValueError(f"granularity must be 'day' or 'hour', not {granularity!r}")
    if max_bad_rows < 0 or (max_bad_rows and not lenient):
        raise ValueError(f"max_bad_rows needs lenient=True and must be >= 0, not {max_bad_rows}")
    headers = [read_header(p) for p in names]
    spill = tempfile.mkdtemp(prefix="costguard-duckdb-")
    try:
        with duckdb.connect(config={"temp_directory": spill}) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            for macro in MACROS:
                con.execute(macro)
            scans = [
                scan_file(
                    con,
                    h,
                    p,
                    i,
                    lenient=lenient,
                    max_bad_rows=max_bad_rows,
                    granularity=granularity,
                    workdir=spill,
                )
                for i, (h, p) in enumerate(zip(headers, names, strict=True))
            ]
            _tag_map(con, scans, names)
            frame = _final_frame(con, scans)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    files = tuple(
        SourceFile(p, h.format, h.compressed, s.rows, s.currencies, len(s.rejected))
        for p, h, s in zip(names, headers, scans, strict=True)
    )
    return DailyCosts(
        frame=frame,
        rows_read=sum(s.rows for s in scans),
        files=files,
        warnings=tuple(w for s in scans for w in s.warnings),
        granularity=granularity,
        rejected=tuple(r for s in scans for r in s.rejected),
    )
