"""The MCP server ``costguard-cloud-resource``: five remediation tools, each answering with a
:class:`~costguard_mcp_cloud.plans.CloudCallPlan` as structured content.

Every tool takes ``dry_run`` (default ``True``) and an optional ``idempotency_key``.
``dry_run=False`` makes the real SDK call (``real.py``) only for providers listed in
``MCP_EXECUTE_PROVIDERS``; otherwise it is an error result (``is_error``) saying real execution
is not enabled, never a pretend success. With a key, a call runs at most once (``ledger.py``).
Bad arguments (wrong provider, malformed id) come back as error results naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import httpx
from azure.core.exceptions import AzureError
from botocore.exceptions import BotoCoreError, ClientError
from google.api_core.exceptions import GoogleAPIError
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from costguard_mcp_cloud import clouds, ledger, real
from costguard_mcp_cloud.argtypes import (
    DryRun,
    Endpoint,
    IdempotencyKey,
    InstanceType,
    JobId,
    Location,
    Message,
    ModelName,
    ProjectId,
    Region,
    ResourceId,
)
from costguard_mcp_cloud.compute import (
    _arm,
    _aws_instance,
    _azure_vm_url,
    rightsize_plan,
    stop_plan,
)
from costguard_mcp_cloud.plans import (
    CloudCall,
    CloudCallPlan,
    LlmProvider,
    Provider,
    single_call_plan,
)
from costguard_mcp_cloud.services import (
    cancel_bigquery_job_plan,
    notify_owner_plan,
    switch_llm_model_plan,
)

#: SDK errors that become error results (the message names the cloud's error).
CLOUD_ERRORS = (ValueError, BotoCoreError, ClientError, GoogleAPIError, AzureError, httpx.HTTPError)

srv = MCPServer(
    "costguard-cloud-resource",
    instructions=(
        "Remediation tools for cloud cost anomalies. Each returns the exact cloud call it would "
        "make (a CloudCallPlan). dry_run=false executes only for providers the operator enabled "
        "(MCP_EXECUTE_PROVIDERS); check_resource reports a resource's state before and after."
    ),
)


@srv.custom_route("/healthz", methods=["GET"])
async def healthz(_: Request) -> JSONResponse:
    """Liveness for container health checks (``{"status": "ok"}``)."""
    return JSONResponse({"status": "ok"})


def _plan(
    provider: str,
    dry_run: bool,
    build: Callable[[], CloudCallPlan],
    execute: Callable[[], dict[str, Any]] | None = None,
    idempotency_key: str | None = None,
) -> CloudCallPlan:
    if not dry_run and (execute is None or not real.enabled(provider)):
        raise ToolError(
            f"real execution is not enabled for provider {provider!r} (MCP_EXECUTE_PROVIDERS); "
            "call again with dry_run=true to get the plan"
        )

    def run() -> dict[str, Any]:
        plan = build()
        if not dry_run and execute is not None:
            plan = plan.model_copy(
                update={"dry_run": False, "executed": True, "outcome": execute()}
            )
        return plan.model_copy(update={"idempotency_key": idempotency_key}).model_dump()

    try:
        answer = ledger.once(idempotency_key, provider, run) if idempotency_key else run()
    except CLOUD_ERRORS as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from exc
    return CloudCallPlan.model_validate(answer)


def _one_call(
    *,
    provider: str,
    call: CloudCall,
    permissions: list[str],
    summary: str,
    execute: Callable[[], dict[str, Any]],
    dry_run: bool,
    idempotency_key: str | None,
    region: str | None = None,
) -> CloudCallPlan:
    """A tool whose plan is one cloud call: ``_plan`` over ``single_call_plan``."""
    return _plan(
        provider,
        dry_run,
        lambda: single_call_plan(
            provider=provider, call=call, region=region, permissions=permissions, summary=summary
        ),
        execute,
        idempotency_key,
    )


@srv.tool()
def cancel_bigquery_job(
    project_id: ProjectId,
    job_id: JobId,
    location: Location,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Cancel a running BigQuery job (REST jobs.cancel). Spend already incurred stays billed;
    no undo (a cancelled job cannot be resumed)."""
    return _plan(
        "gcp",
        dry_run,
        lambda: cancel_bigquery_job_plan(project_id, job_id, location),
        lambda: clouds.bigquery_cancel(project_id, job_id, location),
        idempotency_key,
    )


