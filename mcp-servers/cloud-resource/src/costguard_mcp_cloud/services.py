"""Plans for the non-VM actions: cancel a BigQuery job, switch an LLM model, notify an owner."""

from __future__ import annotations

from urllib.parse import quote

from costguard_mcp_cloud.plans import CloudCall, CloudCallPlan, LlmProvider, single_call_plan

BIGQUERY_BASE = "https://bigquery.googleapis.com/bigquery/v2"

#: Where each LLM API takes the model name, and the call whose traffic the switch moves.
LLM_MODEL_SETTING: dict[str, tuple[str, str]] = {
    "openai": ("request body field 'model'", "POST /v1/chat/completions"),
    "azure_openai": (
        "deployment name in the URL path /openai/deployments/{deployment}",
        "POST /openai/deployments/{deployment}/chat/completions",
    ),
    "aws_bedrock": ("parameter 'modelId'", "bedrock-runtime Converse / InvokeModel"),
    "gcp_vertex_ai": (
        "model segment of the URL path publishers/google/models/{model}",
        "POST .../publishers/google/models/{model}:generateContent",
    ),
    "anthropic": ("request body field 'model'", "POST /v1/messages"),
    "groq": ("request body field 'model'", "POST /openai/v1/chat/completions"),
}


def cancel_bigquery_job_plan(project_id: str, job_id: str, location: str) -> CloudCallPlan:
    """Plan for BigQuery ``jobs.cancel``: ``POST …/projects/{projectId}/jobs/{jobId}/cancel
    ?location={location}`` (location is required for jobs outside the US and EU multi-regions)."""
    url = (
        f"{BIGQUERY_BASE}/projects/{quote(project_id, safe=':.')}/jobs/{quote(job_id, safe='')}"
        f"/cancel?location={quote(location, safe='')}"
    )
    call = CloudCall(
        service="bigquery", operation="jobs.cancel", request={"method": "POST", "url": url}
    )
    return single_call_plan(
        provider="gcp",
        call=call,
        region=location,
        permissions=["bigquery.jobs.update"],
        summary=f"Cancel BigQuery job {job_id} in project {project_id} ({location}).",
    )


def switch_llm_model_plan(
    provider: LlmProvider, endpoint: str, current_model: str, target_model: str
) -> CloudCallPlan:
    """Plan to move an LLM workload's traffic from ``current_model`` to ``target_model``.

    LLM providers have no "switch model" API: the model is chosen per request, so the change is a
    configuration update in the caller (gateway route, deployment or app setting) at ``endpoint``.
    Raises ``ValueError`` when both models are the same.
    """
    if current_model == target_model:
        raise ValueError(f"target_model {target_model!r} is the model already in use")
    setting, applies_to = LLM_MODEL_SETTING[provider]
    call = CloudCall(
        service=provider,
        operation="config.update",
        request={
            "endpoint": endpoint,
            "setting": setting,
            "applies_to": applies_to,
            "from_model": current_model,
            "to_model": target_model,
        },
    )
    return single_call_plan(
        provider=provider,
        call=call,
        permissions=[],
        summary=f"Route {provider} traffic at {endpoint} from {current_model} to {target_model}.",
    )


def notify_owner_plan(resource_id: str, message: str) -> CloudCallPlan:
    """Plan to tell a resource's owner about its spend; no cloud resource changes."""
    call = CloudCall(
        service="notifications",
        operation="notify_owner",
        request={"resource_id": resource_id, "message": message},
    )
    return single_call_plan(
        provider="costguard",
        call=call,
        permissions=[],
        summary=f"Notify the owner of {resource_id}.",
    )
