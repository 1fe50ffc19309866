"""``file``: FOCUS 1.0–1.2 and legacy AWS CUR exports on disk, read by the core DuckDB reader."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from costguard_core.focus import read_daily
from costguard_core.models import CostRow
from pydantic import BaseModel, Field

from costguard_adapters.registry import Adapter, adapters


class FileSettings(BaseModel):
    paths: list[str] = Field(
        min_length=1,
        title="Export files",
        description="Paths of FOCUS or CUR exports (CSV, gzip CSV or Parquet); format is detected.",
    )


@adapters.register("file")
class FileAdapter(Adapter):
    """Reads every configured file; raises costguard_core.errors.InputError on bad input."""

    Settings = FileSettings

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        assert isinstance(self.settings, FileSettings)
        for row in read_daily(self.settings.paths).to_cost_rows():
            if (start is None or row.ChargePeriodStart >= start) and (
                end is None or row.ChargePeriodStart <= end
            ):
                yield row
