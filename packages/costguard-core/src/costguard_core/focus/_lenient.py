"""Lenient-mode repairs of CSV exports: the two, and only two, structural defects it fixes.

1. Mixed CRLF/LF line endings: the file is streamed (1 MiB at a time, gzip decompressed) to a
   temporary copy with every CRLF written as LF. Nothing else changes; a CRLF inside a quoted
   text field becomes LF too (a number cannot hold a line break, so no cost is touched).
2. Rows missing TRAILING fields: the missing columns are read as NULL (:func:`padded_source`,
   which also gives each row its field count ``_nf``). A padded row then meets every normal
   check plus :func:`structure_checks`: it is bad when a column THIS row needs for its cost
   (``Plan.needed_when``) is missing, and a row with more fields than the header is bad too.

Every repair becomes a :class:`ReadWarning`; nothing is dropped silently (a bad row fails the
file or, with ``max_bad_rows``, is listed as rejected). Strict mode never calls this.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import zlib
from dataclasses import dataclass

import duckdb

from costguard_core.errors import InputError
from costguard_core.focus._detect import Header
from costguard_core.focus._plan import Check, Plan, quote_literal

_CHUNK = 1 << 20
#: ``nullstr`` for the short-row census: no real field equals it, so an empty field reads as
#: '' and only a padded (missing) field reads as NULL.
_NO_NULL = "\x01costguard-no-null\x01"
_SHOWN_ROWS = 10


@dataclass(frozen=True)
class ReadWarning:
    """One lenient repair: the file, the first row it applies to (CSV numbering: header = 1;
    ``None`` for the whole file), how many rows, and what was repaired."""

    path: str
    row: int | None
    rows: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: row {self.row}" if self.row is not None else self.path
        return f"{where}: {self.message}"


def rewrite_line_endings(
    path: str, compressed: bool, workdir: str
) -> tuple[str, ReadWarning] | None:
    """A temp copy of ``path`` (plain CSV) with CRLF written as LF, and the warning saying so.

    ``None`` when the file does not mix CRLF and LF line breaks (the caller then reports its
    original error). Streams the file; never holds more than ~1 MiB of it.
    """
    crlf = lf = 0
    fd, tmp = tempfile.mkstemp(dir=workdir, prefix="lf-", suffix=".csv")
    try:
        src = gzip.open(path, "rb") if compressed else open(path, "rb")  # noqa: SIM115
        with src, os.fdopen(fd, "wb") as dst:
            carry = b""
            while chunk := src.read(_CHUNK):
                data = carry + chunk
                # A CR at the chunk's end may be the first half of a CRLF: keep it for later.
                carry, data = (b"\r", data[:-1]) if data.endswith(b"\r") else (b"", data)
                pairs = data.count(b"\r\n")
                crlf += pairs
                lf += data.count(b"\n") - pairs
                dst.write(data.replace(b"\r\n", b"\n"))
            dst.write(carry)
    except (OSError, EOFError, zlib.error) as exc:
        os.unlink(tmp)
        raise InputError(f"cannot read file to normalise line endings: {exc}", path=path) from exc
    if not crlf or not lf:
        os.unlink(tmp)
        return None
    warning = ReadWarning(
        path,
        None,
        crlf + lf,
        f"mixed line endings normalised: {crlf} CRLF and {lf} LF line breaks, "
        "every CRLF rewritten as LF",
    )
    return tmp, warning


_POSITION = re.compile(r"\bc(\d+)\b")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
#: Extra columns the census allows beyond the header, after a first try with none.
_MIN_EXTRA = 64


def _needs(plan: Plan) -> dict[int, list[str]]:
    """Header position -> conditions under which a row needs that column for its cost: every
    money input except the nullable ones, the text columns the cost expressions read
    (``Plan.money_inputs``) and the currency, each under ``Plan.needed_when`` (default: always)."""
    exprs = [(alias, sql) for alias, (_, sql) in plan.money.items()]
    exprs += [(a, plan.text[a]) for a in (*plan.money_inputs, "BillingCurrency") if a in plan.text]
    found: dict[int, list[str]] = {}
    for alias, sql in exprs:
        if alias in plan.nullable:
            continue
        when = plan.needed_when.get(alias, "true")
        for pos in _POSITION.findall(_LITERAL.sub("", sql)):
            found.setdefault(int(pos), []).append(when)
    return found


def structure_checks(plan: Plan, names: tuple[str, ...]) -> list[Check]:
    """Row-shape checks for a padded read (over ``_nf``, the row's field count): more fields
    than the header, or a missing (padded) column this row needs for its cost."""
    n = len(names)
    checks = [
        Check(
            None,
            f"_nf > {n}",
            f"more fields than the header's {n} (lenient mode pads only missing trailing "
            "fields); fields found",
            "_nf",
        )
    ]
    for pos, whens in sorted(_needs(plan).items()):
        when = " OR ".join(f"({w})" for w in dict.fromkeys(whens))
        checks.append(
            Check(
                names[pos],
                f"_nf <= {pos} AND ({when})",
                f"missing from this short row (column {pos + 1} of {n}), and this row's cost "
                "needs it; fields found",
                "_nf",
            )
        )
    return checks


def _csv(path: str, columns: int, compressed: bool) -> str:
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(columns))
    # Padding needs the single-threaded reader: DuckDB's parallel scanner cannot pad rows when
    # quoted fields hold line breaks. No real field equals nullstr, so an empty field reads as
    # '' and only a padded (missing) field reads as NULL.
    return (
        f"read_csv({quote_literal(path)}, columns={{{cols}}}, header=true, auto_detect=false, "
        "delim=',', quote='\"', escape='\"', strict_mode=true, null_padding=true, "
        f"parallel=false, nullstr={quote_literal(_NO_NULL)}, "
        f"compression='{'gzip' if compressed else 'none'}')"
    )


def _field_count(columns: int) -> str:
    present = ", ".join(f"c{i} IS NOT NULL" for i in range(columns))
    return f"{columns} + 1 - list_position(list_reverse([{present}]), true)"


def padded_source(header: Header, path: str, compressed: bool, extra: int) -> str:
    """FROM item for a padded read: ``c0..cN-1`` as the strict read has them (``''`` and
    ``'NULL'`` are NULL, missing trailing fields too) plus ``_nf``, the row's field count.
    ``extra`` columns beyond the header are read so that a longer row is counted, not fatal."""
    n = len(header.columns)
    cols = ", ".join(
        f"CASE WHEN c{i} IN ('', 'NULL') THEN NULL ELSE c{i} END AS c{i}" for i in range(n)
    )
    width = n + extra
    return f"(SELECT {cols}, {_field_count(width)} AS _nf FROM {_csv(path, width, compressed)})"


def _census_sql(n: int, extra: int, csv_path: str, compressed: bool) -> str:
    return (
        f"WITH r AS (SELECT row_number() OVER () + 1 AS rn, {_field_count(n + extra)} "
        f"AS fields FROM {_csv(csv_path, n + extra, compressed)}) "
        f"SELECT fields, count(*), min(rn), list(rn ORDER BY rn)[1:{_SHOWN_ROWS}] "
        f"FROM r WHERE fields <> {n} GROUP BY fields ORDER BY min(rn)"
    )


def _rows_text(first: int, count: int, sample: list[int]) -> str:
    shown = ", ".join(str(r) for r in sample[:_SHOWN_ROWS])
    more = ", ..." if count > _SHOWN_ROWS else ""
    return f"{count} row{'s' if count != 1 else ''}: {shown}{more}"


@dataclass(frozen=True)
class Census:
    """Rows whose field count differs from the header's: one warning per short-row shape, and
    how many fields beyond the header the longest row has (0: none is longer)."""

    warnings: list[ReadWarning]
    extra: int


def census(
    con: duckdb.DuckDBPyConnection, header: Header, path: str, csv_path: str, compressed: bool
) -> Census | None:
    """Count fields per row (one single-threaded scan; a second with room for longer rows if
    one is longer); None when every row has the header's count. Raises duckdb.Error when the
    file cannot be read even so (the caller reports its original error)."""
    n = len(header.columns)
    con.execute("SET threads = 1")  # row_number() in file order
    try:
        try:
            groups = con.execute(_census_sql(n, 0, csv_path, compressed)).fetchall()
        except duckdb.Error:  # a row longer than the header: count again with room for it
            extra = max(n, _MIN_EXTRA)
            groups = con.execute(_census_sql(n, extra, csv_path, compressed)).fetchall()
    finally:
        con.execute("RESET threads")
    if not groups:
        return None
    warnings = []
    for fields, count, first, sample in groups:
        if fields > n:
            continue  # a structure check makes each such row bad
        missing = header.columns[fields:]
        warnings.append(
            ReadWarning(
                path,
                first,
                count,
                f"padded {len(missing)} missing trailing column(s) with NULL "
                f"({', '.join(missing)}) on {_rows_text(first, count, sample)}",
            )
        )
    return Census(warnings, max(0, max(g[0] for g in groups) - n))
