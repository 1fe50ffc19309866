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
from costguard_core.focus._lenient import (
    ReadWarning,
    census,
    padded_source,
    rewrite_line_endings,
    structure_checks,
)
from costguard_core.focus._plan import (
    ISO_CURRENCY,
    TEXT_COLUMNS,
    Columns,
    Granularity,
    Plan,
    quote_literal,
    staged_sql,
)
from costguard_core.focus._rows import (
    FileScan,
    currency_warnings,
    first_bad_row,
    ignored_text,
    locate,
    rejected_rows,
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


# Header is row 1, so the first data row is 2 (see InputError).
_ROW_NUMBER = "row_number() OVER () + 1"

_PLANS = {
    "focus": focus_plan,
    "aws-cur": cur_plan,
    "azure": azure_plan,
    "oci": oci_plan,
    "gcp": gcp_plan,
    "gcp-legacy": gcp_legacy_plan,
}


@dataclass(frozen=True)
class _CsvInput:
    """What DuckDB reads for a CSV file: the file itself or a repaired temp copy, and how."""

    path: str
    compressed: bool
    pad: bool = False
    extra: int = 0  # columns read beyond the header when padding (rows longer than it)


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
    if csv.pad:  # lenient mode only
        return padded_source(header, csv.path, csv.compressed, csv.extra), ("_nf",), _ROW_NUMBER
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header.columns)))
    src = (
        f"read_csv({quote_literal(csv.path)}, columns={{{columns}}}, header=true, "
        "auto_detect=false, delim=',', quote='\"', escape='\"', strict_mode=true, "
        f"null_padding=false, nullstr=['NULL', ''], "
        f"compression='{'gzip' if csv.compressed else 'none'}')"
    )
    return src, (), _ROW_NUMBER


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


def _create(
    con: duckdb.DuckDBPyConnection,
    table: str,
    plan: Plan,
    source: str,
    extra: tuple[str, ...],
    where: str = "",
) -> None:
    dims = ", ".join(TEXT_COLUMNS)
    sql = (
        f"CREATE TEMP TABLE {table} AS {staged_sql(plan, source, extra)}"
        f"SELECT day, {dims}, tags_raw, sum(BilledCost) AS BilledCost, "
        "sum(EffectiveCost) AS EffectiveCost, "
        # A day's ListCost is only known when every line item in it has one.
        "CASE WHEN count(ListCost) = count(*) THEN sum(ListCost) END AS ListCost, "
        "count(*) AS n, count(*) FILTER (WHERE NOT ok) AS n_bad "
        + "".join(
            f", count(*) FILTER (WHERE ign_{i}) AS n_ign_{i} "
            for i in range(len(plan.ignored_checks()))
        )
        + f"FROM v {where}GROUP BY day, {dims}, tags_raw"
    )
    con.execute(sql)


def _counts(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    # An aggregate without GROUP BY always returns exactly one row.
    rows, bad = con.execute(f"SELECT sum(n), sum(n_bad) FROM {table}").fetchone() or (0, 0)
    return int(rows or 0), int(bad or 0)


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    header: Header,
    path: str,
    table: str,
    plan: Plan,
    csv: _CsvInput,
) -> FileScan:
    """One attempt at the file as ``csv`` says; _Structural for a defect lenient mode repairs.
    Bad rows are counted (``FileScan.bad``), not yet reported."""
    source, extra, rn = _source(header, path, csv)
    try:
        _create(con, table, plan, source, extra)
    except duckdb.Error as exc:
        error = _translate(exc, path)
        text = str(exc)
        if _CSV_STATE in text:
            raise _Structural("line-endings", error) from exc
        if _CSV_LINE.search(text) and _FIELD_COUNT.search(text):
            raise _Structural("fields", error) from exc
        raise error from exc
    try:
        rows, bad = _counts(con, table)
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc
    if not rows:
        raise InputError("no data rows after the header", path=path)
    return FileScan(table, rows, (), source, plan, rn, extra, bad=bad)


