"""``propose``: the remediation the optimizer suggests for one anomaly (a pure function).

Rules, applied to the anomaly's top root cause (largest ``impact_usd``); no root cause → ``None``:

1. **BigQuery** (``ServiceName`` contains "BigQuery") whose ``ResourceId`` is a job id (plain,
   ``projects/<p>/jobs/<id>`` or ``<project>:<LOCATION>.<id>``), with a project (the id's, else
   ``SubAccountId``) and a location (the id's, else ``RegionId``) → ``cancel_bigquery_job``,
   risk low.
2. **Virtual machines** (``ServiceName`` is Amazon Elastic Compute Cloud / Amazon EC2 / Compute
   Engine / Virtual Machines) whose ``ResourceId`` is an instance id of that provider (EC2
   ``i-…`` or its ARN; a Compute Engine instance path; an Azure ``virtualMachines`` id) with a
   ``RegionId`` → ``stop_instance``, risk medium. A *level shift on a long-running instance*
   (the anomaly lasts ``LEVEL_SHIFT_MIN_DAYS`` or more and its expected spend was above zero, so
   the workload existed before and now costs more every day) gets ``rightsize_instance`` one size
   down instead when the anomaly's ``scope`` names the current ``InstanceType``; the detector's
   anomalies do not carry it today, so such level shifts get ``stop_instance`` with a note.
   Volumes, disks, NAT gateways and other non-instance ids fall through to rule 4.
3. **LLM spend** (see ``llm``: Bedrock, Vertex AI/Gemini, Azure OpenAI, OpenAI, Anthropic, Groq)
   whose model is in ``llm.CHEAPER_MODEL`` → ``switch_llm_model``, risk medium.
4. Otherwise → ``notify_owner`` of the resource (or of the service in its sub-account), risk low.

``estimated_monthly_saving_usd`` (see ``monthly_saving``) is the anomaly's excess daily run-rate
× 30.4 days: ``impact_usd`` (the excess summed over the anomaly's days) divided by its number of
UTC days (``end − start + 1``), in the anomaly's billing currency (USD unless the detective
tagged ``BillingCurrency`` in its scope; no conversion). It is the whole anomaly's excess, so
it is an upper bound when the action addresses only the top one of several root causes, and for
``notify_owner`` it is what the owner could save. It is rounded to cents because it is an
estimate for display, not a ledger amount; no stored cost is rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from costguard_core.models import ActionCreate, AnomalyPublic, RootCause

from costguard_agents.optimizer import compute
from costguard_agents.optimizer.llm import (
    cheaper_model,
    current_model,
    default_endpoint,
    llm_provider,
)

DAYS_PER_MONTH = Decimal("30.4")
LEVEL_SHIFT_MIN_DAYS = 3
VM_SERVICES = frozenset(
    {
        "amazon elastic compute cloud",
        "amazon ec2",
        "amazonec2",
        "ec2",
        "compute engine",
        "virtual machines",
    }
)


def monthly_saving(anomaly: AnomalyPublic) -> Decimal:
    """Excess daily run-rate × 30.4, in USD rounded half-up to cents (never negative)."""
    days = (anomaly.end - anomaly.start).days + 1
    per_day = Decimal(str(anomaly.impact_usd)) / Decimal(max(days, 1))
    saving = max(per_day * DAYS_PER_MONTH, Decimal(0))
    return saving.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_level_shift(anomaly: AnomalyPublic) -> bool:
    """Sustained (``LEVEL_SHIFT_MIN_DAYS``+ UTC days) on spend that existed before (expected>0)."""
    days = (anomaly.end - anomaly.start).days + 1
    return days >= LEVEL_SHIFT_MIN_DAYS and anomaly.expected_cost > 0


def _facts(anomaly: AnomalyPublic, cause: RootCause) -> str:
    # The detective tags anomalies found in a non-USD billing currency with it in their scope.
    cur = anomaly.scope.get("BillingCurrency", "USD")
    return (
        f"Anomaly {anomaly.id} ({anomaly.severity}, {anomaly.start}..{anomaly.end}): "
        f"{cause.ServiceName} spend {anomaly.actual_cost:.2f} vs expected "
        f"{anomaly.expected_cost:.2f} {cur} on the first day, "
        f"{anomaly.impact_usd:.2f} {cur} excess in total; "
        f"top root cause {cause.ResourceId or cause.ServiceName} "
        f"({cause.share:.0%} of the excess)."
    )


def _action(anomaly: AnomalyPublic, cause: RootCause, **fields) -> ActionCreate:
    fields["description"] = f"{_facts(anomaly, cause)} {fields.get('description', '')}".strip()
    return ActionCreate(
        anomaly_id=anomaly.id,
        resource_id=cause.ResourceId,
        estimated_monthly_saving_usd=monthly_saving(anomaly),
        **fields,
    )


def _bigquery(anomaly: AnomalyPublic, cause: RootCause) -> ActionCreate | None:
    if "bigquery" not in cause.ServiceName.lower():
        return None
    job = compute.bigquery_job(cause.ResourceId, cause.SubAccountId, cause.RegionId)
    if job is None:
        return None
    return _action(
        anomaly,
        cause,
        action_type="cancel_bigquery_job",
        provider="gcp",
        risk="low",
        title=f"Cancel BigQuery job {job['job_id']} in {job['project_id']}",
        description="Cancelling stops further slot/bytes billing; spend already incurred stays.",
        parameters=job,
    )


def _vm(anomaly: AnomalyPublic, cause: RootCause) -> ActionCreate | None:
    if cause.ServiceName.strip().lower() not in VM_SERVICES:
        return None
    provider = compute.cloud_provider(cause.ProviderName)
    rid, region = cause.ResourceId, cause.RegionId
    if provider is None or not rid or not compute.is_region(region):
        return None
    if not compute.is_instance(provider, rid):
        return None
    base = {"provider": provider, "resource_id": rid, "region": region}
    if is_level_shift(anomaly):
        target = compute.one_size_down(provider, anomaly.scope.get("InstanceType", ""))
        if target:
            return _action(
                anomaly,
                cause,
                action_type="rightsize_instance",
                provider=provider,
                risk="medium",
                title=f"Rightsize {rid} to {target}",
                description="Sustained higher spend on an existing instance: one size down "
                "(stop, change type, start; brief downtime).",
                parameters={**base, "target_type": target},
            )
        note = "Sustained level shift; rightsizing needs the instance type, which is unknown."
    else:
        note = "Short spike: stopping the instance ends the excess (it can be started again)."
    return _action(
        anomaly,
        cause,
        action_type="stop_instance",
        provider=provider,
        risk="medium",
        title=f"Stop instance {rid} ({region})",
        description=note,
        parameters=base,
    )


def _llm(anomaly: AnomalyPublic, cause: RootCause) -> ActionCreate | None:
    provider = llm_provider(cause)
    model = current_model(cause) if provider else None
    target = cheaper_model(provider, model) if provider and model else None
    endpoint = default_endpoint(provider, cause) if provider and target else None
    if not (provider and model and target and endpoint):
        return None
    return _action(
        anomaly,
        cause,
        action_type="switch_llm_model",
        provider=provider,
        risk="medium",
        title=f"Switch {model} to {target} ({provider})",
        description="Route this workload to the vendor's smaller model; check output quality.",
        parameters={
            "provider": provider,
            "endpoint": endpoint,
            "current_model": model,
            "target_model": target,
        },
    )


def _notify(anomaly: AnomalyPublic, cause: RootCause) -> ActionCreate:
    target = cause.ResourceId or "/".join(
        p for p in (cause.ProviderName, cause.SubAccountId, cause.ServiceName) if p
    )
    message = f"{_facts(anomaly, cause)} Please review {target}; no automatic remediation applies."
    return _action(
        anomaly,
        cause,
        action_type="notify_owner",
        provider=cause.ProviderName.lower(),
        risk="low",
        title=f"Notify the owner of {target}"[:300],
        description="No automatic remediation matches this resource.",
        parameters={"resource_id": target, "message": message[:4000]},
    )


def propose(anomaly: AnomalyPublic) -> ActionCreate | None:
    """One proposed action for ``anomaly`` by the rules in this module's docstring; ``None`` when
    the anomaly has no root cause to act on."""
    if not anomaly.root_causes:
        return None
    cause = max(anomaly.root_causes, key=lambda c: c.impact_usd)
    for rule in (_bigquery, _vm, _llm):
        action = rule(anomaly, cause)
        if action is not None:
            return action
    return _notify(anomaly, cause)
