"""costguard_mcp_cloud: the MCP cloud-resource server (dry-run remediation plans)."""

from costguard_mcp_cloud.plans import CloudCall, CloudCallPlan
from costguard_mcp_cloud.server import srv

__all__ = ["CloudCall", "CloudCallPlan", "srv"]
