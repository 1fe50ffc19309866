"""Argument types shared by the tools: their patterns become the tools' input schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Google Cloud project ids: 6-30 of [a-z0-9-], starting with a letter; optionally domain-scoped.
ProjectId = Annotated[
    str, Field(pattern=r"^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$", max_length=300)
]
JobId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,1024}$")]
Location = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{1,39}$")]
Region = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
ResourceId = Annotated[str, Field(min_length=1, max_length=2048)]
InstanceType = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Endpoint = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)]
ModelName = Annotated[str, Field(min_length=1, max_length=200)]
Message = Annotated[str, Field(min_length=1, max_length=4000)]
DryRun = Annotated[bool, Field(description="Only plan the call (default); false executes it.")]
IdempotencyKey = Annotated[
    str | None, Field(default=None, max_length=300, description="Execute at most once per key.")
]
