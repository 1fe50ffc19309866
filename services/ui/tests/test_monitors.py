"""The Monitors page through Streamlit's AppTest against a real backend process: the read-only
view, and the admin's editor (``PUT /api/v1/monitors``, with ``If-Match``: a save over another
admin's change is refused, Reload loads theirs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import httpx
import pytest
import yaml
from costguard_core.client import BackendClient
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "src" / "costguard_ui" / "app.py"
ADMIN_KEY, APPROVER_KEY, VIEWER_KEY = "dev-admin-key", "dev-approver-key", "dev-viewer-key"
ALICE_KEY = "dev-alice-key"  # a second admin (conftest)
EDITOR, SAVE, RELOAD = "monitors-yaml", "monitors-save", "monitors-reload"
READ_ONLY = "Read-only: changing monitors needs an admin key."


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def monitors_page() -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=30).run())
    at.switch_page("views/monitors.py")
    return ok(at.run())


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def table(at: AppTest) -> dict[str, dict]:
    """``{dimension: row}`` of the monitors table."""
    [frame] = [df.value for df in at.dataframe if "dimension" in df.value.columns]
    return {r["dimension"]: r for r in frame.to_dict("records")}


def edit(at: AppTest, document: object, comment: str = "") -> AppTest:
    at.text_area(key=EDITOR).input(comment + yaml.safe_dump(document, sort_keys=False))
    return ok(at.button(key=SAVE).click().run())


@pytest.fixture
def admin(ui_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackendClient]:
    """The app signed in as the dev admin; the client, as the same admin, for checking."""
    monkeypatch.setenv("COSTGUARD_API_KEY", ADMIN_KEY)
    with BackendClient(ui_env, ADMIN_KEY) as client:
        yield client


def test_viewer_sees_the_default_document_and_no_editor(
    monkeypatch: pytest.MonkeyPatch, empty_backend_url: str
) -> None:
    monkeypatch.setenv("BACKEND_URL", empty_backend_url)
    monkeypatch.setenv("COSTGUARD_API_KEY", VIEWER_KEY)
    at = monitors_page()

    markdown = texts(at.markdown)
    assert "Built-in default: no admin has stored a monitors document yet." in markdown
    rows = table(at)
    assert list(rows) == ["total", "ProviderName", "ServiceName", "SubAccountId"]
    assert rows["ServiceName"] == {
        "dimension": "ServiceName",
        "min_impact_usd": "10 (default)",
        "min_impact_pct": "0.25 (default)",
        "combine": "and (default)",
        "severity_tiers_usd": "medium 100 / high 1,000 / critical 10,000 (default)",
    }
    assert any(m.startswith("Leaf monitors: **on**") for m in markdown)
    assert any(m.startswith("leaf_percent_of: **lasting**") for m in markdown)
    assert READ_ONLY in texts(at.caption)
    assert not at.text_area and SAVE not in [b.key for b in at.button]


def test_approver_gets_the_read_only_view(ui_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSTGUARD_API_KEY", APPROVER_KEY)
    at = monitors_page()
    assert table(at) and READ_ONLY in texts(at.caption)
    assert not at.text_area and SAVE not in [b.key for b in at.button]


def test_admin_saves_a_changed_document(admin: BackendClient) -> None:
    at = monitors_page()
    before = admin.get_monitors()
    document = yaml.safe_load(at.text_area(key=EDITOR).value)
    assert document == before.document  # pre-filled with the stored document
    assert READ_ONLY not in texts(at.caption)
    document["monitors"] = [m for m in document["monitors"] if m["dimension"] != "RegionId"] + [
        {
            "dimension": "RegionId",
            "min_impact_usd": 40,
            "combine": "or",
            "values": {"eu-west-1": {"min_impact_pct": 0.05}},
        }
    ]
    document["leaf_percent_of"] = "resource"
    assert document != before.document

    edit(at, document, comment="# RegionId for the EU rollout\n")
    stored = admin.get_monitors()
    assert stored.document == document and stored.updated_by == "admin"
    assert stored.updated_at is not None
    assert "Monitors saved by admin; the detective uses them from its next pass." in texts(
        at.success
    )
    assert not at.error
    region = table(at)["RegionId"]
    assert (region["min_impact_usd"], region["combine"]) == ("40", "or")
    assert region["min_impact_pct"] == "0.25 (default)"
    # A value with its own thresholds gets its row; what it leaves unset is its family's.
    eu = table(at)["RegionId = eu-west-1"]
    assert (eu["min_impact_pct"], eu["min_impact_usd"]) == ("0.05", "40 (RegionId)")
    markdown = texts(at.markdown)
    assert any(m.startswith("leaf_percent_of: **resource**") for m in markdown)
    assert any(m.startswith("Last changed by **admin** on ") for m in markdown)
    # The editor shows the text as saved, comment included; so does a fresh page.
    saved = "# RegionId for the EU rollout\n" + yaml.safe_dump(document, sort_keys=False)
    assert stored.source == saved
    assert at.text_area(key=EDITOR).value == saved
    ok(at.run())  # the message is shown once
    assert not at.success
    assert monitors_page().text_area(key=EDITOR).value == saved


def test_a_document_stored_as_json_is_shown_as_block_yaml(admin: BackendClient) -> None:
    """A script's JSON ``PUT`` has no YAML text: the editor shows the document as YAML."""
    document = {"monitors": [{"dimension": "total"}, {"dimension": "ServiceName"}]}
    admin.put_monitors(document)
    at = monitors_page()
    assert at.text_area(key=EDITOR).value == yaml.safe_dump(document, sort_keys=False)


