"""``/api/v1/monitors``: built-in default until stored, admin-only replace, validation naming
the field with nothing stored, audit with before/after; ETag and If-Match (412 on a stale
version, also against a concurrent writer and a concurrent first save)."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime

import pytest
import sqlalchemy as sa
from costguard_backend.api.routes import monitors as monitors_route
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.detection_models import MonitorConfig
from costguard_core.client import BackendError
from sqlmodel import Session

DOC = {
    "monitors": [
        {"dimension": "total"},
        {"dimension": "ServiceName", "min_impact_usd": 50, "combine": "or"},
        {"dimension": "Tags.team", "severity_tiers_usd": {"medium": 200, "high": 2000}},
    ],
    "leaf_monitors": False,
}


def test_default_then_put_then_get(client, h):
    first = client.get("/api/v1/monitors", headers=h.auth("viewer"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["updated_by"] is None and body["updated_at"] is None
    assert [m["dimension"] for m in body["document"]["monitors"]] == [
        "total", "ProviderName", "ServiceName", "SubAccountId",
    ]  # fmt: skip
    put = client.put("/api/v1/monitors", json=DOC, headers=h.auth("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["document"] == DOC and put.json()["updated_by"] == "admin"
    got = client.get("/api/v1/monitors", headers=h.auth("agent")).json()
    assert got["document"] == DOC and got["updated_at"] == put.json()["updated_at"]
    second = {"monitors": [{"dimension": "RegionId"}]}
    assert client.put("/api/v1/monitors", json=second, headers=h.auth("admin")).status_code == 200
    assert client.get("/api/v1/monitors", headers=h.auth("viewer")).json()["document"] == second
    export = client.get("/api/v1/audit-events/export", headers=h.auth("admin")).text
    entries = [json.loads(line) for line in export.splitlines()]
    changes = [
        (e["actor"], e["action"], e["before"], e["after"])
        for e in entries
        if e["entity_type"] == "monitor_config"
    ]
    assert changes == [("admin", "update", None, DOC), ("admin", "update", DOC, second)]


def test_put_admin_only_and_validated(client, h):
    for role in ("viewer", "approver", "agent"):
        assert client.put("/api/v1/monitors", json=DOC, headers=h.auth(role)).status_code == 403
    bad = {"monitors": [{"dimension": "total"}, {"dimension": "ServiceName", "min_impact_usd": -1}]}
    resp = client.put("/api/v1/monitors", json=bad, headers=h.auth("admin"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"]["field"] == "monitors[1].min_impact_usd"
    unknown = client.put("/api/v1/monitors", json={"monitors": [{"dimension": "Colour"}]},
                         headers=h.auth("admin"))  # fmt: skip
    assert unknown.status_code == 422 and "Colour" in unknown.json()["detail"]["message"]
    assert client.put("/api/v1/monitors", json=[1], headers=h.auth("admin")).status_code == 422
    # Nothing was stored by the refused documents.
    assert client.get("/api/v1/monitors", headers=h.auth("viewer")).json()["updated_by"] is None


YAML_TEXT = """\
# Monitors for the EU rollout (kept as written)
monitors:
  - dimension: total
  - dimension: ServiceName   # per service
    min_impact_usd: 50
    combine: or
  - {dimension: Tags.team, severity_tiers_usd: {medium: 200, high: 2000}}
