"""Recognising LLM spend in a root cause and picking a cheaper model for it.

``llm_provider`` maps a root cause to one of the MCP ``switch_llm_model`` providers from its
``ServiceName``/``ProviderName`` (e.g. "Amazon Bedrock" → ``aws_bedrock``, "Vertex AI" →
``gcp_vertex_ai``, "Azure OpenAI" → ``azure_openai``). The model in use comes from ``ResourceId``
(a Bedrock model ARN's last segment, an Azure ``/deployments/<name>`` segment, or the id itself,
as OpenAI-style usage exports name the model); ``CHEAPER_MODEL`` then gives the same vendor's
smaller sibling. A model missing from the table gets no switch proposal.
"""

from __future__ import annotations

import re

from costguard_core.models import RootCause

_BEDROCK_ANTHROPIC = r"(?:[a-z]{2,4}\.)?anthropic\."
#: (provider, model pattern, cheaper model). Patterns match the whole model id.
CHEAPER_MODEL: tuple[tuple[str, str, str], ...] = (
    ("openai", r"gpt-4\.1(?:-\d{4}-\d\d-\d\d)?", "gpt-4.1-mini"),
    ("openai", r"gpt-4o(?:-\d{4}-\d\d-\d\d)?", "gpt-4o-mini"),
    ("openai", r"gpt-4(?:-turbo)?(?:-\d{4}-\d\d-\d\d|-\d{4})?", "gpt-4o-mini"),
    ("openai", r"o1(?:-\d{4}-\d\d-\d\d)?", "o3-mini"),
    ("anthropic", r"claude-3-opus-\d{8}|claude-3-opus-latest", "claude-3-haiku-20240307"),
    ("anthropic", r"claude-3-[57]-sonnet-\d{8}|claude-sonnet-4-\d{8}", "claude-3-5-haiku-20241022"),
    (
        "aws_bedrock",
        _BEDROCK_ANTHROPIC + r"claude-3-opus-\d{8}-v\d:\d",
        "anthropic.claude-3-haiku-20240307-v1:0",
    ),
    (
        "aws_bedrock",
        _BEDROCK_ANTHROPIC + r"claude-3-[57]-sonnet-\d{8}-v\d:\d",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
    ),
    (
        "aws_bedrock",
        r"meta\.llama3-1-(?:70|405)b-instruct-v\d:\d",
        "meta.llama3-1-8b-instruct-v1:0",
    ),
    ("gcp_vertex_ai", r"gemini-1\.5-pro(?:-\d{3})?", "gemini-1.5-flash-002"),
    ("gcp_vertex_ai", r"gemini-2\.5-pro", "gemini-2.5-flash"),
    ("gcp_vertex_ai", r"gemini-2\.0-flash(?:-\d{3})?", "gemini-2.0-flash-lite"),
    ("groq", r"llama-3\.[13]-70b-versatile", "llama-3.1-8b-instant"),
    ("groq", r"llama3-70b-8192", "llama3-8b-8192"),
)

_SERVICE_HINTS: tuple[tuple[str, str], ...] = (
    ("bedrock", "aws_bedrock"),
    ("vertex", "gcp_vertex_ai"),
    ("gemini", "gcp_vertex_ai"),
    ("azure openai", "azure_openai"),
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("claude", "anthropic"),
    ("groq", "groq"),
)


def llm_provider(cause: RootCause) -> str | None:
    """The ``switch_llm_model`` provider for this root cause, or ``None`` if it is not LLM spend
    we know how to switch. An OpenAI service billed by Microsoft is Azure OpenAI."""
    text = f"{cause.ServiceName} {cause.ProviderName}".lower()
    for hint, provider in _SERVICE_HINTS:
        if hint in text:
            if provider == "openai" and "microsoft" in text:
                return "azure_openai"
            return provider
    return None


def current_model(cause: RootCause) -> str | None:
    """The model (or Azure deployment) named by the root cause's ``ResourceId``, if any."""
    rid = (cause.ResourceId or "").strip()
    if not rid:
        return None
    deployment = re.search(r"/deployments/([^/]+)$", rid, re.IGNORECASE)
    if deployment:
        return deployment.group(1)
    if "/subscriptions/" in rid.lower():  # an Azure account id names no model
        return None
    return rid.rsplit("/", 1)[-1] or None


def cheaper_model(provider: str, model: str) -> str | None:
    """The table's cheaper model for ``model`` (Azure OpenAI deployments use OpenAI names)."""
    table_provider = "openai" if provider == "azure_openai" else provider
    for p, pattern, target in CHEAPER_MODEL:
        if p == table_provider and re.fullmatch(pattern, model):
            return target
    return None


def default_endpoint(provider: str, cause: RootCause) -> str | None:
    """The API endpoint whose configuration the switch changes, from the provider and region."""
    region = cause.RegionId
    if provider == "openai":
        return "https://api.openai.com/v1"
    if provider == "anthropic":
        return "https://api.anthropic.com/v1"
    if provider == "groq":
        return "https://api.groq.com/openai/v1"
    if provider == "aws_bedrock" and region:
        return f"https://bedrock-runtime.{region}.amazonaws.com"
    if provider == "gcp_vertex_ai" and region and cause.SubAccountId:
        base = f"https://{region}-aiplatform.googleapis.com/v1"
        return f"{base}/projects/{cause.SubAccountId}/locations/{region}"
    if provider == "azure_openai" and cause.ResourceId:
        account = re.search(r"/accounts/([^/]+)", cause.ResourceId, re.IGNORECASE)
        if account:
            return f"https://{account.group(1).lower()}.openai.azure.com"
    return None
