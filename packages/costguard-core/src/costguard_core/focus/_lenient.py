"""Lenient-mode repairs of CSV exports: the two, and only two, structural defects it fixes.

1. Mixed CRLF/LF line endings: the file is streamed (1 MiB at a time, gzip decompressed) to a
   temporary copy with every CRLF written as LF. Nothing else changes; a CRLF inside a quoted
   text field becomes LF too (a number cannot hold a line break, so no cost is touched).
2. Rows missing TRAILING fields: the missing columns are read as NULL, but only when none of
   them is a column the mapping reads for money (a cost column, or a column a cost depends on:
   the CUR line item type and reservation ARN, the currency). Otherwise the read still fails,
   naming the file, the first such row and the column.

Every repair becomes a :class:`ReadWarning`; nothing is dropped. Strict mode never calls this.
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
from costguard_core.focus._plan import Plan, quote_literal

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


def money_columns(plan: Plan, header: tuple[str, ...]) -> set[str]:
    """Header names the plan reads for money: every cost input, the text columns the cost
    expressions depend on (``Plan.money_inputs``) and the currency."""
    exprs = [sql for _, sql in plan.money.values()]
    exprs += [plan.text[a] for a in (*plan.money_inputs, "BillingCurrency") if a in plan.text]
    found: set[str] = set()
    for sql in exprs:
        for pos in _POSITION.findall(_LITERAL.sub("", sql)):
            found.add(header[int(pos)])
    return found


def _rows_text(first: int, count: int, sample: list[int]) -> str:
    shown = ", ".join(str(r) for r in sample[:_SHOWN_ROWS])
    more = ", ..." if count > _SHOWN_ROWS else ""
    return f"{count} row{'s' if count != 1 else ''}: {shown}{more}"


def pad_short_rows(
    con: duckdb.DuckDBPyConnection,
    header: Header,
    plan: Plan,
    path: str,
    csv_path: str,
    compressed: bool,
) -> list[ReadWarning]:
    """Census of rows with fewer fields than the header; warnings for the ones padding may fix.

    Raises InputError naming the first row whose missing trailing columns include a money
    column (:func:`money_columns`). One single-threaded scan, run only after a strict read
    failed on a field count.
    """
    n = len(header.columns)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n))
    present = ", ".join(f"c{i} IS NOT NULL" for i in range(n))
    src = (
        f"read_csv({quote_literal(csv_path)}, columns={{{columns}}}, header=true, "
        "auto_detect=false, delim=',', quote='\"', escape='\"', strict_mode=true, "
        f"null_padding=true, parallel=false, nullstr={quote_literal(_NO_NULL)}, "
        f"compression='{'gzip' if compressed else 'none'}')"
    )
    sql = (
        f"WITH r AS (SELECT row_number() OVER () + 1 AS rn, "
        f"{n} + 1 - list_position(list_reverse([{present}]), true) AS fields FROM {src}) "
        f"SELECT fields, count(*), min(rn), list(rn ORDER BY rn)[1:{_SHOWN_ROWS}] "
        f"FROM r WHERE fields < {n} GROUP BY fields ORDER BY min(rn)"
    )
    groups = con.execute(sql).fetchall()
    money = money_columns(plan, header.columns)
    refused = [g for g in groups if money & set(header.columns[g[0] :])]
    if refused:
        fields, _, first, _ = min(refused, key=lambda g: g[2])
        missing = header.columns[fields:]
        hit = [c for c in missing if c in money]
        raise InputError(
            f"row has {fields} of {n} fields and the missing trailing columns include money "
            f"column(s) {', '.join(hit)}; lenient mode pads only non-money columns",
            path=path,
            row=first,
            field=hit[0],
        )
    warnings = []
    for fields, count, first, sample in groups:
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
    return warnings
