"""``file`` and ``focus``: export files on disk read by the core DuckDB reader.

``file`` takes any format the reader detects (FOCUS, AWS CUR legacy/2.0, Azure cost details,
GCP billing export CSV, OCI cost report); ``focus`` insists every file is FOCUS 1.0-1.3 (any
provider: AWS FOCUS_1_2_AWS, Azure FocusCost, GCP FOCUS view, OCI FOCUS reports). Both give
daily rows, or hourly rows with ``granularity: hour``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from costguard_core.errors import InputError
from costguard_core.focus import detect_format
from costguard_core.models import CostRow
from pydantic import Field

from costguard_adapters.registry import (
    Adapter,
    ExportSettings,
    adapters,
    in_range,
    read_exports,
    row_day,
)


class FileSettings(ExportSettings):
    paths: list[str] = Field(
        min_length=1,
        title="Export files",
        description="Paths of billing exports (CSV, gzip CSV or Parquet); format is detected.",
    )


@adapters.register("file")
class FileAdapter(Adapter):
    """Reads every configured file; raises costguard_core.errors.InputError on bad input."""

    Settings = FileSettings

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        assert isinstance(self.settings, FileSettings)
        for row in read_exports(
            self.settings.paths,
            lenient=self.settings.lenient,
            max_bad_rows=self.settings.max_bad_rows,
            granularity=self.settings.granularity,
        ):
            if in_range(row_day(row), start, end):
                yield row


@adapters.register("focus")
class FocusAdapter(FileAdapter):
    """FOCUS 1.0-1.3 files from any provider; InputError for a file in another format."""

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        assert isinstance(self.settings, FileSettings)
        for path in self.settings.paths:
            fmt, _ = detect_format(path)
            if fmt != "focus":
                raise InputError(f"not a FOCUS file (detected {fmt})", path=path, row=1)
        return super().pull(start, end)