leaf_monitors: false
"""


def test_a_yaml_body_is_stored_with_its_text(client, h):
    """``Content-Type: application/yaml``: the document is validated and stored, and the text
    itself (comments, layout) comes back as ``source``; a later JSON save clears it; the audit
    records documents either way."""
    headers = h.auth("admin") | {"Content-Type": "application/yaml; charset=utf-8"}
    put = client.put("/api/v1/monitors", content=YAML_TEXT.encode(), headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["document"] == DOC and put.json()["source"] == YAML_TEXT
    got = client.get("/api/v1/monitors", headers=h.auth("viewer"))
    assert got.json()["source"] == YAML_TEXT and got.json()["document"] == DOC
    assert got.headers["ETag"] == put.headers["ETag"]
    # A comment-only change is a new version (its own ETag).
    edited = YAML_TEXT.replace("kept as written", "reviewed")
    again = client.put("/api/v1/monitors", content=edited, headers=headers)
    assert again.status_code == 200 and again.json()["source"] == edited
    assert again.headers["ETag"] != put.headers["ETag"]
    as_json = _put(client, h, DOC)
    assert as_json.status_code == 200 and as_json.json()["source"] is None
    assert [after for _, _, after in _changes(client, h)] == [DOC, DOC, DOC]


@pytest.mark.parametrize(
    ("content_type", "body", "status", "field", "message"),
    [
        ("application/yaml", b"monitors:\n  - dimension: total\n   bad: 1\n", 422, "body",
         "the YAML is not valid: line 3, column 4: expected <block end>"),
        ("text/yaml", b"monitors:\n  - dimension: total\n    min_impact_usd: -1\n", 422,
         "monitors[0].min_impact_usd", "greater than or equal to 0"),
        ("application/x-yaml", b"- dimension: total\n", 422, "(document)", "a valid dictionary"),
        ("application/yaml", b"monitors: [\xff]\n", 422, "body", "not UTF-8 text (byte 11)"),
        ("text/plain", b"monitors: []\n", 415, None, "unsupported content type 'text/plain'"),
    ],
)  # fmt: skip
def test_a_bad_yaml_body_is_refused_and_nothing_is_stored(
    client, h, content_type, body, status, field, message
):
    headers = h.auth("admin") | {"Content-Type": content_type}
    resp = client.put("/api/v1/monitors", content=body, headers=headers)
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    if field is not None:
        assert detail["field"] == field and message in detail["message"], detail
    else:
        assert message in detail
    stored = client.get("/api/v1/monitors", headers=h.auth("viewer")).json()
    assert stored["updated_by"] is None and stored["source"] is None
    assert _changes(client, h) == []


def test_client_sends_text_as_yaml(client, h):
    """``BackendClient.put_monitors`` with a ``str`` sends it as YAML; the text is kept."""
    backend = h.api_client(client, "dev-admin-key")
    saved = backend.put_monitors(YAML_TEXT)
    assert saved.source == YAML_TEXT and saved.document == DOC
    assert backend.get_monitors().source == YAML_TEXT


def _changes(client, h) -> list[tuple[str, object, object]]:
    """The audit trail of the monitors document: ``(actor, before, after)``, oldest first."""
    export = client.get("/api/v1/audit-events/export", headers=h.auth("admin")).text
    entries = [json.loads(line) for line in export.splitlines()]
    return [
        (e["actor"], e["before"], e["after"])
        for e in entries
        if e["entity_type"] == "monitor_config"
    ]


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _put(client, h, document, if_match=None):
    headers = h.auth("admin") | ({} if if_match is None else {"If-Match": if_match})
    return client.put("/api/v1/monitors", json=document, headers=headers)


def test_if_none_match_gives_304_until_the_document_changes(client, h):
    """A poller sends the tag it holds: 304, no body, until someone saves; then 200 with the
    new document and tag. RFC 9110 weak comparison: a ``W/`` tag, a list, or ``*`` match."""
    tag = client.get("/api/v1/monitors", headers=h.auth("viewer")).headers["ETag"]

    def get(if_none_match: str):
        headers = h.auth("viewer") | {"If-None-Match": if_none_match}
        return client.get("/api/v1/monitors", headers=headers)

    for held in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        resp = get(held)
        assert resp.status_code == 304, (held, resp.text)
        assert resp.content == b"" and resp.headers["ETag"] == tag
    assert get('"other"').status_code == 200
    saved = _put(client, h, DOC, if_match=tag)
    assert saved.status_code == 200, saved.text
    changed = get(tag)
    assert changed.status_code == 200 and changed.json()["document"] == DOC
    assert changed.headers["ETag"] == saved.headers["ETag"] != tag
    assert get(saved.headers["ETag"]).status_code == 304
    # Authentication still comes first.
    unauth = client.get("/api/v1/monitors", headers={"If-None-Match": "*"})
    assert unauth.status_code == 401


def test_etag_and_if_match(client, h):
    default = client.get("/api/v1/monitors", headers=h.auth("viewer"))
    tag = default.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag) and default.json()["etag"] == tag
    assert client.get("/api/v1/monitors", headers=h.auth("agent")).headers["ETag"] == tag

    first = _put(client, h, DOC, if_match=tag)
    assert first.status_code == 200, first.text
    tag1 = first.headers["ETag"]
    assert tag1 != tag and first.json()["etag"] == tag1
    got = client.get("/api/v1/monitors", headers=h.auth("viewer"))
    assert got.headers["ETag"] == tag1 and got.json()["document"] == DOC

    # A stale tag (the default's), alone or in a list, or a weak one: 412, nothing stored.
    second = {"monitors": [{"dimension": "RegionId"}]}
    for stale in (tag, f'"nope", {tag}', f"W/{tag1}"):
        resp = _put(client, h, second, if_match=stale)
        assert resp.status_code == 412, resp.text
        detail = resp.json()["detail"]
        assert detail["error"] == "precondition_failed" and detail["etag"] == tag1
        assert resp.headers["ETag"] == tag1
        assert detail["updated_by"] == "admin"
        assert when(detail["updated_at"]) == when(got.json()["updated_at"])
        assert detail["message"].startswith("the monitors were changed by admin at ")
    after = client.get("/api/v1/monitors", headers=h.auth("viewer"))
    assert after.json() == got.json() and after.headers["ETag"] == tag1
    assert _changes(client, h) == [("admin", None, DOC)]

    # The current tag among others, or *, matches; no If-Match at all still replaces.
    listed = _put(client, h, second, if_match=f'"other", {tag1}')
    assert listed.status_code == 200, listed.text
    assert _put(client, h, DOC, if_match="*").status_code == 200
    blind = _put(client, h, second)
    assert blind.status_code == 200 and blind.json()["document"] == second
    assert blind.headers["ETag"] not in (tag, tag1, listed.headers["ETag"])
    assert [after for _, _, after in _changes(client, h)] == [DOC, second, DOC, second]


def test_second_save_from_the_same_version_is_refused(client, h):
    """Two admins opened the same version (first the built-in default, then a stored one):
    whoever saves second gets 412 and the first one's document stays."""
    default_tag = client.get("/api/v1/monitors", headers=h.auth("admin")).headers["ETag"]
    other = {"monitors": [{"dimension": "RegionId"}]}
    assert _put(client, h, DOC, if_match=default_tag).status_code == 200
    assert _put(client, h, other, if_match=default_tag).status_code == 412
    tag = client.get("/api/v1/monitors", headers=h.auth("admin")).headers["ETag"]
    again = DOC | {"leaf_monitors": True}
    assert _put(client, h, again, if_match=tag).status_code == 200
    assert _put(client, h, other, if_match=tag).status_code == 412
    assert client.get("/api/v1/monitors", headers=h.auth("viewer")).json()["document"] == again
    assert _changes(client, h) == [("admin", None, DOC), ("admin", DOC, again)]


