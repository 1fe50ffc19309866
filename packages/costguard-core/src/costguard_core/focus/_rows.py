"""Bad rows by number: the first one (the error of a refused file) and, in lenient mode with
``max_bad_rows``, every one set aside (:class:`RejectedRow`); lenient mode's other reports.

Row numbers need a single-threaded scan (``row_number() OVER ()`` in file order), so these run
only after the vectorized scan counted a bad row; correct files never pay for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from costguard_core.errors import InputError
from costguard_core.focus._lenient import ReadWarning
from costguard_core.focus._plan import Check, Plan, staged_sql

_ISO_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class FileScan:
    """A scanned file: its temp table of daily groups, line items summed, bad rows counted (not
    yet handled when non-zero), currencies, and the lenient repairs and rejections made.
    ``source`` is the FROM item, ``extra`` its pass-through columns, ``rn`` the row number."""

    table: str
    rows: int
    currencies: tuple[str, ...]
    source: str
    plan: Plan
    rn: str
    extra: tuple[str, ...] = ()
    warnings: tuple[ReadWarning, ...] = ()
    bad: int = 0
    rejected: tuple[RejectedRow, ...] = ()


@dataclass(frozen=True)
class RejectedRow:
    """A row set aside by ``read_daily(..., lenient=True, max_bad_rows=N)``: nothing of it is
    summed. ``row`` uses CSV numbering (header = 1; Parquet: first record = 1); ``field`` is the
    source column the first failing check names (None when the row's shape is wrong);
    ``cost_text`` is the row's raw text in ``cost_field`` (the column BilledCost is read from),
    exactly as given, None when empty or missing."""

    path: str
    row: int
    field: str | None
    reason: str
    cost_field: str
    cost_text: str | None

    def __str__(self) -> str:
        where = f"{self.path}: row {self.row}"
        if self.field is not None:
            where += f": field {self.field}"
        given = "empty or missing" if self.cost_text is None else repr(self.cost_text)
        return f"{where}: {self.reason} (not summed; {self.cost_field} as given: {given})"


def locate(
    con: duckdb.DuckDBPyConnection, scan: FileScan, predicate: str, cols: str, limit: int = 1
) -> list[tuple]:
    """``(rn, *cols)`` of the first ``limit`` rows matching ``predicate``, in file order."""
    # One thread keeps row_number() in file order; the caller resets it if it carries on.
    con.execute("SET threads = 1")
    cte = staged_sql(scan.plan, scan.source, scan.extra)
    sql = (
        f"{cte} SELECT rn, {cols} FROM (SELECT {scan.rn} AS rn, * FROM v) "
        f"WHERE {predicate} ORDER BY rn LIMIT {int(limit)}"
    )
    rows = con.execute(sql).fetchall()
    if not rows:  # pragma: no cover - the caller only asks after counting a match
        raise AssertionError("bad row counted but not found")
    return rows


def _reasons(con: duckdb.DuckDBPyConnection, scan: FileScan, limit: int, also: str = "") -> list:
    """``(rn, failing check, shown value, *also)`` for the first ``limit`` bad rows."""
    checks = scan.plan.all_checks()
    flags = ", ".join(f"chk_{i}" for i in range(len(checks)))
    values = ", ".join(c.value or "NULL" for c in checks)
    cols = f"{flags}, {values}" + (f", {also}" if also else "")
    out = []
    for row in locate(con, scan, "NOT ok", cols, limit):
        hits = row[1 : 1 + len(checks)]
        shown = row[1 + len(checks) : 1 + 2 * len(checks)]
        first = next(i for i, hit in enumerate(hits) if hit)
        out.append((row[0], checks[first], shown[first], *row[1 + 2 * len(checks) :]))
    return out


def _message(check: Check, value: object) -> str:
    return check.message if check.value is None else f"{check.message}: {value!r}"


def first_bad_row(
    con: duckdb.DuckDBPyConnection, scan: FileScan, path: str, note: str = ""
) -> InputError:
    """The InputError naming the first bad row, its field and why (``note`` appended)."""
    ((rn, check, value),) = _reasons(con, scan, 1)
    return InputError(_message(check, value) + note, path=path, row=rn, field=check.field)


def rejected_rows(
    con: duckdb.DuckDBPyConnection, scan: FileScan, path: str, limit: int
) -> tuple[RejectedRow, ...]:
    """Every bad row (at most ``limit``) with its reason and raw cost text; threads reset."""
    alias = scan.plan.cost_alias()
    try:
        found = _reasons(con, scan, limit, also=alias)
    finally:
        con.execute("RESET threads")
    cost_field = scan.plan.money[alias][0]
    return tuple(
        RejectedRow(path, rn, check.field, _message(check, value), cost_field, raw)
        for rn, check, value, raw in found
    )


def ignored_text(con: duckdb.DuckDBPyConnection, scan: FileScan, path: str) -> list[ReadWarning]:
    """Lenient mode: one warning per money column holding non-numbers only on rows whose cost
    does not read it (``Plan.ignored_checks``), with the count and the first row and value."""
    checks = scan.plan.ignored_checks()
    if not checks:
        return []
    sums = ", ".join(f"sum(n_ign_{i})" for i in range(len(checks)))
    counts = con.execute(f"SELECT {sums} FROM {scan.table}").fetchone() or ()
    warnings = []
    try:
        for i, (check, count) in enumerate(zip(checks, counts, strict=True)):
            if count:
                ((rn, value),) = locate(con, scan, f"ok AND ign_{i}", check.value or "NULL")
                warnings.append(
                    ReadWarning(
                        path,
                        rn,
                        int(count),
                        f"field {check.field}: ignored text that is not a number on {count} "
                        f"row(s) whose cost does not read this column (first: {value!r}); "
                        "strict mode refuses it",
                    )
                )
    finally:
        con.execute("RESET threads")
    return warnings


def currency_warnings(scan: FileScan, path: str) -> list[ReadWarning]:
    """Lenient mode keeps a currency that is not an ISO 4217-style code as given, and says so."""
    return [
        ReadWarning(
            path,
            None,
            scan.rows,
            f"{scan.plan.currency_field} {currency!r} is not an ISO 4217 code; kept as given "
            "(never converted or guessed)",
        )
        for currency in scan.currencies
        if not _ISO_CODE.fullmatch(currency)
    ]
