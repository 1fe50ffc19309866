"""Stop and rightsize plans for virtual machines on AWS EC2, Google Compute Engine and Azure.

Resource ids are accepted in the forms the providers' billing exports (and FOCUS ``ResourceId``)
carry them:

* AWS: ``i-0123456789abcdef0`` or ``arn:aws:ec2:<region>:<account>:instance/i-…``
* Google Cloud: ``//compute.googleapis.com/projects/<p>/zones/<z>/instances/<name>`` or the same
  path without the ``//compute.googleapis.com/`` prefix (project and zone are part of the URL)
* Azure: ``/subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.Compute/virtualMachines/<vm>``
  (case-insensitive, as Azure exports it in lower case)

Anything else raises ``ValueError`` naming the expected form.
"""

from __future__ import annotations

import re
from typing import Any

from costguard_mcp_cloud.plans import CloudCall, CloudCallPlan, Provider, single_call_plan

AZURE_COMPUTE_API_VERSION = "2024-07-01"
GCE_BASE = "https://compute.googleapis.com/compute/v1"
ARM_BASE = "https://management.azure.com"

_AWS_ID = re.compile(
    r"^(?:arn:aws[\w-]*:ec2:[\w-]+:\d{12}:instance/)?(i-[0-9a-f]{8}(?:[0-9a-f]{9})?)$"
)
_GCE_ID = re.compile(
    r"^(?://compute\.googleapis\.com/)?projects/([a-z0-9:.-]+)/zones/([a-z0-9-]+)/instances/([\w-]+)$"
)
_AZURE_VM = re.compile(
    r"^/subscriptions/([0-9a-f-]{36})/resourcegroups/([\w().-]+)"
    r"/providers/microsoft\.compute/virtualmachines/([\w.-]+)$",
    re.IGNORECASE,
)


def _aws_instance(resource_id: str) -> str:
    m = _AWS_ID.match(resource_id)
    if not m:
        raise ValueError(
            f"resource_id {resource_id!r} is not an EC2 instance id (expected i-<8 or 17 hex> "
            "or arn:aws:ec2:<region>:<account>:instance/i-…)"
        )
    return m.group(1)


def _gce_instance_url(resource_id: str) -> tuple[str, str]:
    m = _GCE_ID.match(resource_id)
    if not m:
        raise ValueError(
            f"resource_id {resource_id!r} is not a Compute Engine instance path (expected "
            "//compute.googleapis.com/projects/<project>/zones/<zone>/instances/<name>)"
        )
    project, zone, name = m.groups()
    return f"{GCE_BASE}/projects/{project}/zones/{zone}/instances/{name}", zone


def _azure_vm_url(resource_id: str) -> str:
    m = _AZURE_VM.match(resource_id)
    if not m:
        raise ValueError(
            f"resource_id {resource_id!r} is not an Azure VM id (expected /subscriptions/<id>/"
            "resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>)"
        )
    sub, group, vm = m.groups()
    rg = f"{ARM_BASE}/subscriptions/{sub}/resourceGroups/{group}"
    return f"{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"


def _rest(method: str, url: str, body: dict | None = None) -> dict:
    req: dict = {"method": method, "url": url}
    if body is not None:
        req["body"] = body
    return req


def _arm(url: str, action: str = "") -> str:
    return f"{url}{'/' + action if action else ''}?api-version={AZURE_COMPUTE_API_VERSION}"


