"""Two outbox workers (two backend replicas) on one PostgreSQL database: a request deferred to the
daily digest, whose anomaly is escalated while that digest goes out, is posted once, either in the
digest or as its own alert, never in both (two sets of buttons for one action); a request first
delivered while its day's digest goes out is posted once too, never in neither; a request whose
anomaly is raised to critical while it is first delivered is told (posted at once, or a reply);
a worker whose host died holding a row lock stalls the other for one lease at most, per row.

One worker is held inside its Slack post (after it decided what to post, before it commits); the
other then runs its delivery. It must wait for the first to commit and decide on what it did."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from costguard_backend.core.db import bound_row_locks
from costguard_backend.main import create_app
from costguard_backend.models import Outbox
from costguard_backend.notify import deliver, slack
from costguard_backend.outbox import OutboxWorker
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select


@pytest.fixture
def cfg(settings, slack_server):
    return settings.model_copy(
        update={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_BASE_URL": slack_server.url + "/api/",
            "SLACK_DIGEST_SEVERITIES": "low",
        }
    )


@pytest.fixture
def held(cfg):
    """Settings for a worker held inside its transaction while another waits on its locks: a
    long lease (30 s), so the server does not end its idle transaction during the test
    (``core.db.bound_row_locks``) and the waiter's own lock-wait bound is what is checked (with
    equal leases the holder's session is ended first)."""
    return cfg.model_copy(update={"OUTBOX_LEASE_S": 30.0})


@pytest.fixture
def api(cfg):
    with TestClient(create_app(cfg)) as c:
        yield c


def _post(api, h, anomaly_id, **fields) -> None:
    resp = api.post(
        "/api/v1/anomalies", json=h.anomaly_body(anomaly_id, **fields), headers=h.auth("agent")
    )
    assert resp.status_code in (200, 201), resp.text


def _low_request(api, h, anomaly_id, start="2025-03-10", end="2025-03-12") -> int:
    """A low anomaly and an action on it; return the action id."""
    _post(api, h, anomaly_id, severity="low", impact_usd=40.0, start=start, end=end)
    resp = api.post("/api/v1/actions", json=h.action_body(anomaly_id), headers=h.auth("agent"))
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _row(engine: sa.Engine, **where: str) -> Outbox:
    with Session(engine) as session:
        return session.exec(select(Outbox).filter_by(**where)).one()