def test_bad_document_names_the_field_and_changes_nothing(admin: BackendClient) -> None:
    at = monitors_page()
    before = admin.get_monitors()
    document = yaml.safe_load(at.text_area(key=EDITOR).value)
    document["monitors"][1]["min_impact_usd"] = -5

    edit(at, document)
    [error] = texts(at.error)
    first, *problems = error.splitlines()
    assert first == "Not saved, nothing changed: `monitors[1].min_impact_usd` is not valid."
    assert problems == ["- monitors[1].min_impact_usd: Input should be greater than or equal to 0"]
    assert not at.success
    assert admin.get_monitors() == before
    # The admin's text stays in the editor, to be fixed.
    assert yaml.safe_load(at.text_area(key=EDITOR).value)["monitors"][1]["min_impact_usd"] == -5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "monitors:\n  - dimension: total\n   min_impact_usd: 5\n",
            "the YAML is not valid: line 3, column 4: expected <block end>",
        ),
        ("- dimension: total\n", "the document must be a mapping with `monitors:`."),
    ],
)
def test_unusable_yaml_is_reported_and_nothing_is_sent(
    admin: BackendClient, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    at = monitors_page()
    before = admin.get_monitors()
    sent: list[tuple[str, str]] = []
    send = httpx.Client.send

    def spy(self: httpx.Client, request: httpx.Request, **kwargs):  # the app runs in this process
        sent.append((request.method, request.url.path))
        return send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", spy)
    at.text_area(key=EDITOR).input(text)
    ok(at.button(key=SAVE).click().run())

    [error] = texts(at.error)
    assert error.startswith("Not saved, nothing sent: ") and message in error
    assert ("GET", "/api/v1/monitors") in sent  # the spy sees the page's own calls
    assert ("PUT", "/api/v1/monitors") not in sent
    assert at.text_area(key=EDITOR).value == text
    assert admin.get_monitors() == before


def test_stale_tab_save_asks_to_sign_in_without_calling_the_api(
    admin: BackendClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = monitors_page()
    before = admin.get_monitors()
    document = yaml.safe_load(at.text_area(key=EDITOR).value) | {"leaf_monitors": False}
    monkeypatch.delenv("COSTGUARD_API_KEY")  # the session lost its login, no key to sign in from
    del at.session_state["costguard_login"]
    edit(at, document)
    assert "Your session has expired — sign in again." in texts(at.warning)
    assert at.text_input(key="login-key")  # the sign-in page
    assert admin.get_monitors() == before


def test_save_over_another_admins_change_is_refused_then_reload_and_save(
    admin: BackendClient, ui_env: str
) -> None:
    at = monitors_page()
    opened = yaml.safe_load(at.text_area(key=EDITOR).value)
    mine = opened | {"leaf_monitors": not opened.get("leaf_monitors", True)}
    with BackendClient(ui_env, ALICE_KEY) as alice:  # alice saves while the editor is open
        current = alice.get_monitors()
        assert current.document == opened
        theirs = current.document | {
            "leaf_percent_of": "parent"
            if opened.get("leaf_percent_of") == "resource"
            else "resource"
        }
        alices = alice.put_monitors(theirs, if_match=current.etag)
    assert alices.updated_at is not None

    edit(at, mine)
    [error] = texts(at.error)
    second = f"{alices.updated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    assert error == (
        f"Not saved: the monitors were changed by **alice** at {second} since you opened them; "
        "your text is kept — copy it, press Reload to load theirs."
    )
    assert not at.success
    assert admin.get_monitors() == alices  # alice's document stays, nothing else stored
    assert yaml.safe_load(at.text_area(key=EDITOR).value) == mine
    assert any(m.startswith("Last changed by **alice** on ") for m in texts(at.markdown))

    ok(at.button(key=RELOAD).click().run())
    assert yaml.safe_load(at.text_area(key=EDITOR).value) == theirs
    assert "Reloaded the stored monitors: make your change again, then Save." in texts(at.info)
    assert RELOAD not in [b.key for b in at.button]
    both = theirs | {"leaf_monitors": mine["leaf_monitors"]}
    edit(at, both)
    assert not at.error
    assert "Monitors saved by admin; the detective uses them from its next pass." in texts(
        at.success
    )
    stored = admin.get_monitors()
    assert (stored.document, stored.updated_by) == (both, "admin")
    assert stored.etag not in (None, alices.etag)
    # The editor now holds the saved version's ETag: a further save goes through too.
    edit(at, both | {"leaf_monitors": not both["leaf_monitors"]})
    assert not at.error and admin.get_monitors().updated_at != stored.updated_at


def test_every_leaf_percent_of_value_is_explained() -> None:
    """The page explains whichever ``leaf_percent_of`` the stored document has."""
    from typing import get_args

    from costguard_core.detection.monitors import LeafPercentOf
    from costguard_ui.views.monitors import LEAF_BASIS

    assert set(LEAF_BASIS) == set(get_args(LeafPercentOf))
