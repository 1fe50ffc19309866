"""Real execution (dry_run=False) through boto3 against moto, once per idempotency key, with the
undo call that reverses it; and the LLM route store."""

from __future__ import annotations

import json

import anyio
import boto3
import pytest
from costguard_mcp_cloud import srv
from costguard_mcp_cloud.ledger import counts
from mcp import Client
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    monkeypatch.setenv("MCP_EXECUTE_PROVIDERS", "aws,llm")
    monkeypatch.setenv("MCP_LEDGER_PATH", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("LLM_ROUTES_PATH", str(tmp_path / "routes.json"))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def call(tool: str, args: dict) -> dict:
    async def go():
        async with Client(srv) as c:
            result = await c.call_tool(tool, args)
        assert not result.is_error, result.content
        return result.structured_content

    return anyio.run(go)


def _instance(ec2) -> str:
    run = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="m5.large")
    return run["Instances"][0]["InstanceId"]


def _state(ec2, iid):
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def test_stop_runs_once_per_key_and_undo_starts_it(aws, tmp_path):
    iid = _instance(aws)
    args = {"provider": "aws", "resource_id": iid, "region": REGION, "dry_run": False}
    first = call("stop_instance", {**args, "idempotency_key": "k1"})
    assert first["executed"] is True and first["dry_run"] is False
    assert first["outcome"]["before"]["state"] == "running"
    assert _state(aws, iid)["State"]["Name"] == "stopped"
    again = call("stop_instance", {**args, "idempotency_key": "k1"})
    assert again["replayed"] is True and again["outcome"] == first["outcome"]
    assert counts(tmp_path / "ledger.db") == {"k1": (1, 2)}
    undo = first["outcome"]["undo"]
    assert undo["tool"] == "start_instance"
    call(undo["tool"], {**undo["arguments"], "dry_run": False})
    assert _state(aws, iid)["State"]["Name"] == "running"


def test_resize_and_back(aws):
    iid = _instance(aws)
    done = call(
        "rightsize_instance",
        {
            "provider": "aws",
            "resource_id": iid,
            "region": REGION,
            "target_type": "t3.small",
            "dry_run": False,
        },
    )
    assert _state(aws, iid)["InstanceType"] == "t3.small"
    undo = done["outcome"]["undo"]
    call(undo["tool"], {**undo["arguments"], "dry_run": False})
    assert _state(aws, iid)["InstanceType"] == "m5.large"


def test_idle_volume_is_snapshotted_then_deleted_and_restorable(aws):
    vol = aws.create_volume(AvailabilityZone="us-east-1a", Size=50)["VolumeId"]
    done = call("delete_idle_volume", {"volume_id": vol, "region": REGION, "dry_run": False})
    assert aws.describe_volumes(Filters=[{"Name": "volume-id", "Values": [vol]}])["Volumes"] == []
    snap = done["outcome"]["did"]["snapshot_id"]
    assert aws.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["VolumeId"] == vol
    undo = done["outcome"]["undo"]
    restored = call(undo["tool"], {**undo["arguments"], "dry_run": False})
    new_id = restored["outcome"]["after"]["volume_id"]
    assert aws.describe_volumes(VolumeIds=[new_id])["Volumes"][0]["SnapshotId"] == snap


def test_attached_volume_is_refused(aws):
    iid = _instance(aws)
    vol = aws.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    aws.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")

    async def go():
        async with Client(srv) as c:
            return await c.call_tool(
                "delete_idle_volume", {"volume_id": vol, "region": REGION, "dry_run": False}
            )

    result = anyio.run(go)
    assert result.is_error and "not idle" in result.content[0].text


def test_lambda_memory_and_reserved_concurrency(aws):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def handler(e, c):\n    return 1\n")
    lam.create_function(
        FunctionName="etl",
        Runtime="python3.11",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": buf.getvalue()},
        MemorySize=3008,
    )
    done = call(
        "set_lambda_limits",
        {
            "function_name": "etl",
            "region": REGION,
            "memory_mb": 512,
            "reserved_concurrency": 5,
            "dry_run": False,
        },
    )
    assert done["outcome"]["before"] == {"memory_mb": 3008, "reserved_concurrency": None}
    assert done["outcome"]["after"] == {"memory_mb": 512, "reserved_concurrency": 5}
    assert lam.get_function_concurrency(FunctionName="etl")["ReservedConcurrentExecutions"] == 5


def test_llm_route_switch_and_undo(aws, tmp_path):
    args = {
        "provider": "openai",
        "endpoint": "https://api.openai.com/v1/chat/completions",
        "current_model": "gpt-4o",
        "target_model": "gpt-4o-mini",
        "dry_run": False,
    }
    done = call("switch_llm_model", args)
    routes = json.loads((tmp_path / "routes.json").read_text())
    assert routes == {args["endpoint"]: "gpt-4o-mini"}
    undo = done["outcome"]["undo"]
    call("switch_llm_model", {"provider": "openai", **undo["arguments"], "dry_run": False})
    assert json.loads((tmp_path / "routes.json").read_text()) == {args["endpoint"]: "gpt-4o"}
