"""``check_resource``: what the executor asks before, between and after real calls.

For a tool and the arguments it would be called with, a :class:`ResourceCheck` says whether the
resource exists, its current state, whether it is already in the state the tool produces
(``done``), and whether the credential may make the call (``permitted``). Permissions are probed
only where the cloud offers a no-effect probe: EC2's ``DryRun=True`` (``DryRunOperation`` means
allowed, ``UnauthorizedOperation`` means denied). Elsewhere ``permitted`` is None and
``permission_probe`` says so; the real call still fails cleanly if access is missing.

A provider without real execution (``MCP_EXECUTE_PROVIDERS``) is not contacted: ``checked`` is
False with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import httpx
from botocore.exceptions import ClientError
from google.api_core.exceptions import NotFound
from pydantic import BaseModel

from costguard_mcp_cloud import bq_caps, clouds, real
from costguard_mcp_cloud.compute import _aws_instance


class ResourceCheck(BaseModel):
    tool: str
    checked: bool
    reason: str | None = None
    exists: bool | None = None
    state: dict[str, Any] | None = None
    #: The resource is already in the state the tool would leave it in.
    done: bool | None = None
    permitted: bool | None = None
    permission_probe: str | None = None


def _aws_probe(call: Callable[..., Any], **kw: Any) -> bool:
    """EC2 DryRun: the API answers DryRunOperation when the call would be allowed."""
    try:
        call(DryRun=True, **kw)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "DryRunOperation":
            return True
        if code in ("UnauthorizedOperation", "AccessDenied"):
            return False
        raise
    return True


def _ec2_instance(tool: str, a: dict[str, Any]) -> ResourceCheck:
    iid = _aws_instance(a["resource_id"])
    ec2 = boto3.client("ec2", region_name=a["region"])
    try:
        found = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"].startswith("InvalidInstanceID"):
            return ResourceCheck(tool=tool, checked=True, exists=False)
        raise
    state = {"state": found["State"]["Name"], "instance_type": found["InstanceType"]}
    if state["state"] in ("terminated", "shutting-down"):
        return ResourceCheck(tool=tool, checked=True, exists=False, state=state)
    if tool == "stop_instance":
        done, probe = state["state"] == "stopped", ec2.stop_instances
    elif tool == "start_instance":
        done, probe = state["state"] == "running", ec2.start_instances
    else:
        done = state["instance_type"] == a["target_type"]
        probe = ec2.stop_instances  # the first call of the stop → modify → start sequence
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state=state,
        done=done,
        permitted=_aws_probe(probe, InstanceIds=[iid]),
        permission_probe=f"ec2 {probe.__name__} DryRun",
    )


def _ebs(tool: str, a: dict[str, Any]) -> ResourceCheck:
    ec2 = boto3.client("ec2", region_name=a["region"])
    vols = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [a["volume_id"]]}])
    if not vols["Volumes"]:
        return ResourceCheck(tool=tool, checked=True, exists=False, done=True)
    vol = vols["Volumes"][0]
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state={"state": vol["State"], "size_gib": vol["Size"]},
        done=False,
        permitted=_aws_probe(ec2.delete_volume, VolumeId=a["volume_id"]),
        permission_probe="ec2 DeleteVolume DryRun",
    )


def _lambda(tool: str, a: dict[str, Any]) -> ResourceCheck:
    lam = boto3.client("lambda", region_name=a["region"])
    try:
        cfg = lam.get_function(FunctionName=a["function_name"])
    except lam.exceptions.ResourceNotFoundException:
        return ResourceCheck(tool=tool, checked=True, exists=False)
    state = {
        "memory_mb": cfg["Configuration"]["MemorySize"],
        "reserved_concurrency": cfg.get("Concurrency", {}).get("ReservedConcurrentExecutions"),
    }
    done = all(a.get(k) is None or state[k] == a.get(k) for k in state)
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state=state,
        done=done,
        permission_probe="none: Lambda has no dry-run mode",
    )


def _bigquery(tool: str, a: dict[str, Any]) -> ResourceCheck:
    if tool == "set_bigquery_bytes_cap":
        caps = bq_caps.read_caps()
        key = f"{a['project_id']}/{a['user_email']}" if a.get("user_email") else a["project_id"]
        now = caps.get(key)
        return ResourceCheck(
            tool=tool,
            checked=True,
            exists=True,
            state={"maximum_bytes_billed": now},
            done=now == a.get("max_bytes_billed"),
            permission_probe="none: a file the project owns",
        )
    try:
        state = clouds.bigquery_job_state(a["project_id"], a["job_id"], a["location"])
    except NotFound:
        return ResourceCheck(tool=tool, checked=True, exists=False)
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state={"state": state},
        done=state == "DONE",
        permission_probe="none: BigQuery has no dry-run for jobs.cancel",
    )


def _azure(tool: str, a: dict[str, Any]) -> ResourceCheck:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        power = clouds.azure_power_state(a["resource_id"])
    except ResourceNotFoundError:
        return ResourceCheck(tool=tool, checked=True, exists=False)
    target = "PowerState/deallocated" if tool == "stop_instance" else "PowerState/running"
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state={"power_state": power},
        done=power == target,
        permission_probe="none: Azure Resource Manager has no dry-run for power actions",
    )


def _vultr(tool: str, a: dict[str, Any]) -> ResourceCheck:
    try:
        power = clouds.vultr_power_status(a["instance_id"])
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return ResourceCheck(tool=tool, checked=True, exists=False)
        raise
    target = "stopped" if tool == "halt_vultr_instance" else "running"
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state={"power_status": power},
        done=power == target,
        permission_probe="none: the Vultr API has no dry-run",
    )


def _llm(tool: str, a: dict[str, Any]) -> ResourceCheck:
    path = real._routes_path()
    routes = json.loads(path.read_text()) if path.exists() else {}
    now = routes.get(a["endpoint"], a["current_model"])
    return ResourceCheck(
        tool=tool,
        checked=True,
        exists=True,
        state={"model": now},
        done=now == a["target_model"],
        permission_probe="none: a file the project owns",
    )


def provider_of(tool: str, a: dict[str, Any]) -> str:
    """The ``MCP_EXECUTE_PROVIDERS`` name a tool call executes under."""
    if tool in ("stop_instance", "start_instance", "rightsize_instance"):
        return str(a.get("provider", "aws"))
    if tool in ("set_lambda_limits", "delete_idle_volume", "restore_volume"):
        return "aws"
    if tool in ("cancel_bigquery_job", "set_bigquery_bytes_cap"):
        return "gcp"
    if tool in ("halt_vultr_instance", "start_vultr_instance"):
        return "vultr"
    if tool == "switch_llm_model":
        return "llm"
    return "costguard"


def check(tool: str, arguments: dict[str, Any]) -> ResourceCheck:
    """Check the resource ``tool`` would act on (see the module doc). Raises ``KeyError`` for a
    missing argument and the SDK's errors for anything but "not found"."""
    provider = provider_of(tool, arguments)
    if not real.enabled(provider):
        return ResourceCheck(
            tool=tool,
            checked=False,
            reason=f"real execution is not enabled for provider {provider!r}; not contacted",
        )
    if provider == "aws" and tool in ("stop_instance", "start_instance", "rightsize_instance"):
        return _ec2_instance(tool, arguments)
    handlers: dict[str, Callable[[str, dict[str, Any]], ResourceCheck]] = {
        "delete_idle_volume": _ebs,
        "set_lambda_limits": _lambda,
        "cancel_bigquery_job": _bigquery,
        "set_bigquery_bytes_cap": _bigquery,
        "halt_vultr_instance": _vultr,
        "start_vultr_instance": _vultr,
        "switch_llm_model": _llm,
    }
    if provider == "azure" and tool in ("stop_instance", "start_instance"):
        return _azure(tool, arguments)
    handler = handlers.get(tool)
    if handler is None:
        return ResourceCheck(tool=tool, checked=False, reason=f"no check exists for {tool}")
    return handler(tool, arguments)
