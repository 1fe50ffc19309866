"""Errors shared by the CostGuard readers and services."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: names the file and, where known, the row and the field.

    ``row`` counts records as a spreadsheet shows a CSV file: the header is row 1, so the first
    data row is row 2 (a quoted field that spans lines still counts as one row; for a CSV
    structure error DuckDB reports the physical line, which is the same unless an earlier field
    spans lines). A Parquet file has no header, so its first record is row 1.

    ``str(e)`` reads like ``"examples/data/x.csv: row 17: field BilledCost: not a number: 'abc'"``;
    the parts that are unknown are left out.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.row = row
        self.field = field
        parts = []
        if path is not None:
            parts.append(path)
        if row is not None:
            parts.append(f"row {row}")
        if field is not None:
            parts.append(f"field {field}")
        parts.append(message)
        super().__init__(": ".join(parts))
