"""More tools on the same server: ``check_resource`` (the executor's pre-check, health check and
end-state verification), the BigQuery bytes-billed cap, and Vultr halt / start."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from costguard_mcp_cloud import bq_caps, checks, clouds
from costguard_mcp_cloud.argtypes import DryRun, IdempotencyKey, ProjectId
from costguard_mcp_cloud.plans import CloudCall, CloudCallPlan, single_call_plan
from costguard_mcp_cloud.server import CLOUD_ERRORS, _one_call, _plan, srv

VULTR_API = "https://api.vultr.com/v2"
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
VultrId = Annotated[str, Field(pattern=_UUID)]
UserEmail = Annotated[str | None, Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")]


@srv.tool()
def check_resource(tool: str, arguments: dict[str, Any]) -> checks.ResourceCheck:
    """State of the resource ``tool`` would act on with ``arguments``: exists, state, ``done``
    (already in the state the tool produces), ``permitted`` (EC2 DryRun probe; None where the
    cloud has no probe). ``checked`` is false, and nothing is contacted, for a provider without
    real execution. Read-only."""
    try:
        return checks.check(tool, arguments)
    except KeyError as exc:
        raise ToolError(f"check_resource({tool}): missing argument {exc}") from exc
    except CLOUD_ERRORS as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from exc


@srv.tool()
def set_bigquery_bytes_cap(
    project_id: ProjectId,
    max_bytes_billed: Annotated[int | None, Field(ge=0)],
    user_email: UserEmail = None,
    dry_run: DryRun = True,
    idempotency_key: IdempotencyKey = None,
) -> CloudCallPlan:
    """Cap the bytes billed per query for a project (or one user in it); None removes the cap.
    Stored in the project's caps file and applied as ``QueryJobConfig.maximum_bytes_billed`` by
    CostGuard's query clients (BigQuery has no API for a project-wide default; see bq_caps).
    Undo: the same tool with the previous value."""
    key = f"{project_id}/{user_email}" if user_email else project_id
    call = CloudCall(
        service="costguard",
        operation="bigquery_caps.set",
        request={"key": key, "maximum_bytes_billed": max_bytes_billed},
        note="enforced per query job (QueryJobConfig.maximum_bytes_billed), not by a GCP quota",
    )
    return _one_call(
        provider="gcp",
        call=call,
        permissions=[],
        summary=f"Cap bytes billed per query for {key} at {max_bytes_billed}.",
        execute=lambda: bq_caps.set_cap(project_id, user_email, max_bytes_billed),
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


def _vultr_plan(instance_id: str, op: str) -> CloudCallPlan:
    call = CloudCall(
        service="instances",
        operation=op,
        request={"method": "POST", "url": f"{VULTR_API}/instances/{instance_id}/{op}"},
    )
    return single_call_plan(
        provider="vultr",
        call=call,
        permissions=[],
        summary=f"{op.capitalize()} Vultr instance {instance_id}.",
    )


@srv.tool()
def halt_vultr_instance(
    instance_id: VultrId, dry_run: DryRun = True, idempotency_key: IdempotencyKey = None
) -> CloudCallPlan:
    """Halt a Vultr instance (``POST /v2/instances/{id}/halt``, 204). Vultr bills a halted
    instance until it is destroyed: this stops the workload, not the instance charge.
    Undo: ``start_vultr_instance``."""
    return _plan(
        "vultr",
        dry_run,
        lambda: _vultr_plan(instance_id, "halt"),
        lambda: clouds.vultr_set_running(instance_id, running=False),
        idempotency_key,
    )


@srv.tool()
def start_vultr_instance(
    instance_id: VultrId, dry_run: DryRun = True, idempotency_key: IdempotencyKey = None
) -> CloudCallPlan:
    """Start a Vultr instance (``POST /v2/instances/{id}/start``); the undo of a halt."""
    return _plan(
        "vultr",
        dry_run,
        lambda: _vultr_plan(instance_id, "start"),
        lambda: clouds.vultr_set_running(instance_id, running=True),
        idempotency_key,
    )
