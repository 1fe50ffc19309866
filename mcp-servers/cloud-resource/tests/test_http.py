"""The server as a real process: a tool call over streamable HTTP, and the Host guard."""

from __future__ import annotations

import anyio
import httpx
from mcp import Client


def test_tool_call_over_http(mcp_process):
    async def go():
        async with Client(f"{mcp_process}/mcp") as c:
            return await c.call_tool(
                "stop_instance",
                {"provider": "aws", "resource_id": "i-0123456789abcdef0", "region": "us-east-2"},
            )

    result = anyio.run(go)
    assert not result.is_error
    assert result.structured_content["operation"] == "StopInstances"
    assert result.structured_content["request"] == {"InstanceIds": ["i-0123456789abcdef0"]}


def test_host_allow_list(mcp_process):
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Accept": "application/json, text/event-stream"}
    port = mcp_process.rsplit(":", 1)[1]
    refused = httpx.post(
        f"{mcp_process}/mcp", json=body, headers={**headers, "Host": f"evil.example:{port}"}
    )
    assert refused.status_code == 421
    allowed = httpx.post(
        f"{mcp_process}/mcp", json=body, headers={**headers, "Host": f"cloud:{port}"}
    )
    assert allowed.status_code != 421