def _lock_waits(engine: sa.Engine) -> int:
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _lock_wait_events(engine: sa.Engine) -> list[str]:
    """What each session waiting on a lock waits for (``transactionid``: another transaction's
    end, as an insert on a unique key another transaction inserted; ``tuple``: a row lock)."""
    query = sa.text(
        "SELECT wait_event FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as conn:
        return [str(e) for e in conn.execute(query).scalars()]


def _worker(
    engine: sa.Engine,
    cfg,
    errors: list[BaseException],
    *,
    expect: int | None = None,
    now: datetime | None = None,
    results: list[int] | None = None,
) -> threading.Thread:
    """A thread running one outbox worker's ``deliver_due`` (``expect``: how many rows it must
    attempt); its exception goes to ``errors`` for the test's thread to report."""

    def run() -> None:
        try:
            attempted = OutboxWorker(engine, cfg).deliver_due(now=now)
            if results is not None:
                results.append(attempted)
            assert expect is None or attempted == expect
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    return threading.Thread(target=run)


def _until_blocked_or_done(engine: sa.Engine, thread: threading.Thread, timeout_s=20) -> str:
    """Poll until ``thread`` has finished or waits on a row lock (the only other session, the
    held worker, waits on an Event, not a lock)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return "done"
        if _lock_waits(engine):
            return "blocked"
        time.sleep(0.02)
    return "neither"


def _digest_comes_due(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(Outbox)
            .where(col(Outbox.kind) == "slack_digest")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _hold_send(monkeypatch, text: str) -> tuple[threading.Event, threading.Event]:
    """Make the first Slack post whose text starts with ``text`` stop until released; return
    the events (reached, release)."""
    send, reached, release = slack.send, threading.Event(), threading.Event()

    def held_send(token: str, base_url: str, message: dict[str, Any], timeout_s: float = 10):
        if message["text"].startswith(text) and not reached.is_set():
            reached.set()
            assert release.wait(30), "never released"
        return send(token, base_url, message, timeout_s)

    monkeypatch.setattr(slack, "send", held_send)
    return reached, release


def _hold_call(monkeypatch, module: Any, name: str) -> tuple[threading.Event, threading.Event]:
    """Make the first call of ``module.name`` stop until released; return the events
    (reached, release)."""
    function, reached, release = getattr(module, name), threading.Event(), threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        if not reached.is_set():
            reached.set()
            assert release.wait(30), "never released"
        return function(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return reached, release


@pytest.mark.parametrize("held", ["digest", "escalation"])
def test_a_request_is_posted_once_when_its_digest_and_escalation_race(
    held, api, h, cfg, engine, slack_server, monkeypatch
):
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite ignores row locks; a backend process runs one outbox worker, which delivers "
            "rows one at a time (two processes on one SQLite file would race)"
        )
    action = _low_request(api, h, "bq-loop")
    other = _low_request(api, h, "other", start="2025-04-01", end="2025-04-02")
    assert OutboxWorker(engine, cfg).deliver_due() == 2 and slack_server.posts == []

    def digest_comes_due() -> None:
        _digest_comes_due(engine)

    def revise() -> None:  # the loop goes on: the detective re-posts it, critical now
        _post(api, h, "bq-loop", severity="critical", impact_usd=5120.0, actual_cost=5220.0,
              end="2025-03-14")  # fmt: skip

    # The held worker stops inside its Slack post until released.
    held_text = "CostGuard daily digest" if held == "digest" else "Approval needed"
    reached, release = _hold_send(monkeypatch, held_text)
    errors: list[BaseException] = []

    # each worker finds one due row: its side's
    first, second = (_worker(engine, cfg, errors, expect=1) for _ in range(2))
    (digest_comes_due if held == "digest" else revise)()
    first.start()
    try:
        assert reached.wait(20), "the held worker never posted"
        (revise if held == "digest" else digest_comes_due)()
        second.start()
        state = _until_blocked_or_done(engine, second)
    finally:
        release.set()
        first.join(30)
        if second.ident is not None:  # started
            second.join(30)
    assert not first.is_alive() and not second.is_alive() and errors == []

    assert len(h.buttons_for(slack_server.posts, action)) == 1  # one request, one set of buttons
    assert len(h.buttons_for(slack_server.posts, other)) == 1
    request = _row(engine, idempotency_key=f"approval-requested-{action}")
    assert _row(engine, kind="anomaly_escalated").status == "delivered"
    assert state == "blocked"  # the second worker waited for the held one's commit
    if held == "digest":
        # The digest went first: the escalation replies in its thread.
        digest, reply = slack_server.posts
        assert h.buttons_for([digest], action) == [f"costguard-digest-{action}"]
        assert reply["thread_ts"] == "1700000000.000001" and reply["text"].startswith(
            "Severity raised low → critical"
        )
        assert request.last_error is not None and request.last_error.startswith("deferred to")
    else:
        # The alert went first: the digest lists the other request only.
        alert, digest = slack_server.posts
        assert h.buttons_for([alert], action) == [f"costguard-action-{action}"]
        assert h.buttons_for([digest], other) == [f"costguard-digest-{other}"]
        assert request.last_error == "posted on escalation to critical"


def test_a_lock_wait_gives_up_after_one_lease(
    api, h, cfg, engine, slack_server, monkeypatch, caplog, held
):
    # A worker whose host died mid-post keeps its row locks until the server notices; the other
    # worker gives up after one lease (here 1 s), its row is retried, and nothing posts twice.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes no row locks")
    cfg = cfg.model_copy(update={"OUTBOX_LEASE_S": 1.0})
    action = _low_request(api, h, "bq-loop")
    assert OutboxWorker(engine, cfg).deliver_due() == 1 and slack_server.posts == []
    _digest_comes_due(engine)
    reached, release = _hold_send(monkeypatch, "CostGuard daily digest")
    errors: list[BaseException] = []

    first, second = _worker(engine, held, errors), _worker(engine, cfg, errors)
    first.start()
    try:
        assert reached.wait(20), "the digest was never posted"
        _post(api, h, "bq-loop", severity="critical", impact_usd=5120.0, actual_cost=5220.0,
              end="2025-03-14")  # fmt: skip
        second.start()
        second.join(15)
        gave_up = not second.is_alive()  # while the digest still holds the lock
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert gave_up and errors == []  # the rest of the round would go on
    [warning] = [r for r in caplog.records if r.name == "costguard_backend.outbox"]
    assert warning.levelname == "WARNING" and "retried after its lease" in warning.getMessage()
    assert _row(engine, kind="anomaly_escalated").status == "pending"  # retried after its lease
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert OutboxWorker(engine, cfg).deliver_due(now=later) == 1
    digest, reply = slack_server.posts
    assert h.buttons_for(slack_server.posts, action) == [f"costguard-digest-{action}"]
    assert reply["text"].startswith("Severity raised low → critical")


def test_a_request_delivered_while_its_digest_is_sent_is_posted_once(
    api, h, cfg, engine, slack_server, monkeypatch
):
    # Catching up after an outage: a day's request is first delivered after the next day's
    # digest hour, by one replica while the other sends that digest. It reads the digest as
    # pending (committed as delivered only after the post), so it must wait for that commit
    # and post the request on its own, not note it deferred to a digest that has left.
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite ignores row locks; a backend process runs one outbox worker, which delivers "
            "rows one at a time, so a request is never delivered while its digest is sent"
        )
    listed = _low_request(api, h, "bq-loop")
    assert OutboxWorker(engine, cfg).deliver_due() == 1 and slack_server.posts == []
    late = _low_request(api, h, "late", start="2025-04-01", end="2025-04-02")  # the backlog
    _digest_comes_due(engine)
    reached, release = _hold_send(monkeypatch, "CostGuard daily digest")
    errors: list[BaseException] = []

    # one worker delivers the digest (ids first), the other the request
    first, second = (_worker(engine, cfg, errors, expect=1) for _ in range(2))
    first.start()
    try:
        assert reached.wait(20), "the digest was never posted"
        second.start()
        state = _until_blocked_or_done(engine, second)
    finally:
        release.set()
        first.join(30)
        if second.ident is not None:
            second.join(30)
    assert not first.is_alive() and not second.is_alive() and errors == []

    assert h.buttons_for(slack_server.posts, listed) == [f"costguard-digest-{listed}"]
    assert len(h.buttons_for(slack_server.posts, late)) == 1  # not lost, not posted twice
    digest, alert = slack_server.posts
    assert h.buttons_for([alert], late) == [f"costguard-action-{late}"]
    request = _row(engine, idempotency_key=f"approval-requested-{late}")
    assert request.status == "delivered" and request.last_error is None
    assert request.payload["slack"]["ts"] == "1700000000.000002"  # its thread: the alert's
    assert state == "blocked"  # the request's worker waited for the digest's commit


def test_a_digest_whose_sender_died_is_retried_after_one_lease(
    api, h, cfg, engine, slack_server, monkeypatch, caplog, held
):
    # The digest's row lock must not stall the other worker: after the lease it claims the row
    # again (FOR KEY SHARE does not block the claim's UPDATE) and gives up on the listed
    # requests' locks after one lease, as an escalation does.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes no row locks")
    cfg = cfg.model_copy(update={"OUTBOX_LEASE_S": 1.0})
    action = _low_request(api, h, "bq-loop")
    assert OutboxWorker(engine, cfg).deliver_due() == 1 and slack_server.posts == []
    _digest_comes_due(engine)
    reached, release = _hold_send(monkeypatch, "CostGuard daily digest")
    errors: list[BaseException] = []

    first = _worker(engine, held, errors)
    second = _worker(engine, cfg, errors, now=datetime.now(UTC) + timedelta(seconds=60))
    first.start()
    try:
        assert reached.wait(20), "the digest was never posted"
        second.start()
        second.join(15)
        gave_up = not second.is_alive()  # while the first sender still holds its locks
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert gave_up and errors == []
    [warning] = [r for r in caplog.records if r.name == "costguard_backend.outbox"]
    assert warning.levelname == "WARNING" and "retried after its lease" in warning.getMessage()
    assert h.buttons_for(slack_server.posts, action) == [f"costguard-digest-{action}"]


@pytest.mark.parametrize("severity", ["low", "high"])
def test_a_request_raised_to_critical_during_its_first_delivery_is_told(
    severity, api, h, cfg, engine, slack_server, monkeypatch
):
    # One replica delivers a request: it has read the anomaly's severity and is about to note
    # the request deferred to tomorrow's digest (low) or is posting its alert (high), when a
    # revision raises the anomaly to critical and the other replica delivers the escalation.
    # The escalation must wait for that commit, then post the deferred request at once or
    # reply in the alert's thread, not find it "not delivered yet" and tell nobody.
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite ignores row locks; a backend process runs one outbox worker, which delivers "
            "rows one at a time, so the escalation never runs while the request is delivered"
        )
    _post(api, h, "bq-loop", severity=severity, impact_usd=40.0)
    resp = api.post("/api/v1/actions", json=h.action_body("bq-loop"), headers=h.auth("agent"))
    assert resp.status_code == 201, resp.text
    action = int(resp.json()["id"])
    # The request's worker stops once it has decided, before it commits.
    if severity == "low":
        reached, release = _hold_call(monkeypatch, deliver, "deferred_note")
    else:
        reached, release = _hold_send(monkeypatch, "Approval needed")
    errors: list[BaseException] = []

    # each worker finds one due row: the request, the escalation
    first, second = (_worker(engine, cfg, errors, expect=1) for _ in range(2))
    first.start()
    try:
        assert reached.wait(20), "the request's worker never decided"
        _post(api, h, "bq-loop", severity="critical", impact_usd=5120.0, actual_cost=5220.0,
              end="2025-03-14")  # fmt: skip
        second.start()
        state = _until_blocked_or_done(engine, second)
    finally:
        release.set()
        first.join(30)
        if second.ident is not None:
            second.join(30)
    assert not first.is_alive() and not second.is_alive() and errors == []

    request = _row(engine, idempotency_key=f"approval-requested-{action}")
    escalated = _row(engine, kind="anomaly_escalated")
    assert escalated.status == "delivered" and escalated.last_error is None
    if severity == "low":
        [alert] = slack_server.posts  # posted at once, as its own alert
        assert {"type": "mrkdwn", "text": "*Severity*\ncritical"} in alert["blocks"][1]["fields"]
        assert request.last_error == "posted on escalation to critical"  # out of the digest
    else:
        alert, reply = slack_server.posts  # the alert as read, then the rise in its thread
        assert {"type": "mrkdwn", "text": "*Severity*\nhigh"} in alert["blocks"][1]["fields"]
        assert reply["thread_ts"] == "1700000000.000001"
        assert reply["text"].startswith("Severity raised high → critical")
        assert request.last_error is None
    assert h.buttons_for(slack_server.posts, action) == [f"costguard-action-{action}"]
    assert state == "blocked"  # the escalation waited for the request's commit


def test_a_claim_of_a_row_locked_by_a_dead_worker_gives_up_after_one_lease(
    api, h, cfg, engine, slack_server, caplog
):
    # A worker whose host died between a FOR UPDATE of a row and its commit keeps that lock
    # until the server notices (hours). Another worker's claim of the row gives up after one
    # lease (here 1 s), the rest of its round goes on, and the row is delivered on a later
    # round once the lock is gone.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes no row locks")
    cfg = cfg.model_copy(update={"OUTBOX_LEASE_S": 1.0})
    stuck = h.new_action(api, "stuck")["id"]  # high: each posted as its own alert
    free = h.new_action(api, "free")["id"]
    stuck_id = _row(engine, idempotency_key=f"approval-requested-{stuck}").id
    dead = engine.connect()
    dead.execute(sa.select(Outbox.id).where(col(Outbox.id) == stuck_id).with_for_update())
    results: list[int] = []
    errors: list[BaseException] = []

    worker = _worker(engine, cfg, errors, results=results)
    worker.start()
    try:
        worker.join(15)
        gave_up = not worker.is_alive()  # while the dead worker still holds the lock
    finally:
        dead.rollback()
        dead.close()
        worker.join(30)
    assert gave_up and errors == [] and results == [1]  # the other row was attempted
    assert h.buttons_for(slack_server.posts, free) == [f"costguard-action-{free}"]
    assert h.buttons_for(slack_server.posts, stuck) == []
    row = _row(engine, idempotency_key=f"approval-requested-{stuck}")
    assert row.status == "pending" and row.attempts == 0  # not claimed
    [warning] = [r for r in caplog.records if r.name == "costguard_backend.outbox"]
    assert warning.levelname == "WARNING" and "lock" in warning.getMessage()

    assert OutboxWorker(engine, cfg).deliver_due() == 1  # the lock is gone
    assert OutboxWorker(engine, cfg).deliver_due() == 0
    assert h.buttons_for(slack_server.posts, stuck) == [f"costguard-action-{stuck}"]
    assert _row(engine, idempotency_key=f"approval-requested-{stuck}").status == "delivered"


def test_two_first_requests_of_a_day_delivered_at_once_share_one_digest(
    api, h, cfg, engine, slack_server, monkeypatch
):
    # Two replicas each first-deliver one low request of the same day and channel: both find no
    # digest row. The first inserts it and is held before its commit; the second's insert waits
    # on the unique key for that commit, then defers its request to the digest the first made
    # (no IntegrityError ending its round, no second digest row).
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite ignores row locks; a backend process runs one outbox worker, which delivers "
            "rows one at a time, so two first requests of a day are never delivered at once"
        )
    one = _low_request(api, h, "bq-loop")
    two = _low_request(api, h, "other", start="2025-04-01", end="2025-04-02")
    # The first worker stops once it has created the digest row and decided, before it commits.
    reached, release = _hold_call(monkeypatch, deliver, "deferred_note")
    errors: list[BaseException] = []

    # the first worker attempts the first request (the second's claim then finds it leased),
    # the second worker the second request (the first's claim then finds it leased)
    first, second = (_worker(engine, cfg, errors, expect=1) for _ in range(2))
    first.start()
    try:
        assert reached.wait(20), "the first request's worker never decided"
        second.start()
        state = _until_blocked_or_done(engine, second)
        waits = _lock_wait_events(engine)
    finally:
        release.set()
        first.join(30)
        if second.ident is not None:
            second.join(30)
    assert not first.is_alive() and not second.is_alive() and errors == []

    requests = [_row(engine, idempotency_key=f"approval-requested-{a}") for a in (one, two)]
    day = requests[0].created_at.astimezone(UTC).date()
    note = f"deferred to Slack digest {day} {cfg.SLACK_CHANNEL}"
    assert [(r.status, r.last_error) for r in requests] == [("delivered", note)] * 2
    with Session(engine) as session:
        [digest] = session.exec(select(Outbox).where(col(Outbox.kind) == "slack_digest")).all()
    assert digest.idempotency_key == f"slack-digest-{day}-{cfg.SLACK_CHANNEL}"
    assert slack_server.posts == []
    # the second insert waited on the unique key for the first worker's transaction
    assert state == "blocked" and waits == ["transactionid"]

    _digest_comes_due(engine)
    assert OutboxWorker(engine, cfg).deliver_due() == 1
    [posted] = slack_server.posts  # one digest listing both requests once
    assert h.buttons_for([posted], one) == [f"costguard-digest-{one}"]
    assert h.buttons_for([posted], two) == [f"costguard-digest-{two}"]
    assert _row(engine, kind="slack_digest").status == "delivered"


def test_a_digest_insert_waits_at_most_one_lease(
    api, h, cfg, engine, slack_server, monkeypatch, caplog, held
):
    # The first request's worker created the digest row and its host died before the commit:
    # the second's insert on the same key gives up after one lease (here 1 s), that attempt only
    # (WARNING), and the request is deferred to the digest on a later round.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes no row locks")
    cfg = cfg.model_copy(update={"OUTBOX_LEASE_S": 1.0})
    one = _low_request(api, h, "bq-loop")
    two = _low_request(api, h, "other", start="2025-04-01", end="2025-04-02")
    reached, release = _hold_call(monkeypatch, deliver, "deferred_note")
    errors: list[BaseException] = []

    first = _worker(engine, held, errors, expect=1)
    second = _worker(engine, cfg, errors, expect=1)
    first.start()
    try:
        assert reached.wait(20), "the first request's worker never decided"
        second.start()
        second.join(15)
        gave_up = not second.is_alive()  # while the first still holds its transaction open
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert gave_up and errors == []
    [warning] = [r for r in caplog.records if r.name == "costguard_backend.outbox"]
    assert warning.levelname == "WARNING" and "retried after its lease" in warning.getMessage()
    assert _row(engine, idempotency_key=f"approval-requested-{two}").status == "pending"
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert OutboxWorker(engine, cfg).deliver_due(now=later) == 1
    digest = _row(engine, kind="slack_digest")  # one row
    note = f"deferred to Slack digest {digest.payload['day']} {cfg.SLACK_CHANNEL}"
    for action in (one, two):
        request = _row(engine, idempotency_key=f"approval-requested-{action}")
        assert (request.status, request.last_error) == ("delivered", note)
    assert slack_server.posts == []


def test_rows_locked_by_a_worker_whose_host_died_are_free_after_one_lease(
    api, h, cfg, engine, slack_server, caplog
):
    # A worker whose host dies mid-post leaves its transaction open on the server, which keeps
    # its row locks until it notices the dead connection (hours with default keepalives); the
    # other worker would give up one lease per round on each such row. Every worker transaction
    # that locks rows (``core.db.bound_row_locks``) is ended by the server once idle for one
    # lease (here 1 s), so the row is free after that and the next round delivers it at once.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes no row locks")
    cfg = cfg.model_copy(update={"OUTBOX_LEASE_S": 1.0})
    stuck = h.new_action(api, "stuck")["id"]
    stuck_id = _row(engine, idempotency_key=f"approval-requested-{stuck}").id
    dead = Session(engine)
    bound_row_locks(cfg, dead)  # as the claim and every delivery do before locking rows
    dead.execute(sa.select(Outbox.id).where(col(Outbox.id) == stuck_id).with_for_update())
    time.sleep(2.0)  # the host is gone: nothing more is sent on this connection
    try:
        assert OutboxWorker(engine, cfg).deliver_due() == 1  # claimed: no lock wait gave up
        assert [r for r in caplog.records if r.name == "costguard_backend.outbox"] == []
        assert h.buttons_for(slack_server.posts, stuck) == [f"costguard-action-{stuck}"]
        assert _row(engine, idempotency_key=f"approval-requested-{stuck}").status == "delivered"
        with pytest.raises(sa.exc.DBAPIError, match="idle-in-transaction timeout"):
            dead.execute(sa.text("SELECT 1"))  # the server ended the dead worker's session
    finally:
        dead.close()


def test_a_post_slower_than_the_lease_ends_its_row_attempt_only(
    api, h, cfg, engine, slack_server, monkeypatch, caplog
):
    # A live worker stalled inside a Slack post for longer than one lease (here 1 s) finds its
    # transaction ended by the server (the bound above cannot tell it from a dead host). That
    # ends this row's attempt only, with a WARNING: the round goes on to the next row, and the
    # row is retried after its lease. Its message did go out, so the retry finds it in the
    # channel history and does not post it again.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes no row locks")
    cfg = cfg.model_copy(update={"OUTBOX_LEASE_S": 1.0})
    slow = h.new_action(api, "slow")["id"]
    free = h.new_action(api, "free")["id"]
    reached, release = _hold_send(monkeypatch, "")  # the round's first post: the slow one
    errors: list[BaseException] = []
    results: list[int] = []
    worker = _worker(engine, cfg, errors, results=results)
    worker.start()
    try:
        assert reached.wait(20), "nothing was posted"
        time.sleep(2.0)  # past one lease, idle in its transaction
    finally:
        release.set()
        worker.join(30)
    assert errors == [] and results == [2]  # the round went on to the second row
    assert h.buttons_for(slack_server.posts, free) == [f"costguard-action-{free}"]
    [warning] = [r for r in caplog.records if r.name == "costguard_backend.outbox"]
    assert warning.levelname == "WARNING" and "idle for one lease" in warning.getMessage()
    assert _row(engine, idempotency_key=f"approval-requested-{slow}").status == "pending"
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert OutboxWorker(engine, cfg).deliver_due(now=later) == 1
    assert _row(engine, idempotency_key=f"approval-requested-{slow}").status == "delivered"
    assert h.buttons_for(slack_server.posts, slow) == [f"costguard-action-{slow}"]
