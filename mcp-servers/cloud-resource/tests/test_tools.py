"""Every tool, called in process through the MCP client, with good and bad arguments."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from costguard_mcp_cloud import CloudCallPlan, srv
from mcp import Client

AWS_ID = "i-0123456789abcdef0"
GCE_ID = "//compute.googleapis.com/projects/acme-prod/zones/europe-west1-b/instances/batch-7"
AZ_ID = (
    "/subscriptions/64e355d7-997c-491d-b0c1-8414dccfcf42/resourcegroups/rg-ml"
    "/providers/microsoft.compute/virtualmachines/gpu-box"
)
AZ_URL = (
    "https://management.azure.com/subscriptions/64e355d7-997c-491d-b0c1-8414dccfcf42"
    "/resourceGroups/rg-ml/providers/Microsoft.Compute/virtualMachines/gpu-box"
)


def call(tool: str, args: dict[str, Any]):
    async def go():
        async with Client(srv) as c:
            return await c.call_tool(tool, args)

    return anyio.run(go)


def plan_of(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = call(tool, args)
    assert not result.is_error, result.content
    CloudCallPlan.model_validate(result.structured_content)
    assert result.structured_content["dry_run"] is True
    assert result.structured_content["executed"] is False
    return result.structured_content


def error_text(tool: str, args: dict[str, Any]) -> str:
    result = call(tool, args)
    assert result.is_error
    assert result.structured_content is None
    return result.content[0].text


def test_tools_listed_with_output_schema():
    async def go():
        async with Client(srv) as c:
            return (await c.list_tools()).tools

    tools = {t.name: t for t in anyio.run(go)}
    assert set(tools) == {
        "cancel_bigquery_job",
        "stop_instance",
        "rightsize_instance",
        "switch_llm_model",
        "notify_owner",
        "start_instance",
        "set_lambda_limits",
        "delete_idle_volume",
        "restore_volume",
        "check_resource",
        "set_bigquery_bytes_cap",
        "halt_vultr_instance",
        "start_vultr_instance",
    }
    assert tools.pop("check_resource").output_schema["title"] == "ResourceCheck"
    for t in tools.values():
        assert t.description
        assert t.output_schema["title"] == "CloudCallPlan"
        assert t.input_schema["properties"]["dry_run"]["default"] is True
    assert tools["stop_instance"].input_schema["properties"]["provider"]["enum"] == [
        "aws",
        "gcp",
        "azure",
    ]


def test_cancel_bigquery_job():
    p = plan_of(
        "cancel_bigquery_job",
        {"project_id": "acme-analytics", "job_id": "bquxjob_5d1e_18c", "location": "europe-west2"},
    )
    assert (p["provider"], p["service"], p["operation"]) == ("gcp", "bigquery", "jobs.cancel")
    assert p["request"] == {
        "method": "POST",
        "url": "https://bigquery.googleapis.com/bigquery/v2/projects/acme-analytics/jobs/"
        "bquxjob_5d1e_18c/cancel?location=europe-west2",
    }
    assert p["steps"] == [{**{k: p[k] for k in ("service", "operation", "request")}, "note": None}]


def test_stop_instance_aws_from_arn():
    arn = f"arn:aws:ec2:us-east-1:123456789012:instance/{AWS_ID}"
    p = plan_of("stop_instance", {"provider": "aws", "resource_id": arn, "region": "us-east-1"})
    assert (p["service"], p["operation"]) == ("ec2", "StopInstances")
    assert p["request"] == {"InstanceIds": [AWS_ID]}
    assert p["region"] == "us-east-1"
    assert p["permissions"] == ["ec2:StopInstances"]


def test_stop_instance_gcp_and_azure_urls():
    p = plan_of(
        "stop_instance", {"provider": "gcp", "resource_id": GCE_ID, "region": "europe-west1"}
    )
    assert p["request"] == {
        "method": "POST",
        "url": "https://compute.googleapis.com/compute/v1/projects/acme-prod/zones/europe-west1-b"
        "/instances/batch-7/stop",
    }
    p = plan_of("stop_instance", {"provider": "azure", "resource_id": AZ_ID, "region": "eastus"})
    assert p["operation"] == "virtualMachines.deallocate"
    assert p["request"] == {"method": "POST", "url": AZ_URL + "/deallocate?api-version=2024-07-01"}


def test_rightsize_aws_is_stop_modify_start():
    p = plan_of(
        "rightsize_instance",
        {
            "provider": "aws",
            "resource_id": AWS_ID,
            "region": "eu-west-1",
            "target_type": "m5.large",
        },
    )
    assert [s["operation"] for s in p["steps"]] == [
        "StopInstances",
        "ModifyInstanceAttribute",
        "StartInstances",
    ]
    assert p["operation"] == "ModifyInstanceAttribute"
    assert p["request"] == {"InstanceId": AWS_ID, "InstanceType": {"Value": "m5.large"}}


def test_rightsize_gcp_and_azure_bodies():
    p = plan_of(
        "rightsize_instance",
        {
            "provider": "gcp",
            "resource_id": GCE_ID,
            "region": "europe-west1",
            "target_type": "e2-medium",
        },
    )
    assert p["request"]["body"] == {"machineType": "zones/europe-west1-b/machineTypes/e2-medium"}
    assert p["request"]["url"].endswith("/instances/batch-7/setMachineType")
    p = plan_of(
        "rightsize_instance",
        {
            "provider": "azure",
            "resource_id": AZ_ID,
            "region": "eastus",
            "target_type": "Standard_D2s_v5",
        },
    )
    assert p["request"] == {
        "method": "PATCH",
        "url": AZ_URL + "?api-version=2024-07-01",
        "body": {"properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}}},
    }
    assert [s["operation"] for s in p["steps"]][::2] == [
        "virtualMachines.deallocate",
        "virtualMachines.start",
    ]


def test_switch_llm_model_and_notify_owner():
    p = plan_of(
        "switch_llm_model",
        {
            "provider": "aws_bedrock",
            "endpoint": "https://bedrock-runtime.us-east-1.amazonaws.com",
            "current_model": "anthropic.claude-3-opus",
            "target_model": "anthropic.claude-3-haiku",
        },
    )
    assert p["request"]["setting"] == "parameter 'modelId'"
    assert (p["request"]["from_model"], p["request"]["to_model"]) == (
        "anthropic.claude-3-opus",
        "anthropic.claude-3-haiku",
    )
    p = plan_of("notify_owner", {"resource_id": "vol-1", "message": "EBS spend tripled"})
    assert p["request"] == {"resource_id": "vol-1", "message": "EBS spend tripled"}


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        (
            "stop_instance",
            {"provider": "oracle", "resource_id": AWS_ID, "region": "x1"},
            "provider",
        ),
        (
            "stop_instance",
            {"provider": "aws", "resource_id": "vol-0abc", "region": "us-east-1"},
            "EC2",
        ),
        ("stop_instance", {"provider": "gcp", "resource_id": "batch-7", "region": "eu"}, "Compute"),
        (
            "stop_instance",
            {"provider": "azure", "resource_id": AWS_ID, "region": "eastus"},
            "Azure",
        ),
        ("stop_instance", {"provider": "aws", "resource_id": AWS_ID}, "region"),
        (
            "cancel_bigquery_job",
            {"project_id": "P!", "job_id": "j", "location": "US"},
            "project_id",
        ),
        (
            "cancel_bigquery_job",
            {"project_id": "acme-1", "job_id": "a/b", "location": "US"},
            "job_id",
        ),
        (
            "rightsize_instance",
            {
                "provider": "aws",
                "resource_id": AWS_ID,
                "region": "us-east-1",
                "target_type": "m5 xl",
            },
            "target_type",
        ),
        (
            "switch_llm_model",
            {
                "provider": "openai",
                "endpoint": "ftp://x",
                "current_model": "a",
                "target_model": "b",
            },
            "endpoint",
        ),
        (
            "switch_llm_model",
            {
                "provider": "openai",
                "endpoint": "https://api.openai.com/v1",
                "current_model": "gpt-4o",
                "target_model": "gpt-4o",
            },
            "already in use",
        ),
        ("notify_owner", {"resource_id": "x", "message": ""}, "message"),
    ],
)
def test_bad_arguments_are_error_results(tool, args, needle):
    assert needle in error_text(tool, args)


def test_real_execution_is_refused_not_pretended():
    text = error_text(
        "stop_instance",
        {"provider": "aws", "resource_id": AWS_ID, "region": "us-east-1", "dry_run": False},
    )
    assert "real execution is not enabled for provider 'aws'" in text
    text = error_text("notify_owner", {"resource_id": "x", "message": "m", "dry_run": False})
    assert "not enabled" in text
