"""Image digests: every Dockerfile bakes the build identity into ENV IMAGE_DIGEST from the
build-arg images.yml passes, and an executor whose IMAGE_DIGEST the backend's policy does not
list refuses to execute (before any tool call) while a listed one executes. Real processes over
real HTTP: backend with POLICY_FILE, MCP server, executor restarted with another digest."""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml
from costguard_core.client import BackendClient
from costguard_core.models import ActionCreate, ActionStatus, AnomalyCreate

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted([*ROOT.glob("services/*/Dockerfile"), *ROOT.glob("mcp-servers/*/Dockerfile")])


def test_every_image_carries_its_build_identity() -> None:
    assert len(DOCKERFILES) == 5
    for path in DOCKERFILES:
        text = path.read_text()
        arg = text.index("ARG IMAGE_DIGEST=local")
        assert re.search(r"^ENV IMAGE_DIGEST=\$\{IMAGE_DIGEST\}$", text[arg:], re.M), path
        assert arg > text.rindex("RUN "), f"{path}: declare IMAGE_DIGEST after the last RUN"
    workflow = yaml.safe_load((ROOT / ".github/workflows/images.yml").read_text())
    build = next(s for s in workflow["jobs"]["build"]["steps"] if s.get("id") == "build")
    assert build["with"]["build-args"].strip() == "IMAGE_DIGEST=sha-${{ github.sha }}"


def _action(agent: BackendClient, n: int) -> int:
    agent.create_anomaly(
        AnomalyCreate(
            id="anom-digest",
            start="2026-11-01",
            end="2026-11-01",
            scope={},
            expected_cost=1.0,
            actual_cost=9.0,
            impact_usd=8.0,
            severity="low",
            confidence=0.9,
            root_causes=[],
        )
    )
    body = ActionCreate(
        anomaly_id="anom-digest",
        action_type="cancel_bigquery_job",
        provider="gcp",
        title=f"cancel job {n}",
        parameters={"project_id": "acme-analytics", "job_id": f"job_{n}", "location": "US"},
        estimated_monthly_saving_usd="5",
    )
    return agent.create_action(body).id


def _final(client: BackendClient, action_id: int):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        action = client.get_action(action_id)
        if action.status in (ActionStatus.executed, ActionStatus.failed):
            return action
        time.sleep(0.2)
    raise AssertionError(f"action {action_id} stuck in {action.status}")


def test_only_listed_executor_images_execute(tmp_path: Path, make_stack, keys) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("allowed_image_digests: ['sha-good']\n")
    extra = {"POLICY_FILE": str(policy), "IMAGE_DIGEST": "sha-unlisted"}
    with make_stack(
        tmp_path,
        f"sqlite:///{tmp_path / 'd.db'}",
        services=("backend", "mcp", "executor"),
        extra_env=extra,
    ) as stack:
        stack.start()
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        approver = BackendClient(stack.urls["backend"], keys["approver"])

        refused_id = _action(agent, 1)
        approver.approve(refused_id)
        refused = _final(approver, refused_id)
        assert refused.status == ActionStatus.failed
        result = refused.execution_result
        assert result["failed_check"] == "allowed_image_digests"
        assert result["prechecks"]["image_digest"]["allowed"] == ["sha-good"]
        assert result["tool_calls"] == [] and "plan" not in result

        proc = stack.procs.pop("executor")
        proc.terminate()
        proc.wait(timeout=10)
        stack.overrides["executor"] = {"IMAGE_DIGEST": "sha-good"}
        stack.start(["executor"])
        ok_id = _action(agent, 2)
        approver.approve(ok_id)
        done = _final(approver, ok_id)
        assert done.status == ActionStatus.executed, done.execution_result
        assert done.execution_result["image_digest"] == "sha-good"