def _settle(
    con: duckdb.DuckDBPyConnection, scan: FileScan, path: str, max_bad_rows: int
) -> FileScan:
    """Refuse the file for its first bad row, or (at most ``max_bad_rows`` bad rows) list them
    as rejected and sum the file again without them; then check it has one currency."""
    try:
        if scan.bad:
            if scan.bad > max_bad_rows or scan.bad == scan.rows:
                note = ""
                if scan.bad == scan.rows and max_bad_rows:
                    note = f" (all {scan.rows} data rows are bad)"
                elif max_bad_rows:
                    note = f" ({scan.bad} bad rows of {scan.rows}; max_bad_rows is {max_bad_rows})"
                raise first_bad_row(con, scan, path, note)
            rejected = rejected_rows(con, scan, path, scan.bad)
            con.execute(f"DROP TABLE {scan.table}")
            _create(con, scan.table, scan.plan, scan.source, scan.extra, "WHERE ok ")
            rows, _ = _counts(con, scan.table)
            scan = replace(scan, rows=rows, bad=0, rejected=rejected)
        currencies = tuple(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT BillingCurrency FROM {scan.table} ORDER BY 1"
            ).fetchall()
        )
        if len(currencies) > 1:
            first = locate(con, scan, "ok", "BillingCurrency")[0][1]
            other = locate(
                con, scan, f"ok AND BillingCurrency <> {quote_literal(first)}", "BillingCurrency"
            )[0]
            raise InputError(
                f"more than one currency in one file: {', '.join(currencies)} "
                f"(row {other[0]} is {other[1]}, earlier rows are {first})",
                path=path,
                row=other[0],
                field=scan.plan.currency_field,
            )
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc
    return replace(scan, currencies=currencies)


def scan_file(
    con: duckdb.DuckDBPyConnection,
    header: Header,
    path: str,
    index: int,
    *,
    lenient: bool = False,
    max_bad_rows: int = 0,
    granularity: Granularity = "day",
    workdir: str | None = None,
) -> FileScan:
    """Aggregate ``path`` into temp table ``cg_agg_<index>``; raise InputError on bad input.

    Strict (the default) reads the file as it is. ``lenient`` repairs, only after a strict read
    failed on them, mixed CRLF/LF line endings (a normalised temp copy in ``workdir``) and rows
    missing trailing fields (padded with NULL, then checked row by row); keeps a non-ISO
    currency as given; and sets aside up to ``max_bad_rows`` bad rows (``FileScan.rejected``)
    instead of refusing the file. See ``_lenient``. Each repair is in ``FileScan.warnings``.
    """
    names = legacy_names(header.columns) if header.format == "aws-cur" else header.columns
    plan = replace(_PLANS[header.format](Columns(names, path)), granularity=granularity)
    if lenient:
        checks = [c for c in plan.checks if c.tag != ISO_CURRENCY]
        plan = replace(plan, checks=checks, relaxed=True)
    csv = _CsvInput(path, header.compressed)
    warnings: list[ReadWarning] = []
    while True:
        try:
            scan = _aggregate(con, header, path, f"cg_agg_{index}", plan, csv)
            break
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
                csv = replace(csv, path=rewritten[0], compressed=False)
                warnings.append(rewritten[1])
            elif exc.kind == "fields" and not csv.pad:
                try:
                    found = census(con, header, path, csv.path, csv.compressed)
                except duckdb.Error as err:
                    raise exc.error from err
                if found is None:  # pragma: no cover - a field-count error means a short/long row
                    raise exc.error from exc.__cause__
                warnings += found.warnings
                csv = replace(csv, pad=True, extra=found.extra)
                plan = replace(plan, structure=structure_checks(plan, names))
            else:
                raise exc.error from exc.__cause__
    scan = _settle(con, scan, path, max_bad_rows if lenient else 0)
    if lenient:
        warnings += ignored_text(con, scan, path) + currency_warnings(scan, path)
    return replace(scan, warnings=tuple(warnings))


def locate_tags(con: duckdb.DuckDBPyConnection, scan: FileScan, raw: str) -> int:
    """Row number of the first row whose raw Tags text is ``raw`` (error path only)."""
    return int(locate(con, scan, f"tags_raw = {quote_literal(raw)}", "tags_raw")[0][0])