@srv.tool()
def stop_instance(
    provider: Provider,
    resource_id: ResourceId,
    region: Region,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Stop a VM: EC2 StopInstances, Compute Engine instances.stop, Azure VM deallocate.
    Undo: ``start_instance``. Real calls: AWS and Azure."""
    execute: Callable[[], dict[str, Any]] | None = None
    if provider == "aws":
        execute = lambda: real.ec2_set_running(_aws_instance(resource_id), region, running=False)  # noqa: E731
    elif provider == "azure":
        execute = lambda: clouds.azure_set_running(resource_id, region, running=False)  # noqa: E731
    return _plan(
        provider,
        dry_run,
        lambda: stop_plan(provider, resource_id, region),
        execute,
        idempotency_key,
    )


@srv.tool()
def start_instance(
    provider: Literal["aws", "azure"],
    resource_id: ResourceId,
    region: Region,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Start a stopped EC2 instance (StartInstances) or a deallocated Azure VM
    (virtualMachines.start); the undo of ``stop_instance``."""
    if provider == "azure":
        url = _azure_vm_url(resource_id)
        call = CloudCall(
            service="Microsoft.Compute",
            operation="virtualMachines.start",
            request={"method": "POST", "url": _arm(url, "start")},
        )
        return _one_call(
            provider="azure",
            call=call,
            region=region,
            permissions=["Microsoft.Compute/virtualMachines/start/action"],
            summary=f"Start Azure VM {url.rsplit('/', 1)[1]}.",
            execute=lambda: clouds.azure_set_running(resource_id, region, running=True),
            dry_run=dry_run,
            idempotency_key=idempotency_key,
        )
    iid = _aws_instance(resource_id)
    call = CloudCall(service="ec2", operation="StartInstances", request={"InstanceIds": [iid]})
    return _one_call(
        provider="aws",
        call=call,
        region=region,
        permissions=["ec2:StartInstances"],
        summary=f"Start EC2 instance {iid} in {region}.",
        execute=lambda: real.ec2_set_running(iid, region, running=True),
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


@srv.tool()
def set_lambda_limits(
    function_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_:.-]{1,170}$")],
    region: Region,
    memory_mb: Annotated[int | None, Field(ge=128, le=10240)] = None,
    reserved_concurrency: Annotated[int | None, Field(ge=0)] = None,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Set a Lambda function's memory (MB) and/or reserved concurrency; undo restores both."""
    request = {
        "FunctionName": function_name,
        "MemorySize": memory_mb,
        "ReservedConcurrentExecutions": reserved_concurrency,
    }
    call = CloudCall(service="lambda", operation="UpdateFunctionConfiguration", request=request)
    return _one_call(
        provider="aws",
        call=call,
        region=region,
        permissions=["lambda:UpdateFunctionConfiguration", "lambda:PutFunctionConcurrency"],
        summary=f"Limit Lambda {function_name}: memory {memory_mb}, "
        f"reserved concurrency {reserved_concurrency}.",
        execute=lambda: real.lambda_configure(
            function_name, region, memory_mb, reserved_concurrency
        ),
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


@srv.tool()
def delete_idle_volume(
    volume_id: Annotated[str, Field(pattern=r"^vol-[0-9a-f]{8,17}$")],
    region: Region,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Snapshot an unattached EBS volume, then delete it; undo: ``restore_volume``."""
    call = CloudCall(service="ec2", operation="DeleteVolume", request={"VolumeId": volume_id})
    return _one_call(
        provider="aws",
        call=call,
        region=region,
        permissions=["ec2:CreateSnapshot", "ec2:DeleteVolume"],
        summary=f"Snapshot then delete idle EBS volume {volume_id}.",
        execute=lambda: real.ebs_snapshot_and_delete(volume_id, region),
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


@srv.tool()
def restore_volume(
    snapshot_id: Annotated[str, Field(pattern=r"^snap-[0-9a-f]{8,17}$")],
    region: Region,
    availability_zone: Region,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Create a volume from a snapshot (the undo of ``delete_idle_volume``)."""
    call = CloudCall(
        service="ec2",
        operation="CreateVolume",
        request={"SnapshotId": snapshot_id, "AvailabilityZone": availability_zone},
    )
    return _one_call(
        provider="aws",
        call=call,
        region=region,
        permissions=["ec2:CreateVolume"],
        summary=f"Restore a volume from {snapshot_id} in {availability_zone}.",
        execute=lambda: real.ebs_restore(snapshot_id, region, availability_zone),
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


@srv.tool()
def rightsize_instance(
    provider: Provider,
    resource_id: ResourceId,
    region: Region,
    target_type: InstanceType,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Change a VM's instance type / machine type / VM size: stop, change, start.
    Undo: the same tool with the previous type."""
    execute = (
        (lambda: real.ec2_resize(_aws_instance(resource_id), region, target_type))
        if provider == "aws"
        else None
    )
    return _plan(
        provider,
        dry_run,
        lambda: rightsize_plan(provider, resource_id, region, target_type),
        execute,
        idempotency_key,
    )


@srv.tool()
def switch_llm_model(
    provider: LlmProvider,
    endpoint: Endpoint,
    current_model: ModelName,
    target_model: ModelName,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Move an LLM workload to a cheaper model (a configuration change at ``endpoint``); real
    execution (provider ``llm`` opted in) sets the route in the project's route store."""
    return _plan(
        "llm" if not dry_run else provider,
        dry_run,
        lambda: switch_llm_model_plan(provider, endpoint, current_model, target_model),
        lambda: real.llm_switch(endpoint, current_model, target_model),
        idempotency_key,
    )


@srv.tool()
def notify_owner(
    resource_id: ResourceId, message: Message, dry_run: DryRun = True
) -> CloudCallPlan:
    """Tell a resource's owner about an anomaly when no automatic remediation applies."""
    return _plan("costguard", dry_run, lambda: notify_owner_plan(resource_id, message))
