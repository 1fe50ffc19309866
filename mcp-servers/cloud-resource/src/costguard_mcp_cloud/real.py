"""Real cloud calls (``dry_run=False``), opt-in per provider with ``MCP_EXECUTE_PROVIDERS``
(comma-separated, e.g. ``aws,llm``). Each returns ``{"did": {...}, "before", "after", "undo"}``
where ``undo`` is the tool call that reverses it (``{"tool", "arguments"}``) or None.

AWS uses boto3 with its standard configuration (credentials chain, ``AWS_ENDPOINT_URL`` to point
it at moto in tests). LLM routes live in a JSON file the project owns (``LLM_ROUTES_PATH``,
default ``var/llm-routes.json``): ``{endpoint: model}``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import boto3

_ROUTES_LOCK = threading.Lock()


def enabled(provider: str) -> bool:
    raw = os.environ.get("MCP_EXECUTE_PROVIDERS", "")
    return provider in {p.strip() for p in raw.split(",") if p.strip()}


def _ec2(region: str) -> Any:
    return boto3.client("ec2", region_name=region)


def _state(ec2: Any, instance_id: str) -> dict[str, Any]:
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return {"state": found["State"]["Name"], "instance_type": found["InstanceType"]}


def ec2_set_running(instance_id: str, region: str, running: bool) -> dict[str, Any]:
    """StopInstances / StartInstances; undo is the opposite call."""
    ec2 = _ec2(region)
    before = _state(ec2, instance_id)
    if running:
        ec2.start_instances(InstanceIds=[instance_id])
    else:
        ec2.stop_instances(InstanceIds=[instance_id])
    after = _state(ec2, instance_id)
    undo_tool = "stop_instance" if running else "start_instance"
    return {
        "did": {"operation": "StartInstances" if running else "StopInstances", "id": instance_id},
        "before": before,
        "after": after,
        "undo": {
            "tool": undo_tool,
            "arguments": {"provider": "aws", "resource_id": instance_id, "region": region},
        },
    }


def ec2_resize(instance_id: str, region: str, target_type: str) -> dict[str, Any]:
    """Stop, ModifyInstanceAttribute(InstanceType), start if it was running; undo resizes back."""
    ec2 = _ec2(region)
    before = _state(ec2, instance_id)
    if before["state"] != "stopped":
        ec2.stop_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_stopped").wait(
            InstanceIds=[instance_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": target_type})
    if before["state"] == "running":
        ec2.start_instances(InstanceIds=[instance_id])
    return {
        "did": {"operation": "ModifyInstanceAttribute", "id": instance_id, "type": target_type},
        "before": before,
        "after": _state(ec2, instance_id),
        "undo": {
            "tool": "rightsize_instance",
            "arguments": {
                "provider": "aws",
                "resource_id": instance_id,
                "region": region,
                "target_type": before["instance_type"],
            },
        },
    }


def lambda_configure(
    function_name: str, region: str, memory_mb: int | None, reserved_concurrency: int | None
) -> dict[str, Any]:
    """UpdateFunctionConfiguration(MemorySize) and PutFunctionConcurrency; undo restores both."""
    lam = boto3.client("lambda", region_name=region)
    cfg = lam.get_function(FunctionName=function_name)
    before = {
        "memory_mb": cfg["Configuration"]["MemorySize"],
        "reserved_concurrency": cfg.get("Concurrency", {}).get("ReservedConcurrentExecutions"),
    }
    if memory_mb is not None:
        lam.update_function_configuration(FunctionName=function_name, MemorySize=memory_mb)
    if reserved_concurrency is not None:
        lam.put_function_concurrency(
            FunctionName=function_name, ReservedConcurrentExecutions=reserved_concurrency
        )
    after_cfg = lam.get_function(FunctionName=function_name)
    after = {
        "memory_mb": after_cfg["Configuration"]["MemorySize"],
        "reserved_concurrency": after_cfg.get("Concurrency", {}).get(
            "ReservedConcurrentExecutions"
        ),
    }
    return {
        "did": {"operation": "UpdateFunctionConfiguration/PutFunctionConcurrency"},
        "before": before,
        "after": after,
        "undo": {
            "tool": "set_lambda_limits",
            "arguments": {
                "function_name": function_name,
                "region": region,
                "memory_mb": before["memory_mb"],
                "reserved_concurrency": before["reserved_concurrency"],
            },
        },
    }


def ebs_snapshot_and_delete(volume_id: str, region: str) -> dict[str, Any]:
    """Refuse unless the volume is ``available`` (attached to nothing); CreateSnapshot, wait,
    DeleteVolume. Undo: CreateVolume from the snapshot (``restore_volume``)."""
    ec2 = _ec2(region)
    vol = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    if vol["State"] != "available":
        raise ValueError(f"volume {volume_id} is {vol['State']}, not idle (available)")
    snap = ec2.create_snapshot(
        VolumeId=volume_id, Description=f"costguard before delete {volume_id}"
    )
    ec2.get_waiter("snapshot_completed").wait(
        SnapshotIds=[snap["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    ec2.delete_volume(VolumeId=volume_id)
    return {
        "did": {"operation": "CreateSnapshot+DeleteVolume", "snapshot_id": snap["SnapshotId"]},
        "before": {"state": vol["State"], "size_gib": vol["Size"]},
        "after": {"state": "deleted", "snapshot_id": snap["SnapshotId"]},
        "undo": {
            "tool": "restore_volume",
            "arguments": {
                "snapshot_id": snap["SnapshotId"],
                "region": region,
                "availability_zone": vol["AvailabilityZone"],
            },
        },
    }


def _routes_path() -> Path:
    return Path(os.environ.get("LLM_ROUTES_PATH", "var/llm-routes.json"))


def llm_switch(endpoint: str, current_model: str, target_model: str) -> dict[str, Any]:
    """Set the route ``endpoint`` → ``target_model`` in the route store; refuses if the route
    is not on ``current_model`` (someone changed it since the proposal)."""
    path = _routes_path()
    with _ROUTES_LOCK:
        routes = json.loads(path.read_text()) if path.exists() else {}
        now = routes.get(endpoint, current_model)
        if now != current_model:
            raise ValueError(f"route {endpoint} uses {now!r}, not {current_model!r}")
        routes[endpoint] = target_model
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(routes, indent=2, sort_keys=True))
        tmp.replace(path)  # atomic: a crash leaves the old or the new file, never half
    return {
        "did": {"operation": "route.set", "endpoint": endpoint, "model": target_model},
        "before": {"model": now},
        "after": {"model": target_model},
        "undo": {
            "tool": "switch_llm_model",
            "arguments": {
                "endpoint": endpoint,
                "current_model": target_model,
                "target_model": current_model,
            },
        },
    }


def ebs_restore(snapshot_id: str, region: str, availability_zone: str) -> dict[str, Any]:
    """CreateVolume from ``snapshot_id`` (the undo of ``delete_idle_volume``)."""
    vol = _ec2(region).create_volume(SnapshotId=snapshot_id, AvailabilityZone=availability_zone)
    return {
        "did": {"operation": "CreateVolume", "volume_id": vol["VolumeId"]},
        "before": {"snapshot_id": snapshot_id},
        "after": {"volume_id": vol["VolumeId"]},
        "undo": None,
    }
