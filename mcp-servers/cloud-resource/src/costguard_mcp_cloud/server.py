"""The MCP server ``costguard-cloud-resource``: five remediation tools, each answering with a
:class:`~costguard_mcp_cloud.plans.CloudCallPlan` as structured content.

Every tool takes ``dry_run`` (default ``True``). This release only plans: ``dry_run=False`` is
answered with an error result (``is_error``) saying real execution is not enabled for that
provider, never with a pretend success. Bad arguments (wrong provider, malformed id) also come
back as error results naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from costguard_mcp_cloud.compute import rightsize_plan, stop_plan
from costguard_mcp_cloud.plans import CloudCallPlan, LlmProvider, Provider
from costguard_mcp_cloud.services import (
    cancel_bigquery_job_plan,
    notify_owner_plan,
    switch_llm_model_plan,
)

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
DryRun = Annotated[bool, Field(description="Only plan the call (the only mode in this release).")]

srv = MCPServer(
    "costguard-cloud-resource",
    instructions=(
        "Remediation tools for cloud cost anomalies. Each returns the exact cloud call it would "
        "make (a CloudCallPlan). Real execution is not enabled in this release: use dry_run=true."
    ),
)


@srv.custom_route("/healthz", methods=["GET"])
async def healthz(_: Request) -> JSONResponse:
    """Liveness for container health checks (``{"status": "ok"}``)."""
    return JSONResponse({"status": "ok"})


def _plan(provider: str, dry_run: bool, build: Callable[[], CloudCallPlan]) -> CloudCallPlan:
    if not dry_run:
        raise ToolError(
            f"real execution is not enabled for provider {provider!r} in this release; "
            "call again with dry_run=true to get the plan"
        )
    try:
        return build()
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


@srv.tool()
def cancel_bigquery_job(
    project_id: ProjectId, job_id: JobId, location: Location, dry_run: DryRun = True
) -> CloudCallPlan:
    """Cancel a running BigQuery job (REST jobs.cancel). Spend already incurred stays billed."""
    return _plan("gcp", dry_run, lambda: cancel_bigquery_job_plan(project_id, job_id, location))


@srv.tool()
def stop_instance(
    provider: Provider, resource_id: ResourceId, region: Region, dry_run: DryRun = True
) -> CloudCallPlan:
    """Stop a VM: EC2 StopInstances, Compute Engine instances.stop, Azure VM deallocate."""
    return _plan(provider, dry_run, lambda: stop_plan(provider, resource_id, region))


@srv.tool()
def rightsize_instance(
    provider: Provider,
    resource_id: ResourceId,
    region: Region,
    target_type: InstanceType,
    dry_run: DryRun = True,
) -> CloudCallPlan:
    """Change a VM's instance type / machine type / VM size: stop, change, start."""
    return _plan(
        provider, dry_run, lambda: rightsize_plan(provider, resource_id, region, target_type)
    )


@srv.tool()
def switch_llm_model(
    provider: LlmProvider,
    endpoint: Endpoint,
    current_model: ModelName,
    target_model: ModelName,
    dry_run: DryRun = True,
) -> CloudCallPlan:
    """Move an LLM workload to a cheaper model (a configuration change at ``endpoint``)."""
    return _plan(
        provider,
        dry_run,
        lambda: switch_llm_model_plan(provider, endpoint, current_model, target_model),
    )


@srv.tool()
def notify_owner(
    resource_id: ResourceId, message: Message, dry_run: DryRun = True
) -> CloudCallPlan:
    """Tell a resource's owner about an anomaly when no automatic remediation applies."""
    return _plan("costguard", dry_run, lambda: notify_owner_plan(resource_id, message))