def test_check_waits_for_a_concurrent_writer(client, h, engine):
    """Another writer holds the row (uncommitted change by alice) when a PUT arrives with the
    version it replaces: the PUT waits for the lock, then sees alice's version and answers 412,
    instead of checking the old version and overwriting alice's once the lock is released."""
    tag = _put(client, h, DOC).headers["ETag"]
    alices = {"monitors": [{"dimension": "RegionId"}]}
    answers: list = []
    with engine.connect() as conn:
        conn.execute(
            sa.update(MonitorConfig).values(
                document=alices, updated_by="alice", updated_at=utcnow()
            )
        )  # holds the row lock (PostgreSQL) or the database write lock (SQLite) until commit
        thread = threading.Thread(
            target=lambda: answers.append(
                _put(client, h, {"monitors": [{"dimension": "total"}]}, if_match=tag)
            )
        )
        thread.start()
        _until_blocked(engine)
        conn.commit()
    thread.join(timeout=60)
    [resp] = answers
    assert resp.status_code == 412, resp.text
    assert resp.json()["detail"]["updated_by"] == "alice"
    stored = client.get("/api/v1/monitors", headers=h.auth("viewer")).json()
    assert (stored["document"], stored["updated_by"]) == (alices, "alice")
    assert _changes(client, h) == [("admin", None, DOC)]


