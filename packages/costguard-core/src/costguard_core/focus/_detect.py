"""Find out what a billing export is from its bytes and its header, never from its file name."""

from __future__ import annotations

import csv
import gzip
import io
import os
import zlib
from dataclasses import dataclass
from typing import Literal

import duckdb

from costguard_core.errors import InputError

Format = Literal["focus", "aws-cur", "azure", "oci", "gcp", "gcp-legacy"]
Container = Literal["csv", "parquet"]

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"

# A header is a legacy AWS CUR when it has at least two of these; two so that a CUR that lost
# one column (say lineItem/UnblendedCost) is still recognised and reported as missing that column.
_CUR_MARKERS = frozenset(
    {
        "identity/LineItemId",
        "bill/PayerAccountId",
        "lineItem/LineItemType",
        "lineItem/UsageStartDate",
        "lineItem/UnblendedCost",
        "lineItem/UsageAccountId",
        "lineItem/ProductCode",
    }
)
# A FOCUS header has ChargePeriodStart and at least two of these (same reasoning as above).
_FOCUS_MARKERS = frozenset(
    {
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "BillingCurrency",
        "ChargeCategory",
        "ServiceName",
        "ProviderName",
        "ServiceProviderName",
        "BillingPeriodStart",
        "ChargePeriodEnd",
    }
)


@dataclass(frozen=True)
class Header:
    """What :func:`read_header` found: the format, container, gzip flag and the column names."""

    format: Format
    container: Container
    compressed: bool
    columns: tuple[str, ...]


def _magic(path: str) -> bytes:
    if not os.path.exists(path):
        raise InputError("file not found", path=path)
    if os.path.isdir(path):
        raise InputError("is a directory, not a file", path=path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not head:
        raise InputError("empty file", path=path)
    return head


def _csv_header(path: str, compressed: bool) -> tuple[str, ...]:
    raw = gzip.open(path, "rb") if compressed else open(path, "rb")  # noqa: SIM115
    # utf-8-sig drops a byte-order mark so the first column name matches.
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        try:
            first = next(csv.reader(text), None)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot decompress gzip data: {exc}", path=path) from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"header is not UTF-8 text: {exc.reason}", path=path, row=1) from exc
        except csv.Error as exc:
            raise InputError(f"header is not valid CSV: {exc}", path=path, row=1) from exc
    if first is None or not any(name.strip() for name in first):
        raise InputError("empty file (no header)", path=path)
    return tuple(name.strip() for name in first)


def _parquet_header(path: str) -> tuple[str, ...]:
    try:
        with duckdb.connect() as con:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"not a readable Parquet file: {exc}", path=path) from exc
    return tuple(str(r[0]) for r in rows)


# CUR 2.0 (Data Exports) and Athena-style CUR write the same columns in snake_case.
_CUR_SNAKE_MARKERS = frozenset(
    {
        "identity_line_item_id",
        "bill_payer_account_id",
        "line_item_line_item_type",
        "line_item_usage_start_date",
        "line_item_unblended_cost",
        "line_item_usage_account_id",
        "line_item_product_code",
    }
)
_AZURE_DAY = frozenset({"date", "usagedatetime", "usagedate"})
_AZURE_COST = frozenset({"costinbillingcurrency", "cost", "pretaxcost"})


def classify(columns: tuple[str, ...]) -> Format | None:
    """The export format a header's column names say, ``None`` when none matches.

    ``focus`` is checked first: a FOCUS export from any provider (AWS FOCUS_1_2_AWS, Azure
    FocusCost, GCP's FOCUS view, OCI FOCUS reports) is read as FOCUS, never as its native format.
    """
    names = set(columns)
    lower = {n.lower() for n in columns}
    if "ChargePeriodStart" in names and len(names & _FOCUS_MARKERS) >= 2:
        return "focus"
    if len(names & _CUR_MARKERS) >= 2 or len(names & _CUR_SNAKE_MARKERS) >= 2:
        return "aws-cur"
    if "lineItem/intervalUsageStart" in names and "cost/myCost" in names:
        return "oci"
    if {"usage_start_time", "service.description", "cost"} <= names:
        return "gcp"
    if {"Line Item", "Start Time", "Cost"} <= names:
        return "gcp-legacy"
    if lower & _AZURE_DAY and lower & _AZURE_COST and "metercategory" in lower:
        return "azure"
    return None


def read_header(path: str) -> Header:
    """Sniff ``path``: gzip from its magic bytes, Parquet from ``PAR1``, format from column names.

    Raises InputError for a missing, empty or unreadable file and for a header that is neither
    FOCUS nor legacy AWS CUR.
    """
    head = _magic(path)
    compressed = head.startswith(_GZIP_MAGIC)
    if head.startswith(_PARQUET_MAGIC):
        container: Container = "parquet"
        columns = _parquet_header(path)
    else:
        container = "csv"
        columns = _csv_header(path, compressed)
    fmt = classify(columns)
    if fmt is None:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise InputError(
            "unknown header (not FOCUS, AWS CUR, Azure cost details, GCP billing export or "
            f"OCI cost report); columns: {shown}",
            path=path,
            row=1 if container == "csv" else None,
        )
    return Header(format=fmt, container=container, compressed=compressed, columns=columns)


def detect_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """Return ``(format, compressed)``: format one of ``Format``, compressed when gzip.

    Decided from the file's magic bytes and header, not its name. Raises InputError.
    """
    header = read_header(os.fspath(path))
    return header.format, header.compressed
