"""The runner's ``GET /metrics``: pass counts, failures, items, durations, last success."""

from __future__ import annotations

import time
from datetime import date

from costguard_agents.runner import agent_name, create_runner_app
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel


class Item(BaseModel):
    n: int


def samples(http: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` from the app's exposition text."""
    answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


class Pass:
    """A pass that creates ``n`` items per call, or raises while ``fail`` is set."""

    def __init__(self, n: int) -> None:
        self.n, self.fail, self.since = n, False, []

    def __call__(self, since: date | None) -> list[Item]:
        self.since.append(since)
        time.sleep(0.01)
        if self.fail:
            raise RuntimeError("backend down")
        return [Item(n=i) for i in range(self.n)]


def test_metrics_count_passes_items_and_failures() -> None:
    run = Pass(3)
    app = create_runner_app(title="CostGuard detective agent", run=run)
    with TestClient(app, raise_server_exceptions=False) as http:
        before = samples(http)
        assert before[key("costguard_agent_passes_total", agent="detective", trigger="manual")] == 0
        assert before[key("costguard_agent_interval_seconds", agent="detective")] == 0
        assert not any(n == "costguard_agent_last_success_timestamp_seconds" for n, _ in before)

        assert len(http.post("/run", params={"since": "2026-10-01"}).json()) == 3
        assert len(http.post("/run").json()) == 3
        run.fail = True
        assert http.post("/run").status_code == 500
        after = samples(http)

    d = {"agent": "detective"}
    assert after[key("costguard_agent_passes_total", trigger="manual", **d)] == 3
    assert after[key("costguard_agent_pass_failures_total", **d)] == 1
    assert after[key("costguard_agent_items_created_total", **d)] == 6
    assert after[key("costguard_agent_pass_duration_seconds_count", **d)] == 3
    assert after[key("costguard_agent_last_pass_duration_seconds", **d)] >= 0.01
    last_ok = after[key("costguard_agent_last_success_timestamp_seconds", **d)]
    assert time.time() - 60 < last_ok <= time.time()
    assert run.since == [date(2026, 10, 1), None, None]


def test_scheduled_passes_are_labelled_and_apps_do_not_share_counts() -> None:
    run = Pass(1)
    scheduled = create_runner_app(
        title="CostGuard optimizer agent", run=run, interval_s=0.05, agent="optimizer"
    )
    other = create_runner_app(title="CostGuard optimizer agent", run=Pass(0))
    with TestClient(scheduled) as http, TestClient(other) as http_other:
        items = key("costguard_agent_items_created_total", agent="optimizer")
        deadline = time.monotonic() + 10
        while (got := samples(http))[items] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got[key("costguard_agent_interval_seconds", agent="optimizer")] == 0.05
        assert got[key("costguard_agent_passes_total", agent="optimizer", trigger="scheduled")] >= 2
        assert got[items] >= 2
        untouched = samples(http_other)
        assert untouched[key("costguard_agent_items_created_total", agent="optimizer")] == 0


def test_agent_name_from_title() -> None:
    assert agent_name("CostGuard detective agent") == "detective"
    assert agent_name("CostGuard optimizer agent") == "optimizer"
    assert agent_name("CostGuard") == "agent"
