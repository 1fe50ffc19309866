"""``aws-cur``: AWS CUR (legacy), CUR 2.0 and FOCUS Data Exports from S3 or disk.

Objects under the prefix are streamed to a temporary directory with boto3's managed transfer
(never held in memory) and read by the core DuckDB reader, which detects each file's format
(CSV, gzip CSV or Parquet) from its bytes. Manifests and other non-data keys are skipped by
suffix, because a data export folder also holds ``*-Manifest.json`` files. ``granularity: hour``
gives hourly rows (CUR with hourly line items; FOCUS hourly exports).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import boto3
from costguard_core.models import CostRow
from pydantic import Field, model_validator

from costguard_adapters.registry import (
    Adapter,
    ExportSettings,
    adapters,
    in_range,
    read_exports,
    row_day,
)

_DATA_SUFFIXES = (".csv", ".csv.gz", ".gz", ".parquet", ".snappy.parquet")


class CurSettings(ExportSettings):
    bucket: str | None = Field(None, title="S3 bucket", description="Bucket of the export.")
    prefix: str = Field("", title="S3 prefix", description="Key prefix of the export's files.")
    paths: list[str] = Field(
        default_factory=list, title="Local files", description="Export files on disk instead."
    )
    region: str = Field("us-east-1", title="Region", description="The bucket's region.")
    endpoint_url: str | None = Field(
        None, title="Endpoint URL", description="S3 endpoint override (tests, MinIO)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> CurSettings:
        if bool(self.bucket) == bool(self.paths):
            raise ValueError("set exactly one of bucket or paths")
        return self


@adapters.register("aws-cur")
class CurAdapter(Adapter):
    """CUR / CUR 2.0 / FOCUS export files; InputError (naming file, row, field) on bad input."""

    Settings = CurSettings

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        s = self.settings
        assert isinstance(s, CurSettings)
        if s.paths:
            return self._read(s.paths, start, end)
        s3 = boto3.client("s3", region_name=s.region, endpoint_url=s.endpoint_url)
        with tempfile.TemporaryDirectory(prefix="costguard-cur-") as tmp:
            files: list[str] = []
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=s.bucket, Prefix=s.prefix
            ):
                for obj in page.get("Contents", []):
                    if obj["Key"].lower().endswith(_DATA_SUFFIXES):
                        local = Path(tmp) / f"{len(files)}-{Path(obj['Key']).name}"
                        s3.download_file(s.bucket, obj["Key"], str(local))
                        files.append(str(local))
            return self._read(files, start, end) if files else []

    def _read(self, paths: list[str], start: date | None, end: date | None) -> list[CostRow]:
        s = self.settings
        assert isinstance(s, CurSettings)
        rows = read_exports(
            paths, lenient=s.lenient, max_bad_rows=s.max_bad_rows, granularity=s.granularity
        )
        return [r for r in rows if in_range(row_day(r), start, end)]
