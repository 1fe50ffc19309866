"""``llm-usage``: LLM API usage from a file (JSON list or JSON lines of
:class:`costguard_core.llm_pricing.LlmUsage` records), priced from the repo's model price
table when a record gives tokens only. The backend's ``POST /api/v1/llm-usage`` takes the
same records pushed by a gateway instead, and both turn them into rows the same way: records
with a ``timestamp`` are summed per UTC hour and leaf into hourly rows
(``usage_hourly_rows``; the poller posts them to ``ingest-hourly``), records with only a
``day`` per UTC day into daily rows (``usage_rows``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from costguard_core.errors import InputError
from costguard_core.llm_pricing import (
    LlmUsage,
    MixedGranularity,
    UnknownModel,
    split_by_granularity,
    usage_hourly_rows,
    usage_rows,
)
from costguard_core.models import CostRow
from pydantic import Field, ValidationError

from costguard_adapters.registry import Adapter, AdapterSettings, adapters, in_range, row_day


class LlmUsageSettings(AdapterSettings):
    paths: list[str] = Field(
        min_length=1,
        title="Usage files",
        description="JSON array or JSON-lines usage records. Records with a timestamp become "
        "hourly rows (UTC hour), records with only a day daily rows; a day-only record for a "
        "day and leaf (provider, model, project, tags) that also has timestamped records is an "
        "error (that day is the sum of its hours).",
    )


def read_records(path: str) -> list[LlmUsage]:
    """Records of one file; InputError naming the file, record (1-based) and field."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        items = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", path=path, row=exc.lineno) from exc
    records = []
    for i, item in enumerate(items, start=1):
        try:
            records.append(LlmUsage.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            raise InputError(err["msg"], path=path, row=i, field=field) from exc
    return records


def split_records(
    records: list[tuple[str, int, LlmUsage]],
) -> tuple[list[LlmUsage], list[LlmUsage]]:
    """``(day-only records, timestamped records)`` of ``(path, record number, record)``.

    Raises InputError naming file, record and field ``model`` for a record that must be priced
    and cannot (:class:`UnknownModel`), and field ``day`` for a day-only record whose day and
    leaf also have a timestamped record (the backend's ``POST /llm-usage`` refuses the same).
    """
    try:
        return split_by_granularity([record for _, _, record in records])
    except UnknownModel as exc:
        path, number, _ = records[exc.index or 0]
        raise InputError(str(exc), path=path, row=number, field="model") from exc
    except MixedGranularity as exc:
        path, number, _ = records[exc.index]
        other_path, other, _ = records[exc.hourly_index]
        raise InputError(
            f"record {other} of {other_path} gives an hour of the same day, provider, model, "
            "project and tags; a day given by hours is the sum of its hours: give this record "
            "a timestamp too",
            path=path,
            row=number,
            field="day",
        ) from None


@adapters.register("llm-usage")
class LlmUsageAdapter(Adapter):
    """LLM usage files as FOCUS rows (ServiceCategory "AI and Machine Learning"): hourly rows
    for timestamped records, daily rows for day-only ones."""

    Settings = LlmUsageSettings

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        assert isinstance(self.settings, LlmUsageSettings)
        records = [
            (path, number, record)
            for path in self.settings.paths
            for number, record in enumerate(read_records(path), start=1)
        ]
        daily, hourly = split_records(records)
        rows: list[CostRow] = [*usage_rows(daily), *usage_hourly_rows(hourly)]
        return [r for r in rows if in_range(row_day(r), start, end)]
