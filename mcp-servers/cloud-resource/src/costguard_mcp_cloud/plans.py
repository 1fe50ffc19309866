"""The answer every tool gives: a ``CloudCallPlan``, the exact cloud call(s) a tool would make.

A plan names the provider, the service and operation as that provider's SDK or REST reference
spells them (boto3 operation names and parameter names for AWS; the documented REST method and
URL for Google Cloud and Azure), the request, and, for multi-step changes such as rightsizing,
the ordered ``steps``. ``permissions`` lists the IAM permissions / RBAC actions the call needs, so
an operator can scope the credential before real execution is switched on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Provider = Literal["aws", "gcp", "azure"]
LlmProvider = Literal["openai", "azure_openai", "aws_bedrock", "gcp_vertex_ai", "anthropic", "groq"]


class CloudCall(BaseModel):
    """One call: ``request`` is the boto3 keyword arguments (AWS) or ``{"method", "url",
    "body"?}`` for a REST call (Google Cloud, Azure)."""

    service: str
    operation: str
    request: dict[str, Any]
    note: str | None = None


class CloudCallPlan(BaseModel):
    """What a tool would do. ``service``/``operation``/``request`` are the decisive call (for a
        single-call action the only one); ``steps`` is the full ordered sequence. ``executed`` is
        ``True`` only after a real call (``dry_run=False`` for a provider in MCP_EXECUTE_PROVIDERS);
    then ``outcome`` holds ``{"did", "before", "after", "undo"}``."""

    provider: str
    service: str
    operation: str
    request: dict[str, Any]
    region: str | None = None
    steps: list[CloudCall] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    dry_run: bool = True
    executed: bool = False
    summary: str
    #: After a real call: what was done, the resource state around it, and the inverse call.
    outcome: dict[str, Any] | None = None
    idempotency_key: str | None = None
    #: The key was executed before: this is the stored answer, nothing was called again.
    replayed: bool = False


def single_call_plan(
    *,
    provider: str,
    call: CloudCall,
    summary: str,
    permissions: list[str],
    region: str | None = None,
) -> CloudCallPlan:
    """A plan with one call, repeated as its only step so consumers can always walk ``steps``."""
    return CloudCallPlan(
        provider=provider,
        service=call.service,
        operation=call.operation,
        request=call.request,
        region=region,
        steps=[call],
        permissions=permissions,
        summary=summary,
    )
