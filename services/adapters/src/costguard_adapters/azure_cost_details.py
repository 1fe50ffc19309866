"""The Cost Details API (Generate Cost Details Report) to FOCUS daily rows.

``POST {scope}/providers/Microsoft.CostManagement/generateCostDetailsReport`` with
``{"metric": "ActualCost" | "AmortizedCost", "timePeriod": {"start", "end"}}`` answers 202 with
``Location`` and ``Retry-After``; polling ``Location`` answers 202 until the report is ready, then
200 with ``{"status": "Completed" | "NoDataFound" | "Failed", "manifest": {"dataFormat": "Csv",
"blobCount", "blobs": [{"blobLink", "byteCount"}]}, "error": {...}}`` (REST examples
GenerateCostDetailsReportBySubscriptionAndTimePeriod.json,
CostDetailsOperationResultsBySubscriptionScope.json). azure-mgmt-costmanagement's
``generate_cost_details_report.begin_create_operation`` does the POST and the polling (its
poller polls once at once, then waits each 202's Retry-After, else the client's
``polling_interval``). Each blob is a CSV
with the columns of the EA/MCA cost-details exports: it is downloaded with a plain GET on its
SAS link (no bearer token) and read by the core reader like an exported file, so money stays
the CSV's exact decimal text and the currency is kept as given.

One request may cover one month or less (CostDetailsTimePeriod: "1 month or less and no older
than 13 months"), so a longer range is asked month by calendar month.
"""

from __future__ import annotations

import calendar
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from costguard_core.errors import InputError
from costguard_core.models import CostRow

from costguard_adapters.registry import read_exports

#: ``cost_type`` (any casing) -> the request's ``metric``.
METRICS = {"actualcost": "ActualCost", "amortizedcost": "AmortizedCost"}


def month_chunks(start: date, end: date) -> Iterator[tuple[date, date]]:
    """``[start, end]`` (UTC days, both included) cut at calendar-month boundaries."""
    first = start
    while first <= end:
        last_day = calendar.monthrange(first.year, first.month)[1]
        last = min(end, first.replace(day=last_day))
        yield first, last
        first = last + timedelta(days=1)


def _text(value: Any) -> str:
    """An SDK enum's value (``str()`` of a str-Enum is its class and member name)."""
    return str(getattr(value, "value", value) or "")


def report_blobs(client: Any, scope: str, metric: str, first: date, last: date) -> list[Any]:
    """Generate the report of ``[first, last]`` (one month or less) and return its blobs
    (``BlobInfo``: ``blob_link``, ``byte_count``); [] for a 204 or status NoDataFound.

    Raises InputError naming the scope and the month for an error response (any HTTP error
    the SDK raises, after its own retries of 408/429/5xx), status Failed (with the report's error
    code and message), an unknown status, a data format other than Csv, or a manifest whose
    blobCount differs from its list of blobs."""
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.costmanagement.models import (
        CostDetailsTimePeriod,
        GenerateCostDetailsReportRequestDefinition,
    )

    def bad(why: str) -> InputError:
        return InputError(f"cost details report {first:%Y-%m} ({first}..{last}): {why}", path=scope)

    request = GenerateCostDetailsReportRequestDefinition(
        metric=metric,
        time_period=CostDetailsTimePeriod(start=first.isoformat(), end=last.isoformat()),
    )
    try:
        poller = client.generate_cost_details_report.begin_create_operation(
            scope.lstrip("/"), request
        )
        result = poller.result()
    except HttpResponseError as exc:
        error = exc.error
        detail = f"{error.code}: {error.message}" if error else exc.reason
        raise bad(f"HTTP {exc.status_code}: {detail}") from exc
    if result is None:  # 204: no cost in the range
        return []
    status = _text(result.status)
    if status.lower() == "nodatafound":
        return []
    if status.lower() != "completed" or result.error:
        error = result.error
        detail = f": {error.code}: {error.message}" if error else ""
        raise bad(f"status {status or 'missing'}{detail}")
    manifest = result.manifest
    blobs = list(manifest.blobs or []) if manifest else []
    if manifest and _text(manifest.data_format or "Csv").lower() != "csv":
        raise bad(f"data format {_text(manifest.data_format)!r}, not Csv")
    if manifest and manifest.blob_count is not None and manifest.blob_count != len(blobs):
        raise bad(f"manifest lists {len(blobs)} blobs but blobCount is {manifest.blob_count}")
    return blobs


def download(http: httpx.Client, blob: Any, path: Path, where: str) -> None:
    """Write the blob's bytes as stored (a gzip blob stays gzip: the reader detects it) to
    ``path``. Raises InputError naming ``where`` for an HTTP error, a transport error, or a
    size other than the manifest's byteCount (a truncated download would drop rows)."""
    link = blob.blob_link
    if not link:
        raise InputError("no blobLink", path=where)
    size = 0
    try:
        with http.stream("GET", link) as resp, path.open("wb") as out:
            if resp.status_code != 200:
                raise InputError(f"download answered HTTP {resp.status_code}", path=where)
            for chunk in resp.iter_raw():
                out.write(chunk)
                size += len(chunk)
    except httpx.HTTPError as exc:
        why = str(exc).replace(urlsplit(link).query or link, "<SAS>")  # never show the signature
        raise InputError(f"download failed: {type(exc).__name__}: {why}", path=where) from exc
    if blob.byte_count is not None and size != blob.byte_count:
        raise InputError(f"downloaded {size} bytes, manifest says {blob.byte_count}", path=where)


def cost_details_rows(
    client: Any,
    scope: str,
    metric: str,
    start: date,
    end: date,
    *,
    lenient: bool,
    max_bad_rows: int,
) -> list[CostRow]:
    """Daily FOCUS rows of every report blob of ``[start, end]`` (one report per calendar
    month), all blobs read together by :func:`costguard_adapters.registry.read_exports` (so a
    day and leaf split across blobs is one row). ``metric``: ActualCost or AmortizedCost.

    Raises InputError as :func:`report_blobs` and :func:`download` do, and as the reader does,
    naming ``<scope> cost details <month> blob <n>/<count> (<blob path>)`` instead of the
    temporary file (the blob's SAS query is a credential and is never shown)."""
    names: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="costguard-cost-details-") as tmp,
        httpx.Client(timeout=httpx.Timeout(120, connect=20)) as http,
    ):
        for first, last in month_chunks(start, end):
            blobs = report_blobs(client, scope, metric, first, last)
            for n, blob in enumerate(blobs, 1):
                path = Path(tmp) / f"{first:%Y-%m}-{n}.csv"
                blob_path = urlsplit(blob.blob_link or "").path
                where = f"{scope} cost details {first:%Y-%m} blob {n}/{len(blobs)} ({blob_path})"
                download(http, blob, path, where)
                names[str(path)] = where
        if not names:
            return []
        try:
            return read_exports(list(names), lenient=lenient, max_bad_rows=max_bad_rows)
        except InputError as err:
            if err.path not in names:
                raise
            raise InputError(
                err.message, path=names[err.path], row=err.row, field=err.field
            ) from err
