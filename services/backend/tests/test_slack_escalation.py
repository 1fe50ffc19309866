"""A revision that raises an anomaly's severity tier is announced in Slack (``anomaly_escalated``,
``notify/escalation.py``), against the local Slack Web API of conftest's ``SlackServer``: a request
deferred to the digest is posted at once, a posted alert gets a broadcast thread reply, each tier
is announced once, and the revision and its outbox row are one commit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import pytest
import sqlalchemy as sa
from costguard_backend import crud_anomalies
from costguard_backend.main import create_app
from costguard_backend.models import Outbox
from costguard_backend.notify.deliver import thread_of
from costguard_backend.outbox import OutboxWorker
from costguard_core.models import AnomalyPost
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

ROUTES = '- {channel: "#acct-333", SubAccountId: "333"}\n'
CAUSES = [{"ProviderName": "Google Cloud", "SubAccountId": "333", "ServiceName": "BigQuery",
           "ResourceId": "job-loop", "impact_usd": 40.0, "share": 1.0}]  # fmt: skip


@pytest.fixture
def cfg(settings, slack_server):
    return settings.model_copy(
        update={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_BASE_URL": slack_server.url + "/api/",
            "SLACK_DIGEST_SEVERITIES": "low",
            "SLACK_ROUTES": ROUTES,
        }
    )


@pytest.fixture
def api(cfg):
    with TestClient(create_app(cfg)) as c:
        yield c


def _post(client, h, anomaly_id="bq-loop", **fields):
    """Post (or re-post) an anomaly; return its stored JSON."""
    resp = client.post(
        "/api/v1/anomalies", json=h.anomaly_body(anomaly_id, **fields), headers=h.auth("agent")
    )
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def _action(client, h, anomaly_id="bq-loop", **fields):
    body = h.action_body(anomaly_id, **fields)
    resp = client.post("/api/v1/actions", json=body, headers=h.auth("agent"))
    assert resp.status_code == 201, resp.text
    return resp.json()


def _critical(end="2025-03-14", impact=5120.0, **fields):
    return {"severity": "critical", "impact_usd": impact, "actual_cost": impact + 100, "end": end,
            **fields}  # fmt: skip


def _outbox(engine, **where) -> list[Outbox]:
    with Session(engine) as session:
        stmt = select(Outbox).filter_by(**where).order_by(col(Outbox.id))
        return list(session.exec(stmt))


def _escalations(engine) -> list[Outbox]:
    return _outbox(engine, kind="anomaly_escalated")


def test_deferred_request_is_posted_at_once_when_escalated(api, h, cfg, engine, slack_server):
    # Day 1: the BigQuery loop costs little; its request waits for tomorrow's digest, with
    # another low anomaly's.
    low = {"severity": "low", "impact_usd": 40.0, "actual_cost": 140.0, "root_causes": CAUSES}
    _post(api, h, "bq-loop", **low)
    action = _action(api, h, "bq-loop")
    _post(api, h, "other", start="2025-04-01", end="2025-04-02", **low)
    other = _action(api, h, "other")
    worker, now = OutboxWorker(engine, cfg), datetime.now(UTC)
    assert worker.deliver_due(now=now) == 2 and slack_server.posts == []
    # The loop goes on: the detective re-posts it, critical now.
    _post(api, h, "bq-loop", **_critical(root_causes=CAUSES))
    assert worker.deliver_due() == 1  # the escalation; the digest is not due
    [alert] = slack_server.posts
    assert alert["channel"] == "#acct-333"  # routed, as the request would have been
    assert alert["text"] == f"Approval needed (one approver): {action['title']}"
    fields = " ".join(f["text"] for f in alert["blocks"][1]["fields"])
    assert "*Severity*\ncritical" in fields and "*Impact*\n5,120.00 USD" in fields
    assert "2025-03-10 → 2025-03-14" in fields
    buttons = alert["blocks"][-1]
    assert buttons["block_id"] == f"costguard-action-{action['id']}"
    assert [b["action_id"] for b in buttons["elements"]] == ["approve", "reject"]
    [request] = _outbox(engine, idempotency_key=f"approval-requested-{action['id']}")
    where = {"channel": "CACCT333", "ts": "1700000000.000001"}
    assert request.payload["slack"] == where
    assert request.last_error == "posted on escalation to critical"
    with Session(engine) as session:
        assert thread_of(session, action["id"]) == where  # later replies go to this alert
    # The digest lists the other request only.
    send_at = datetime.combine(now.date() + timedelta(days=1), dtime(9), tzinfo=UTC)
    assert worker.deliver_due(now=send_at) == 1
    [_, digest] = slack_server.posts
    assert digest["text"].endswith(": 1 low-severity anomalies")
    values = [b["elements"][0]["value"] for b in digest["blocks"] if b["type"] == "actions"]
    assert values == [str(other["id"])]
    assert f"Action {action['id']}>" not in str(digest["blocks"])


def test_posted_alert_gets_a_broadcast_thread_reply(api, h, cfg, engine, slack_server):
    action = h.new_action(api, "bq-loop")  # high, 540 USD, 2025-03-10 → 2025-03-12
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 1
    _post(api, h, "bq-loop", **_critical(impact=5120.123456789))
    [row] = _escalations(engine)
    assert row.idempotency_key == "anomaly-escalated-bq-loop-critical"
    assert row.payload == {"anomaly_id": "bq-loop", "from": "high", "to": "critical",
                           "impact_usd": "5120.123456789", "start": "2025-03-10",
                           "end": "2025-03-14"}  # fmt: skip
    assert worker.deliver_due() == 1
    [alert, reply] = slack_server.posts
    assert "thread_ts" not in alert
    assert reply["thread_ts"] == "1700000000.000001" and reply["channel"] == "CCOSTGUARD"
    assert reply["reply_broadcast"] is True
    assert reply["text"] == (
        "Severity raised high → critical: impact now 5,120.12 USD (2025-03-10 → 2025-03-14); "
        f"action #{action['id']} is pending_approval"
    )
    [row] = _escalations(engine)
    assert (row.status, row.last_error) == ("delivered", None)


def test_alert_posted_after_the_revision_gets_no_reply(api, h, cfg, engine, slack_server):
    # The request and its escalation are delivered in one worker round: the alert, posted
    # first, already shows the new tier, so a reply announcing it would say nothing new.
    action = h.new_action(api, "bq-loop")  # high; its request not delivered yet
    _post(api, h, "bq-loop", **_critical())
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 2
    [alert] = slack_server.posts
    assert "*Severity*\ncritical" in " ".join(f["text"] for f in alert["blocks"][1]["fields"])
    [request] = _outbox(engine, idempotency_key=f"approval-requested-{action['id']}")
    assert request.payload["shown_severity"] == "critical"
    [row] = _escalations(engine)
    assert (row.status, row.last_error) == (
        "delivered",
        f"action {action['id']}: its alert already shows critical",
    )


def test_revision_keeping_or_lowering_the_tier_announces_nothing(api, h, cfg, engine, slack_server):
    h.new_action(api, "bq-loop")  # high
    worker = OutboxWorker(engine, cfg)
    worker.deliver_due()
    _post(api, h, "bq-loop", impact_usd=900.0, end="2025-03-13")  # still high
    stored = _post(api, h, "bq-loop", severity="medium", impact_usd=300.0, end="2025-03-14")
    assert (stored["severity"], stored["end"]) == ("medium", "2025-03-14")  # both revised
    assert _escalations(engine) == []
    assert worker.deliver_due() == 0 and len(slack_server.posts) == 1


def test_each_tier_is_announced_once(api, h, cfg, engine, slack_server):
    h.new_action(api, "bq-loop")  # high
    worker = OutboxWorker(engine, cfg)
    worker.deliver_due()
    _post(api, h, "bq-loop", **_critical(end="2025-03-13", impact=3000.0))
    _post(api, h, "bq-loop", **_critical(end="2025-03-14", impact=5120.0))
    # Lowered, then raised again to the tier already announced: the revisions still commit.
    _post(api, h, "bq-loop", severity="high", impact_usd=900.0, end="2025-03-15")
    stored = _post(api, h, "bq-loop", **_critical(end="2025-03-16", impact=8000.0))
    assert (stored["severity"], stored["end"], stored["impact_usd"]) == (
        "critical",
        "2025-03-16",
        8000.0,
    )
    [row] = _escalations(engine)
    assert row.payload["end"] == "2025-03-13"
    assert worker.deliver_due() == 1
    [_, reply] = slack_server.posts
    assert reply["text"].startswith("Severity raised high → critical: impact now 8,000.00 USD")
    assert worker.deliver_due() == 0 and len(slack_server.posts) == 2


def test_the_creation_tier_counts_as_told(api, h, cfg, engine, slack_server):
    # The alert said high. Lowered to medium, then back to high: nothing new to tell. Raised on
    # to critical: announced from high, the highest tier told, not from the medium before it.
    h.new_action(api, "bq-loop")  # high
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 1
    _post(api, h, "bq-loop", severity="medium", impact_usd=300.0, end="2025-03-13")
    stored = _post(api, h, "bq-loop", impact_usd=900.0, end="2025-03-14")
    assert (stored["severity"], stored["end"]) == ("high", "2025-03-14")  # revised
    assert _escalations(engine) == []
    _post(api, h, "bq-loop", severity="medium", impact_usd=300.0, end="2025-03-15")
    _post(api, h, "bq-loop", **_critical(end="2025-03-16"))
    [row] = _escalations(engine)
    assert (row.idempotency_key, row.payload["from"], row.payload["to"]) == (
        "anomaly-escalated-bq-loop-critical",
        "high",
        "critical",
    )
    assert worker.deliver_due() == 1
    [_, reply] = slack_server.posts
    assert reply["text"].startswith("Severity raised high → critical: impact now 5,120.00 USD")


def test_a_tier_under_one_announced_is_not_announced(api, h, cfg, engine, slack_server):
    # Created medium, announced critical, lowered to medium: raised to high, it is still under
    # what the user was told.
    _post(api, h, "bq-loop", severity="medium", impact_usd=300.0)
    _action(api, h, "bq-loop")
    worker = OutboxWorker(engine, cfg)
    _post(api, h, "bq-loop", **_critical(end="2025-03-13"))
    _post(api, h, "bq-loop", severity="medium", impact_usd=300.0, end="2025-03-14")
    stored = _post(api, h, "bq-loop", impact_usd=900.0, end="2025-03-15")
    assert (stored["severity"], stored["end"]) == ("high", "2025-03-15")
    assert [(r.payload["from"], r.payload["to"]) for r in _escalations(engine)] == [
        ("medium", "critical")
    ]
    assert worker.deliver_due() == 2  # the request (showing high now) and that escalation
    assert len(slack_server.posts) == 1


def test_a_reply_tells_the_current_tier_with_its_figures(api, h, cfg, engine, slack_server):
    # Raised medium → high, then → critical before the worker ran: one reply, from the tier
    # the alert showed to the current one, with the current figures (not "medium → high" over
    # a critical-size impact, then "high → critical").
    _post(api, h, "bq-loop", severity="medium", impact_usd=300.0)
    action = _action(api, h, "bq-loop")
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 1
    _post(api, h, "bq-loop", impact_usd=900.0, end="2025-03-13")  # high
    _post(api, h, "bq-loop", **_critical(end="2025-03-14"))
    rows = _escalations(engine)
    assert [(r.payload["from"], r.payload["to"]) for r in rows] == [
        ("medium", "high"),
        ("high", "critical"),
    ]
    assert worker.deliver_due() == 2
    [_, reply] = slack_server.posts
    assert reply["text"] == (
        "Severity raised medium → critical: impact now 5,120.00 USD (2025-03-10 → 2025-03-14); "
        f"action #{action['id']} is pending_approval"
    )
    [request] = _outbox(engine, idempotency_key=f"approval-requested-{action['id']}")
    assert request.payload["shown_severity"] == "critical"  # what its thread has told
    assert [(r.status, r.last_error) for r in _escalations(engine)] == [
        ("delivered", None),
        ("delivered", f"action {action['id']}: its alert already shows critical"),
    ]


def test_a_tier_lowered_again_before_delivery_is_not_announced(api, h, cfg, engine, slack_server):
    _post(api, h, "bq-loop", severity="medium", impact_usd=300.0)
    _action(api, h, "bq-loop")
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 1
    _post(api, h, "bq-loop", impact_usd=900.0, end="2025-03-13")  # high
    _post(api, h, "bq-loop", severity="medium", impact_usd=400.0, end="2025-03-14")
    assert worker.deliver_due() == 1
    assert len(slack_server.posts) == 1  # no "medium → high" over a medium impact
    [row] = _escalations(engine)
    assert (row.status, row.last_error) == (
        "delivered",
        "bq-loop is medium now: not above medium, already told",
    )


def test_revision_and_its_escalation_are_one_commit(api, h, engine, monkeypatch):
    # The revision's first commit goes through, then the process dies. Committed apart, the
    # anomaly would be critical and nobody would ever be told.
    _post(api, h, "bq-loop")  # high
    commits = h.die_after_first_commit(monkeypatch)
    with pytest.raises(h.Died):
        _post(api, h, "bq-loop", **_critical())
    monkeypatch.undo()
    assert len(commits) == 1
    stored = api.get("/api/v1/anomalies/bq-loop", headers=h.auth("viewer")).json()
    assert (stored["severity"], stored["end"]) == ("critical", "2025-03-14")
    assert [r.payload["to"] for r in _escalations(engine)] == ["critical"]


def _wait_for_a_lock_wait(engine: sa.Engine, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar():
                return True
        time.sleep(0.02)
    return False


def test_a_concurrent_announcement_loses_the_notification_not_the_revision(api, h, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the key check cannot miss a concurrent row")
    _post(api, h, "bq-loop")  # high
    rival = Session(engine)
    rival.add(
        Outbox(kind="anomaly_escalated", payload={"anomaly_id": "bq-loop", "by": "rival"},
               idempotency_key="anomaly-escalated-bq-loop-critical")
    )  # fmt: skip
    rival.flush()  # not committed: the revision's check misses it and its insert waits on it
    outcome: dict[str, object] = {}

    def revise() -> None:
        try:
            with Session(engine) as session:
                body = AnomalyPost.model_validate(h.anomaly_body("bq-loop", **_critical()))
                crud_anomalies.create_anomaly(
                    session=session,
                    anomaly_in=body,
                    actor="agent",
                    request_id=None,
                    image_digest="sha256:test",
                )
            outcome["ok"] = True
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=revise)
    thread.start()
    waited = _wait_for_a_lock_wait(engine)
    rival.commit()
    rival.close()
    thread.join(30)
    assert waited and outcome == {"ok": True}
    stored = api.get("/api/v1/anomalies/bq-loop", headers=h.auth("viewer")).json()
    assert (stored["severity"], stored["end"]) == ("critical", "2025-03-14")
    assert [r.payload.get("by") for r in _escalations(engine)] == ["rival"]


def test_what_an_escalation_notes_when_it_posts_nothing(
    api, h, cfg, settings, engine, slack_server
):
    worker = OutboxWorker(engine, cfg)
    # No action on the anomaly.
    _post(api, h, "alone")
    _post(api, h, "alone", **_critical())
    # The request is not delivered yet (say, Slack failed and it waits for its retry).
    action = h.new_action(api, "bq-loop")
    later = datetime.now(UTC) + timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(
            sa.update(Outbox)
            .where(col(Outbox.idempotency_key) == f"approval-requested-{action['id']}")
            .values(next_attempt_at=later)
        )
    _post(api, h, "bq-loop", **_critical())
    assert worker.deliver_due() == 2 and slack_server.posts == []
    notes = {r.payload["anomaly_id"]: r.last_error for r in _escalations(engine)}
    assert notes == {
        "alone": "no alert to escalate",
        "bq-loop": f"action {action['id']}: request not delivered yet "
        "(it will show the new figures)",
    }
    assert worker.deliver_due(now=later) == 1  # the request, showing the new figures
    [alert] = slack_server.posts
    assert "*Severity*\ncritical" in [f["text"] for f in alert["blocks"][1]["fields"]]
    # Slack not configured: logged, as the other kinds.
    _post(api, h, "quiet", severity="low", start="2025-04-01", end="2025-04-02")
    _action(api, h, "quiet")
    _post(api, h, "quiet", severity="medium", start="2025-04-01", end="2025-04-03")
    assert OutboxWorker(engine, settings).deliver_due() == 2  # the request and the escalation
    assert _outbox(engine, idempotency_key="anomaly-escalated-quiet-medium")[0].last_error == (
        "logged: SLACK_BOT_TOKEN not set"
    )


def test_a_retry_posts_only_what_failed(api, h, cfg, engine, slack_server):
    # Two actions on the anomaly, two alerts; Slack refuses the second reply once. The retry
    # posts that one only: the first is not repeated in its thread.
    first = h.new_action(api, "bq-loop")
    second = _action(api, h, "bq-loop", resource_id="i-0def", parameters={"resource_id": "i-0def"})
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 2  # alerts 1700000000.000001 and .000002
    slack_server.refuse = lambda body: body.get("thread_ts") == "1700000000.000002"
    _post(api, h, "bq-loop", **_critical())
    assert worker.deliver_due() == 1
    [row] = _escalations(engine)
    assert row.status == "pending" and "ratelimited" in (row.last_error or "")
    assert row.payload["posted_for"] == [first["id"]]
    slack_server.refuse = lambda body: False
    assert worker.deliver_due(now=datetime.now(UTC) + timedelta(minutes=5)) == 1
    replies = [(p["thread_ts"], p["text"].split("; ")[1]) for p in slack_server.posts[2:]]
    assert replies == [
        ("1700000000.000001", f"action #{first['id']} is pending_approval"),
        ("1700000000.000002", f"action #{second['id']} is pending_approval"),
    ]
    [row] = _escalations(engine)
    assert (row.status, row.last_error) == ("delivered", None)


def test_an_escalation_reply_whose_answer_was_lost_is_not_posted_again(
    api, h, cfg, engine, slack_server, monkeypatch
):
    # The reply went out but its answer was lost: the escalation row is retried, finds the
    # reply in the alert's thread by its key, and does not post it again.
    h.new_action(api, "bq-loop")
    worker = OutboxWorker(engine, cfg)
    assert worker.deliver_due() == 1
    _post(api, h, "bq-loop", **_critical(impact=5120.123456789))
    lost = h.lose_first_slack_answer(monkeypatch)
    assert worker.deliver_due() == 1 and len(lost) == 1
    [row] = _escalations(engine)
    assert row.status == "pending" and row.attempts == 1
    assert worker.deliver_due(now=datetime.now(UTC) + timedelta(hours=1)) == 1
    [alert, reply] = slack_server.posts
    assert reply["thread_ts"] == "1700000000.000001" and reply["text"] == lost[0]
    assert slack_server.history_reads[-1]["path"] == "/api/conversations.replies"
    [row] = _escalations(engine)
    assert row.status == "delivered" and row.attempts == 2
