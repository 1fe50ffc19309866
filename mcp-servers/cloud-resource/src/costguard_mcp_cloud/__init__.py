"""costguard_mcp_cloud: the MCP cloud-resource server (remediation plans; real calls opt-in)."""

from costguard_mcp_cloud import tools_more  # noqa: F401  (registers its tools on srv)
from costguard_mcp_cloud.plans import CloudCall, CloudCallPlan
from costguard_mcp_cloud.server import srv

__all__ = ["CloudCall", "CloudCallPlan", "srv"]
