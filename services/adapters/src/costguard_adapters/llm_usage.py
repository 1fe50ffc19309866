"""``llm-usage``: LLM API usage from a file (JSON list or JSON lines of
:class:`costguard_core.llm_pricing.LlmUsage` records), priced from the repo's model price
table when a record gives tokens only. The backend's ``POST /api/v1/llm-usage`` takes the
same records pushed by a gateway instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from costguard_core.errors import InputError
from costguard_core.llm_pricing import LlmUsage, UnknownModel, usage_rows
from costguard_core.models import CostRow
from pydantic import Field, ValidationError

from costguard_adapters.registry import Adapter, AdapterSettings, adapters, in_range


class LlmUsageSettings(AdapterSettings):
    paths: list[str] = Field(
        min_length=1, title="Usage files", description="JSON array or JSON-lines usage records."
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


@adapters.register("llm-usage")
class LlmUsageAdapter(Adapter):
    """LLM usage files as FOCUS rows (ServiceCategory "AI and Machine Learning")."""

    Settings = LlmUsageSettings

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        assert isinstance(self.settings, LlmUsageSettings)
        records: list[LlmUsage] = []
        for path in self.settings.paths:
            try:
                records += read_records(path)
                rows = usage_rows(records)
            except UnknownModel as exc:
                raise InputError(str(exc), path=path, field="model") from exc
        return [r for r in rows if in_range(r.ChargePeriodStart, start, end)]