def test_concurrent_first_saves_meet_on_the_primary_key(client, h, engine, monkeypatch):
    """Both admins read "nothing stored" and insert; the second insert's key conflict is not a
    500: the PUT is checked again against the first one's version (412 with If-Match, an
    update without)."""
    default_tag = client.get("/api/v1/monitors", headers=h.auth("admin")).headers["ETag"]
    alices = {"monitors": [{"dimension": "RegionId"}]}
    locked = monitors_route._locked

    def read_before_alice_saved(session):
        with Session(engine) as other:
            other.add(MonitorConfig(document=alices, updated_by="alice"))
            other.commit()
        monkeypatch.setattr(monitors_route, "_locked", locked)
        return None  # what this PUT read before alice's insert committed

    monkeypatch.setattr(monitors_route, "_locked", read_before_alice_saved)
    resp = _put(client, h, DOC, if_match=default_tag)
    assert resp.status_code == 412, resp.text
    assert resp.json()["detail"]["updated_by"] == "alice"
    assert client.get("/api/v1/monitors", headers=h.auth("viewer")).json()["document"] == alices
    assert _changes(client, h) == []

    with Session(engine) as session:
        session.execute(sa.delete(MonitorConfig))
        session.commit()
    monkeypatch.setattr(monitors_route, "_locked", read_before_alice_saved)
    blind = _put(client, h, DOC)
    assert blind.status_code == 200, blind.text
    assert _changes(client, h) == [("admin", alices, DOC)]


def _until_blocked(engine: sa.Engine) -> None:
    """Give the PUT time to reach the lock: on PostgreSQL until a session waits on it."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise AssertionError("the PUT never waited for the lock")


def test_client_if_match(client, h):
    """``BackendClient``: ``etag`` read with the document, ``if_match=`` sent as If-Match, a
    stale one raised as a 412 ``BackendError``; without it, the last save wins."""
    admin = h.api_client(client, "dev-admin-key")
    opened = admin.get_monitors()
    assert opened.etag == client.get("/api/v1/monitors", headers=h.auth("viewer")).headers["ETag"]
    saved = admin.put_monitors(DOC, if_match=opened.etag)
    assert saved.etag not in (None, opened.etag) and admin.get_monitors() == saved
    with pytest.raises(BackendError) as refused:
        admin.put_monitors({"monitors": [{"dimension": "RegionId"}]}, if_match=opened.etag)
    assert refused.value.status_code == 412
    assert refused.value.detail["error"] == "precondition_failed"
    assert refused.value.detail["etag"] == saved.etag
    assert admin.get_monitors() == saved
    assert admin.put_monitors(DOC | {"leaf_monitors": True}).updated_by == "admin"


def test_openapi_names_both_body_types(client):
    body = client.get("/openapi.json").json()["paths"]["/api/v1/monitors"]["put"]["requestBody"]
    assert set(body["content"]) == {"application/json", "application/yaml"}
