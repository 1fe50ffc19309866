"""Resource-id checks the optimizer needs before proposing a cloud action.

They mirror the MCP server's input checks (agents do not import the server), so an action is
only proposed for ids the tool will accept: EC2 ``i-`` ids (8 or 17 hex digits) or their ARNs,
Compute Engine instance paths, Azure ``Microsoft.Compute/virtualMachines`` ids, BigQuery job ids.
"""

from __future__ import annotations

import re

_PROVIDERS = {
    "aws": "aws",
    "amazon web services": "aws",
    "google cloud": "gcp",
    "google cloud platform": "gcp",
    "gcp": "gcp",
    "google": "gcp",
    "microsoft": "azure",
    "azure": "azure",
    "microsoft azure": "azure",
}
_INSTANCE = {
    "aws": re.compile(
        r"^(?:arn:aws[\w-]*:ec2:[\w-]+:\d{12}:instance/)?i-[0-9a-f]{8}(?:[0-9a-f]{9})?$"
    ),
    "gcp": re.compile(
        r"^(?://compute\.googleapis\.com/)?projects/[a-z0-9:.-]+/zones/[a-z0-9-]+/instances/[\w-]+$"
    ),
    "azure": re.compile(
        r"^/subscriptions/[0-9a-f-]{36}/resourcegroups/[\w().-]+"
        r"/providers/microsoft\.compute/virtualmachines/[\w.-]+$",
        re.IGNORECASE,
    ),
}
_PROJECT = re.compile(r"^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_JOB = re.compile(r"^[A-Za-z0-9_-]{1,1024}$")
_REGION = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_LOCATION = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,39}$")
_JOB_PATH = re.compile(r"^projects/([^/]+)/jobs/([^/?]+)(?:\?location=([\w-]+))?$")
_JOB_BQ = re.compile(r"^([^.]+):([\w-]+)\.([\w-]+)$")  # bq CLI form project:LOCATION.job_id
# EC2 sizes below "large" exist only in the burstable t families.
_AWS_SMALL = {"large": "medium", "medium": "small", "small": "micro", "micro": "nano"}


def cloud_provider(provider_name: str) -> str | None:
    """``aws``/``gcp``/``azure`` for a FOCUS ``ProviderName``, or ``None``."""
    return _PROVIDERS.get(provider_name.strip().lower())


def is_region(region: str | None) -> bool:
    """Whether ``region`` is a region name the MCP server accepts (``us-east-1``, ``eastus``)."""
    return bool(region and _REGION.match(region))


def is_instance(provider: str, resource_id: str) -> bool:
    """Whether ``resource_id`` is a VM instance id the MCP server accepts for ``provider``."""
    pattern = _INSTANCE.get(provider)
    return bool(pattern and pattern.match(resource_id))


def bigquery_job(
    resource_id: str | None, project: str | None, location: str | None
) -> dict[str, str] | None:
    """``{"project_id", "job_id", "location"}`` for a job id, or ``None`` if any part is missing
    or malformed. Project/location inside the id win over ``SubAccountId``/``RegionId``."""
    rid = (resource_id or "").strip()
    job = rid
    if m := _JOB_PATH.match(rid):
        project, job, location = m.group(1), m.group(2), m.group(3) or location
    elif m := _JOB_BQ.match(rid):
        project, location, job = m.groups()
    if not (project and location and _PROJECT.match(project) and _JOB.match(job)):
        return None
    if not _LOCATION.match(location):
        return None
    return {"project_id": project, "job_id": job, "location": location}


def one_size_down(provider: str, instance_type: str) -> str | None:
    """The next smaller type in the same family (``m5.2xlarge`` → ``m5.xlarge``,
    ``e2-standard-8`` → ``e2-standard-4``, ``Standard_D8s_v5`` → ``Standard_D4s_v5``), or
    ``None`` when the type is unknown, malformed or already the smallest."""
    if provider == "aws":
        return _aws_half(instance_type)
    if provider == "gcp" and (m := re.fullmatch(r"([a-z0-9]+-[a-z]+)-(\d+)", instance_type)):
        family, cpus = m.group(1), int(m.group(2))
        return f"{family}-{cpus // 2}" if cpus >= 4 and cpus % 2 == 0 else None
    if provider == "azure" and (m := re.fullmatch(r"(Standard_[A-Z]+)(\d+)(\w*)", instance_type)):
        family, cpus, suffix = m.group(1), int(m.group(2)), m.group(3)
        return f"{family}{cpus // 2}{suffix}" if cpus >= 4 and cpus % 2 == 0 else None
    return None


def _aws_half(instance_type: str) -> str | None:
    m = re.fullmatch(
        r"([a-z][a-z0-9-]*)\.(?:(\d+)xlarge|(xlarge|large|medium|small|micro))", instance_type
    )
    if not m:
        return None
    family, count, named = m.groups()
    if count:
        # Only power-of-two sizes are halved: those halves exist in every family that has the
        # size (m5.12xlarge has no m5.6xlarge).
        n = int(count)
        if n == 2:
            return f"{family}.xlarge"
        return f"{family}.{n // 2}xlarge" if n > 2 and n & (n - 1) == 0 else None
    if named == "xlarge":
        return f"{family}.large"
    if re.match(r"t\d", family):
        return f"{family}.{_AWS_SMALL[named]}"
    return None
