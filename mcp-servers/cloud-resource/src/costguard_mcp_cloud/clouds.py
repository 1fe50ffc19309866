"""Real calls for Google Cloud BigQuery, Azure and Vultr (``dry_run=False``; providers ``gcp``,
``azure``, ``vultr`` in ``MCP_EXECUTE_PROVIDERS``). Each returns ``{"did", "before", "after",
"undo"}`` like ``real.py``; ``undo`` is None when the change cannot be reversed, with
``undo_note`` saying why.

Endpoints and credentials (standard SDK configuration; the overrides exist for emulators and the
tests' local servers that replay the documented responses):

* BigQuery: google-cloud-bigquery with Application Default Credentials; ``BIGQUERY_API_ENDPOINT``
  set → that endpoint with anonymous credentials (an emulator or replay server takes no auth).
* Azure: azure-mgmt-compute with ``DefaultAzureCredential``, or the bearer token in
  ``AZURE_ACCESS_TOKEN`` (e.g. from ``az account get-access-token``); ``AZURE_RESOURCE_MANAGER_URL``
  replaces ``https://management.azure.com`` (plain http is allowed only for such an override).
* Vultr: httpx against ``VULTR_API_URL`` (default ``https://api.vultr.com``) with the API key in
  ``VULTR_API_KEY`` (Bearer), per the Vultr API v2 reference.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
from azure.core.credentials import AccessToken, TokenCredential
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from costguard_mcp_cloud.compute import _AZURE_VM

ARM_DEFAULT = "https://management.azure.com"


def bigquery_client(project_id: str) -> bigquery.Client:
    endpoint = os.environ.get("BIGQUERY_API_ENDPOINT")
    if not endpoint:
        return bigquery.Client(project=project_id)
    return bigquery.Client(
        project=project_id,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )


def bigquery_job_state(project_id: str, job_id: str, location: str) -> str:
    """``jobs.get``: the job's ``status.state`` (PENDING, RUNNING or DONE); raises
    ``google.api_core.exceptions.NotFound`` when there is no such job."""
    job = bigquery_client(project_id).get_job(job_id, location=location)
    return str(job.state)


def bigquery_cancel(project_id: str, job_id: str, location: str) -> dict[str, Any]:
    """``jobs.get`` then ``jobs.cancel``. Cancelling is asynchronous: ``after`` is the state the
    cancel response carries (DONE once BigQuery has stopped it). Bytes already processed stay
    billed, and a cancelled job cannot be resumed, so there is no undo."""
    client = bigquery_client(project_id)
    before = client.get_job(job_id, location=location)
    if before.state == "DONE":
        after_state = "DONE"  # nothing to cancel; jobs.cancel on a finished job is a no-op
    else:
        after_state = str(client.cancel_job(job_id, location=location).state)
    return {
        "did": {"operation": "jobs.cancel", "project_id": project_id, "job_id": job_id},
        "before": {"state": before.state},
        "after": {"state": after_state},
        "undo": None,
        "undo_note": "a cancelled BigQuery job cannot be resumed; re-run its query as a new job",
    }


class StaticToken(TokenCredential):
    """A bearer token obtained elsewhere (``AZURE_ACCESS_TOKEN``), valid for the next hour."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def _azure(resource_id: str) -> tuple[Any, str, str, dict[str, Any]]:
    from azure.mgmt.compute import ComputeManagementClient

    m = _AZURE_VM.match(resource_id)
    if not m:
        raise ValueError(f"resource_id {resource_id!r} is not an Azure VM id")
    sub, group, vm = m.groups()
    base = os.environ.get("AZURE_RESOURCE_MANAGER_URL", ARM_DEFAULT).rstrip("/")
    token = os.environ.get("AZURE_ACCESS_TOKEN")
    if token:
        cred: TokenCredential = StaticToken(token)
    else:
        from azure.identity import DefaultAzureCredential

        cred = DefaultAzureCredential()
    client = ComputeManagementClient(cred, sub, base_url=base)
    # The SDK refuses to send a bearer token over plain http; only an explicit override may be.
    call_kw = {"enforce_https": False} if base.startswith("http://") else {}
    return client, group, vm, call_kw


def azure_power_state(resource_id: str) -> str | None:
    """The VM's ``PowerState/...`` status code from ``virtualMachines.instanceView``."""
    client, group, vm, kw = _azure(resource_id)
    view = client.virtual_machines.instance_view(group, vm, **kw)
    codes = [s.code for s in view.statuses or [] if s.code and s.code.startswith("PowerState/")]
    return codes[0] if codes else None


def azure_set_running(resource_id: str, region: str, running: bool) -> dict[str, Any]:
    """``virtualMachines.deallocate`` (stops compute billing) or ``virtualMachines.start``,
    waiting for the long-running operation; undo is the opposite call."""
    client, group, vm, kw = _azure(resource_id)
    before = azure_power_state(resource_id)
    if running:
        client.virtual_machines.begin_start(group, vm, **kw).result()
    else:
        client.virtual_machines.begin_deallocate(group, vm, **kw).result()
    return {
        "did": {"operation": "start" if running else "deallocate", "id": resource_id},
        "before": {"power_state": before},
        "after": {"power_state": azure_power_state(resource_id)},
        "undo": {
            "tool": "stop_instance" if running else "start_instance",
            "arguments": {"provider": "azure", "resource_id": resource_id, "region": region},
        },
    }


def _vultr() -> httpx.Client:
    key = os.environ.get("VULTR_API_KEY")
    if not key:
        raise ValueError("VULTR_API_KEY is not set")
    base = os.environ.get("VULTR_API_URL", "https://api.vultr.com").rstrip("/")
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def vultr_power_status(instance_id: str) -> str:
    """``GET /v2/instances/{id}`` → ``instance.power_status`` (``running`` / ``stopped``);
    raises ``httpx.HTTPStatusError`` (404 when the instance does not exist)."""
    with _vultr() as http:
        resp = http.get(f"/v2/instances/{instance_id}").raise_for_status()
    return str(resp.json()["instance"]["power_status"])


def vultr_set_running(instance_id: str, running: bool) -> dict[str, Any]:
    """``POST /v2/instances/{id}/start`` or ``/halt`` (204); undo is the opposite call. A
    halted Vultr instance is still billed until it is destroyed: halting stops the workload."""
    before = vultr_power_status(instance_id)
    op = "start" if running else "halt"
    with _vultr() as http:
        http.post(f"/v2/instances/{instance_id}/{op}").raise_for_status()
    return {
        "did": {"operation": f"instances.{op}", "id": instance_id},
        "before": {"power_status": before},
        "after": {"power_status": vultr_power_status(instance_id)},
        "undo": {
            "tool": "halt_vultr_instance" if running else "start_vultr_instance",
            "arguments": {"instance_id": instance_id},
        },
    }