def stop_plan(provider: Provider, resource_id: str, region: str) -> CloudCallPlan:
    """Plan to stop (AWS, GCP) or deallocate (Azure: stops compute billing) one instance."""
    if provider == "aws":
        iid = _aws_instance(resource_id)
        call = CloudCall(service="ec2", operation="StopInstances", request={"InstanceIds": [iid]})
        return single_call_plan(
            provider="aws",
            call=call,
            region=region,
            permissions=["ec2:StopInstances"],
            summary=f"Stop EC2 instance {iid} in {region}.",
        )
    if provider == "gcp":
        url, zone = _gce_instance_url(resource_id)
        call = CloudCall(
            service="compute", operation="instances.stop", request=_rest("POST", url + "/stop")
        )
        return single_call_plan(
            provider="gcp",
            call=call,
            region=region,
            permissions=["compute.instances.stop"],
            summary=f"Stop Compute Engine instance {url.rsplit('/', 1)[1]} in zone {zone}.",
        )
    url = _azure_vm_url(resource_id)
    call = CloudCall(
        service="Microsoft.Compute",
        operation="virtualMachines.deallocate",
        request=_rest("POST", _arm(url, "deallocate")),
    )
    return single_call_plan(
        provider="azure",
        call=call,
        region=region,
        permissions=["Microsoft.Compute/virtualMachines/deallocate/action"],
        summary=f"Deallocate Azure VM {url.rsplit('/', 1)[1]} in {region} (stops compute billing).",
    )


def rightsize_plan(
    provider: Provider, resource_id: str, region: str, target_type: str
) -> CloudCallPlan:
    """Plan to change an instance's size: the documented stop → change type → start sequence.

    ``service``/``operation``/``request`` on the plan are the type change itself; ``steps`` holds
    all three calls in order. The instance is unavailable between the stop and the start.
    """
    if provider == "aws":
        iid = _aws_instance(resource_id)
        steps = [
            CloudCall(
                service="ec2",
                operation="StopInstances",
                request={"InstanceIds": [iid]},
                note="then wait for state 'stopped' (boto3 waiter instance_stopped)",
            ),
            CloudCall(
                service="ec2",
                operation="ModifyInstanceAttribute",
                request={"InstanceId": iid, "InstanceType": {"Value": target_type}},
            ),
            CloudCall(service="ec2", operation="StartInstances", request={"InstanceIds": [iid]}),
        ]
        perms = ["ec2:StopInstances", "ec2:ModifyInstanceAttribute", "ec2:StartInstances"]
        what = f"EC2 instance {iid}"
    elif provider == "gcp":
        url, zone = _gce_instance_url(resource_id)
        body: dict[str, Any] = {"machineType": f"zones/{zone}/machineTypes/{target_type}"}
        steps = [
            CloudCall(
                service="compute",
                operation="instances.stop",
                request=_rest("POST", url + "/stop"),
                note="then wait for the zone operation to finish (status TERMINATED)",
            ),
            CloudCall(
                service="compute",
                operation="instances.setMachineType",
                request=_rest("POST", url + "/setMachineType", body),
            ),
            CloudCall(
                service="compute",
                operation="instances.start",
                request=_rest("POST", url + "/start"),
            ),
        ]
        perms = [
            "compute.instances.stop",
            "compute.instances.setMachineType",
            "compute.instances.start",
        ]
        what = f"Compute Engine instance {url.rsplit('/', 1)[1]}"
    else:
        url = _azure_vm_url(resource_id)
        body = {"properties": {"hardwareProfile": {"vmSize": target_type}}}
        steps = [
            CloudCall(
                service="Microsoft.Compute",
                operation="virtualMachines.deallocate",
                request=_rest("POST", _arm(url, "deallocate")),
                note="then wait for the async operation (Azure-AsyncOperation header)",
            ),
            CloudCall(
                service="Microsoft.Compute",
                operation="virtualMachines.update",
                request=_rest("PATCH", _arm(url), body),
            ),
            CloudCall(
                service="Microsoft.Compute",
                operation="virtualMachines.start",
                request=_rest("POST", _arm(url, "start")),
            ),
        ]
        perms = [
            "Microsoft.Compute/virtualMachines/deallocate/action",
            "Microsoft.Compute/virtualMachines/write",
            "Microsoft.Compute/virtualMachines/start/action",
        ]
        what = f"Azure VM {url.rsplit('/', 1)[1]}"
    change = steps[1]
    return CloudCallPlan(
        provider=provider,
        service=change.service,
        operation=change.operation,
        request=change.request,
        region=region,
        steps=steps,
        permissions=perms,
        summary=f"Rightsize {what} in {region} to {target_type}: stop, change type, start.",
    )
