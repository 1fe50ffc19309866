"""One file through DuckDB: aggregate it to daily groups, and point at the first bad row.

The main path is a single vectorized scan per file (``CREATE TEMP TABLE ... GROUP BY``) that
also counts bad rows. Only when that count is not zero does a second, single-threaded scan
number the rows to name the first bad one, so correct files pay nothing for error reporting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import duckdb

from costguard_core.errors import InputError
from costguard_core.focus._azure_oci_map import azure_plan, oci_plan
from costguard_core.focus._cur_map import cur_plan, legacy_names
from costguard_core.focus._detect import Header
from costguard_core.focus._focus_map import focus_plan
from costguard_core.focus._gcp_map import gcp_legacy_plan, gcp_plan
from costguard_core.focus._lenient import ReadWarning, pad_short_rows, rewrite_line_endings
from costguard_core.focus._plan import (
    TEXT_COLUMNS,
    Columns,
    Granularity,
    Plan,
    quote_literal,
    staged_sql,
)

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_REASONS = (
    (re.compile(r"Value with unterminated quote found"), "unterminated quoted field"),
    (
        re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)"),
        "expected {0} fields, found {1} (truncated or malformed row)",
    ),
    (re.compile(r"[Ii]nvalid unicode"), "not valid UTF-8 text"),
    (re.compile(r"[Mm]aximum line size"), "line longer than the CSV reader's limit"),
)
# DuckDB's strict parser reports mixed CRLF/LF line endings (koku's camel_azure_version_2.csv)
# without a line number; say what the usual cause is instead of the parser's internals.
_CSV_STATE = "CSV Parser state machine reached an invalid state"
_FIELD_COUNT = re.compile(r"Expected Number of Columns: \d+ Found: \d+")


_PLANS = {
    "focus": focus_plan,
    "aws-cur": cur_plan,
    "azure": azure_plan,
    "oci": oci_plan,
    "gcp": gcp_plan,
    "gcp-legacy": gcp_legacy_plan,
}


@dataclass(frozen=True)
class FileScan:
    """A scanned file: its temp table of daily groups, line items read, currencies and the
    lenient repairs made to read it (always empty in strict mode)."""

    table: str
    rows: int
    currencies: tuple[str, ...]
    source: str
    plan: Plan
    rn: str
    warnings: tuple[ReadWarning, ...] = ()


@dataclass(frozen=True)
class _CsvInput:
    """What DuckDB reads for a CSV file: the file itself or a repaired temp copy, and how."""

    path: str
    compressed: bool
    pad: bool = False


class _Structural(Exception):
    """A CSV structure error lenient mode may repair: ``kind`` is "line-endings" or "fields"."""

    def __init__(self, kind: str, error: InputError) -> None:
        super().__init__(str(error))
        self.kind = kind
        self.error = error


def _source(header: Header, path: str, csv: _CsvInput) -> tuple[str, tuple[str, ...], str]:
    """FROM item exposing the columns as VARCHAR ``c0..cN``, pass-through columns, row expr."""
    lit = quote_literal(path)
    if header.container == "parquet":
        casts = ", ".join(
            f'CAST("{name.replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS c{i}'
            for i, name in enumerate(header.columns)
        )
        src = (
            f"(SELECT {casts}, file_row_number + 1 AS _rn "
            f"FROM read_parquet({lit}, file_row_number=true))"
        )
        return src, ("_rn",), "_rn"
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header.columns)))
    # Padding short rows (lenient mode only) needs the single-threaded reader: DuckDB's parallel
    # scanner cannot pad rows when quoted fields hold line breaks.
    padding = "null_padding=true, parallel=false" if csv.pad else "null_padding=false"
    src = (
        f"read_csv({quote_literal(csv.path)}, columns={{{columns}}}, header=true, "
        "auto_detect=false, delim=',', quote='\"', escape='\"', strict_mode=true, "
        f"{padding}, nullstr=['NULL', ''], compression='{'gzip' if csv.compressed else 'none'}')"
    )
    # Header is row 1, so the first data row is 2 (see InputError).
    return src, (), "row_number() OVER () + 1"


def _translate(exc: duckdb.Error, path: str) -> InputError:
    text = str(exc)
    line = _CSV_LINE.search(text)
    if line:
        for pattern, message in _CSV_REASONS:
            found = pattern.search(text)
            if found:
                return InputError(message.format(*found.groups()), path=path, row=int(line[1]))
        return InputError("malformed CSV row", path=path, row=int(line[1]))
    if _CSV_STATE in text:
        return InputError(
            "not RFC 4180 CSV (often mixed CRLF and LF line endings; rewrite the file with one "
            "line ending, e.g. dos2unix)",
            path=path,
        )
    if "overflow" in text.lower():
        return InputError("a cost sum is too large for DECIMAL(38, 24)", path=path)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return InputError(f"cannot read file: {first}", path=path)


def _locate(con: duckdb.DuckDBPyConnection, scan: FileScan, predicate: str, cols: str) -> tuple:
    # One thread keeps row_number() in file order; this runs only when reporting an error.
    con.execute("SET threads = 1")
    cte = staged_sql(scan.plan, scan.source, ("_rn",) if scan.rn == "_rn" else ())
    sql = (
        f"{cte} SELECT rn, {cols} FROM (SELECT {scan.rn} AS rn, * FROM v) "
        f"WHERE {predicate} ORDER BY rn LIMIT 1"
    )
    row = con.execute(sql).fetchone()
    if row is None:  # pragma: no cover - the caller only asks after counting a match
        raise AssertionError("bad row counted but not found")
    return row


def _first_bad_row(con: duckdb.DuckDBPyConnection, scan: FileScan, path: str) -> InputError:
    checks = scan.plan.all_checks()
    flags = ", ".join(f"chk_{i}" for i in range(len(checks)))
    values = ", ".join(c.value or "NULL" for c in checks)
    row = _locate(con, scan, "NOT ok", f"{flags}, {values}")
    rn, hits, shown = row[0], row[1 : 1 + len(checks)], row[1 + len(checks) :]
    for check, hit, value in zip(checks, hits, shown, strict=True):
        if hit:
            message = check.message if check.value is None else f"{check.message}: {value!r}"
            return InputError(message, path=path, row=rn, field=check.field)
    raise AssertionError("bad row without a failing check")  # pragma: no cover


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    header: Header,
    path: str,
    table: str,
    plan: Plan,
    csv: _CsvInput,
) -> FileScan:
    """One attempt at the file as ``csv`` says; _Structural for a defect lenient mode repairs."""
    source, extra, rn = _source(header, path, csv)
    dims = ", ".join(TEXT_COLUMNS)
    sql = (
        f"CREATE TEMP TABLE {table} AS {staged_sql(plan, source, extra)}"
        f"SELECT day, {dims}, tags_raw, sum(BilledCost) AS BilledCost, "
        "sum(EffectiveCost) AS EffectiveCost, "
        # A day's ListCost is only known when every line item in it has one.
        "CASE WHEN count(ListCost) = count(*) THEN sum(ListCost) END AS ListCost, "
        "count(*) AS n, count(*) FILTER (WHERE NOT ok) AS n_bad "
        f"FROM v GROUP BY day, {dims}, tags_raw"
    )
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        error = _translate(exc, path)
        text = str(exc)
        if _CSV_STATE in text:
            raise _Structural("line-endings", error) from exc
        if _CSV_LINE.search(text) and _FIELD_COUNT.search(text):
            raise _Structural("fields", error) from exc
        raise error from exc
    try:
        # An aggregate without GROUP BY always returns exactly one row.
        rows, bad = con.execute(f"SELECT sum(n), sum(n_bad) FROM {table}").fetchone() or (0, 0)
        scan = FileScan(table, int(rows or 0), (), source, plan, rn)
        if not rows:
            raise InputError("no data rows after the header", path=path)
        if bad:
            raise _first_bad_row(con, scan, path)
        currencies = tuple(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT BillingCurrency FROM {table} ORDER BY 1"
            ).fetchall()
        )
        if len(currencies) > 1:
            first = _locate(con, scan, "true", "BillingCurrency")[1]
            other = _locate(
                con, scan, f"BillingCurrency <> {quote_literal(first)}", "BillingCurrency"
            )
            raise InputError(
                f"more than one currency in one file: {', '.join(currencies)} "
                f"(row {other[0]} is {other[1]}, earlier rows are {first})",
                path=path,
                row=other[0],
                field=plan.currency_field,
            )
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc
    return FileScan(table, int(rows), currencies, source, plan, rn)


def scan_file(
    con: duckdb.DuckDBPyConnection,
    header: Header,
    path: str,
    index: int,
    *,
    lenient: bool = False,
    granularity: Granularity = "day",
    workdir: str | None = None,
) -> FileScan:
    """Aggregate ``path`` into temp table ``cg_agg_<index>``; raise InputError on bad input.

    Strict (the default) reads the file as it is. ``lenient`` repairs, only after a strict read
    failed on them, mixed CRLF/LF line endings (a normalised temp copy in ``workdir``) and rows
    missing non-money trailing fields (padded with NULL); see ``_lenient``. Each repair is in
    ``FileScan.warnings``.
    """
    names = legacy_names(header.columns) if header.format == "aws-cur" else header.columns
    plan = replace(_PLANS[header.format](Columns(names, path)), granularity=granularity)
    csv = _CsvInput(path, header.compressed)
    warnings: list[ReadWarning] = []
    while True:
        try:
            scan = _aggregate(con, header, path, f"cg_agg_{index}", plan, csv)
            return replace(scan, warnings=tuple(warnings))
        except _Structural as exc:
            if not lenient or header.container != "csv":
                raise exc.error from exc.__cause__
            if exc.kind == "line-endings" and csv.path == path:
                if workdir is None:
                    raise ValueError(
                        "lenient scan_file needs a workdir for repaired copies"
                    ) from exc
                rewritten = rewrite_line_endings(path, csv.compressed, workdir)
                if rewritten is None:
                    raise exc.error from exc.__cause__
                csv = _CsvInput(rewritten[0], False, csv.pad)
                warnings.append(rewritten[1])
            elif exc.kind == "fields" and not csv.pad:
                try:
                    repairs = pad_short_rows(con, header, plan, path, csv.path, csv.compressed)
                except duckdb.Error as census:
                    raise exc.error from census
                if not repairs:  # pragma: no cover - a field-count error means a short or long row
                    raise exc.error from exc.__cause__
                warnings += repairs
                csv = replace(csv, pad=True)
            else:
                raise exc.error from exc.__cause__


def locate_tags(con: duckdb.DuckDBPyConnection, scan: FileScan, raw: str) -> int:
    """Row number of the first row whose raw Tags text is ``raw`` (error path only)."""
    return int(_locate(con, scan, f"tags_raw = {quote_literal(raw)}", "tags_raw")[0])
