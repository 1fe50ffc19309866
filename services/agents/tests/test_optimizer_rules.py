"""``propose`` on crafted anomalies: one test per rule, plus the saving arithmetic."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from agents_testkit import anomaly, cause
from costguard_agents.optimizer import monthly_saving, propose
from costguard_agents.optimizer.compute import bigquery_job, one_size_down

EC2 = "i-0123456789abcdef0"
AZ_OPENAI = (
    "/subscriptions/x/resourceGroups/ai/providers/Microsoft.CognitiveServices"
    "/accounts/Acme-AI/deployments/gpt-4o"
)
AZ_VM = (
    "/subscriptions/64e355d7-997c-491d-b0c1-8414dccfcf42/resourcegroups/rg"
    "/providers/microsoft.compute/virtualmachines/web-1"
)


def test_bigquery_job_is_cancelled_with_project_and_location():
    a = anomaly(
        [
            cause(
                ProviderName="Google Cloud",
                ServiceName="BigQuery Analysis",
                SubAccountId="acme-analytics",
                RegionId="europe-west2",
                ResourceId="bquxjob_1a2b_18c2",
            )
        ]
    )
    act = propose(a)
    assert act.action_type == "cancel_bigquery_job"
    assert act.parameters == {
        "project_id": "acme-analytics",
        "job_id": "bquxjob_1a2b_18c2",
        "location": "europe-west2",
    }
    assert (act.provider, act.risk, act.anomaly_id) == ("gcp", "low", a.id)


def test_bigquery_job_id_forms():
    assert bigquery_job("acme-prod:US.job_9", None, None) == {
        "project_id": "acme-prod",
        "job_id": "job_9",
        "location": "US",
    }
    assert bigquery_job("projects/acme-prod/jobs/j1?location=EU", "other-proj", "US") == {
        "project_id": "acme-prod",
        "job_id": "j1",
        "location": "EU",
    }
    assert bigquery_job("bquxjob_1", "acme-prod", None) is None  # no location known
    assert bigquery_job(None, "acme-prod", "US") is None


def test_bigquery_without_a_job_id_notifies_the_owner():
    act = propose(
        anomaly(
            [
                cause(
                    ProviderName="Google Cloud",
                    ServiceName="BigQuery",
                    SubAccountId="acme-analytics",
                    RegionId="US",
                )
            ]
        )
    )
    assert act.action_type == "notify_owner"
    assert act.parameters["resource_id"] == "Google Cloud/acme-analytics/BigQuery"


def test_ec2_spike_stops_the_instance():
    act = propose(anomaly([cause(ResourceId=EC2, RegionId="us-east-1")]))
    assert act.action_type == "stop_instance"
    assert act.parameters == {"provider": "aws", "resource_id": EC2, "region": "us-east-1"}
    assert (act.risk, act.resource_id) == ("medium", EC2)


def test_level_shift_rightsizes_when_the_type_is_known():
    a = anomaly(
        [cause(ResourceId=EC2, RegionId="us-east-1")],
        end=date(2026, 10, 5),
        scope={"InstanceType": "m5.4xlarge"},
    )
    act = propose(a)
    assert act.action_type == "rightsize_instance"
    assert act.parameters["target_type"] == "m5.2xlarge"
    # Same shape without a known type: stop, saying why it is not a rightsizing.
    act = propose(anomaly([cause(ResourceId=EC2, RegionId="us-east-1")], end=date(2026, 10, 5)))
    assert act.action_type == "stop_instance"
    assert "instance type" in act.description


def test_level_shift_needs_prior_spend():
    a = anomaly(
        [cause(ResourceId=EC2, RegionId="us-east-1")],
        end=date(2026, 10, 5),
        expected_cost=0.0,
        scope={"InstanceType": "m5.4xlarge"},
    )
    assert propose(a).action_type == "stop_instance"


def test_azure_vm_and_non_instance_resources():
    act = propose(
        anomaly(
            [
                cause(
                    ProviderName="Microsoft",
                    ServiceName="Virtual Machines",
                    ResourceId=AZ_VM,
                    RegionId="eastus",
                )
            ]
        )
    )
    assert (act.action_type, act.parameters["provider"]) == ("stop_instance", "azure")
    for rid in ("vol-0abc1234", AZ_VM.replace("virtualmachines/web-1", "disks/web-1_osdisk")):
        act = propose(anomaly([cause(ResourceId=rid, RegionId="eastus")]))
        assert act.action_type == "notify_owner"
        assert act.parameters["resource_id"] == rid


@pytest.mark.parametrize(
    ("fields", "provider", "model", "target"),
    [
        (
            {
                "ProviderName": "AWS",
                "ServiceName": "Amazon Bedrock",
                "RegionId": "us-east-1",
                "ResourceId": "arn:aws:bedrock:us-east-1::foundation-model/"
                "anthropic.claude-3-opus-20240229-v1:0",
            },
            "aws_bedrock",
            "anthropic.claude-3-opus-20240229-v1:0",
            "anthropic.claude-3-haiku-20240307-v1:0",
        ),
        (
            {
                "ProviderName": "OpenAI",
                "ServiceName": "OpenAI API",
                "ResourceId": "gpt-4o-2024-08-06",
            },
            "openai",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
        ),
        (
            {
                "ProviderName": "Microsoft",
                "ServiceName": "Azure OpenAI Service",
                "ResourceId": AZ_OPENAI,
            },
            "azure_openai",
            "gpt-4o",
            "gpt-4o-mini",
        ),
        (
            {
                "ProviderName": "Google Cloud",
                "ServiceName": "Vertex AI",
                "RegionId": "us-central1",
                "SubAccountId": "acme-ml",
                "ResourceId": "gemini-1.5-pro-002",
            },
            "gcp_vertex_ai",
            "gemini-1.5-pro-002",
            "gemini-1.5-flash-002",
        ),
    ],
)
def test_llm_spend_switches_to_a_cheaper_model(fields, provider, model, target):
    act = propose(anomaly([cause(**fields)]))
    assert act.action_type == "switch_llm_model"
    assert act.parameters["provider"] == provider
    assert (act.parameters["current_model"], act.parameters["target_model"]) == (model, target)
    assert act.parameters["endpoint"].startswith("https://")
    assert act.risk == "medium"


def test_llm_endpoints():
    az = propose(
        anomaly(
            [
                cause(
                    ProviderName="Microsoft",
                    ServiceName="Azure OpenAI Service",
                    ResourceId=AZ_OPENAI,
                )
            ]
        )
    )
    assert az.parameters["endpoint"] == "https://acme-ai.openai.azure.com"
    br = propose(
        anomaly(
            [
                cause(
                    ServiceName="Amazon Bedrock",
                    RegionId="eu-west-1",
                    ResourceId="meta.llama3-1-70b-instruct-v1:0",
                )
            ]
        )
    )
    assert br.parameters["endpoint"] == "https://bedrock-runtime.eu-west-1.amazonaws.com"


def test_cheapest_model_already_in_use_notifies():
    act = propose(
        anomaly([cause(ProviderName="OpenAI", ServiceName="OpenAI API", ResourceId="gpt-4o-mini")])
    )
    assert act.action_type == "notify_owner"


def test_other_services_notify_and_no_cause_proposes_nothing():
    act = propose(
        anomaly([cause(ServiceName="Amazon Simple Storage Service", ResourceId="logs-b")])
    )
    assert (act.action_type, act.risk) == ("notify_owner", "low")
    assert "logs-b" in act.parameters["message"]
    assert propose(anomaly([])) is None


def test_top_root_cause_is_the_largest_impact():
    small = cause(ServiceName="Amazon Simple Storage Service", ResourceId="b", impact_usd=10.0)
    big = cause(ResourceId=EC2, RegionId="us-east-1", impact_usd=290.0)
    assert propose(anomaly([small, big])).action_type == "stop_instance"


def test_monthly_saving_is_daily_excess_times_30_4():
    # 1000 USD over 4 UTC days = 250/day; × 30.4 = 7600.00
    a = anomaly([cause()], end=date(2026, 10, 4), impact_usd=1000.0)
    assert monthly_saving(a) == Decimal("7600.00")
    # one day, 12.345 USD → 375.288 → rounded half-up to cents
    assert monthly_saving(anomaly([cause()], impact_usd=12.345)) == Decimal("375.29")
    assert monthly_saving(anomaly([cause()], impact_usd=-5.0)) == Decimal("0.00")
    act = propose(a)
    assert act.estimated_monthly_saving_usd == Decimal("7600.00")


@pytest.mark.parametrize(
    ("provider", "current", "smaller"),
    [
        ("aws", "m5.2xlarge", "m5.xlarge"),
        ("aws", "m5.xlarge", "m5.large"),
        ("aws", "m5.large", None),
        ("aws", "t3.large", "t3.medium"),
        ("aws", "m5.12xlarge", None),
        ("gcp", "e2-standard-8", "e2-standard-4"),
        ("gcp", "e2-standard-2", None),
        ("azure", "Standard_D8s_v5", "Standard_D4s_v5"),
        ("azure", "", None),
    ],
)
def test_one_size_down(provider, current, smaller):
    assert one_size_down(provider, current) == smaller
