"""The monitors editor (admin only): the stored document as YAML in a text area, and Save.

Save parses the YAML here (a syntax error is reported with its line and nothing is sent), then
``PUT``s the text as ``application/yaml``; the backend validates the document and refuses a bad
one with 422 naming the field, storing nothing, and keeps the text as the version's ``source``,
so the editor shows what the admin saved, comments and layout included. A document stored as
JSON (by a script) is shown as block YAML. Like :mod:`costguard_ui.review`, Save is a button
callback that leaves a one-shot message (:func:`costguard_ui.session.flash`) and, with no login
(a stale tab), returns without calling the API. The text the admin typed stays in the editor
after a refusal.

The editor remembers the ETag of the version it loaded (:data:`ETAG`) and Save sends it as
``If-Match``: when another admin stored a version since, the backend answers 412 and stores
nothing; the error says who changed it and when, and a Reload button replaces the text with the
stored document and its ETag (the admin copies their text first, to reapply it).
"""

from __future__ import annotations

from typing import Any

import httpx
import streamlit as st
import yaml
from costguard_core.client import BackendError
from costguard_core.detection.monitors import yaml_problem
from costguard_core.models import MonitorConfigPublic

from costguard_ui import auth, backend, session

#: Session keys: the editor's text, the ETag of the stored version it was loaded from, and
#: whether a Save was refused because another version was stored since (shows Reload).
EDITOR = "monitors-yaml"
ETAG = "monitors-etag"
CONFLICT = "monitors-conflict"
NOT_SENT = "Not saved, nothing sent"


def as_yaml(document: dict[str, Any]) -> str:
    """The document as block YAML, keys in the stored order."""
    return yaml.safe_dump(document, sort_keys=False)


def save() -> None:
    """Parse the editor's YAML and ``PUT /api/v1/monitors`` it as the signed-in admin."""
    login = session.signed_in()
    if login is None:
        return
    try:
        document = yaml.safe_load(st.session_state.get(EDITOR) or "")
    except yaml.YAMLError as exc:
        session.flash("error", f"{NOT_SENT}: the YAML is not valid: {yaml_problem(exc)}")
        return
    if not isinstance(document, dict):
        session.flash("error", f"{NOT_SENT}: the document must be a mapping with `monitors:`.")
        return
    try:
        saved = backend.put_monitors(
            login.api_key, st.session_state[EDITOR], if_match=st.session_state.get(ETAG)
        )
    except BackendError as exc:
        if exc.status_code == 412:
            st.session_state[CONFLICT] = True
        session.flash("error", backend.describe_monitors_error(exc))
        return
    except httpx.HTTPError as exc:
        session.flash("error", f"Not saved: backend unreachable ({exc}).")
        return
    load(saved)
    session.flash(
        "success",
        f"Monitors saved by {saved.updated_by}; the detective uses them from its next pass.",
    )


def reload() -> None:
    """Replace the editor's text with the stored document and remember its ETag (after a Save
    refused because another admin stored a version since)."""
    login = session.signed_in()
    if login is None:
        return
    try:
        stored = backend.get_monitors(login.api_key)
    except BackendError as exc:
        session.flash(
            "error", f"Not reloaded: backend answered HTTP {exc.status_code}: {exc.detail}"
        )
        return
    except httpx.HTTPError as exc:
        session.flash("error", f"Not reloaded: backend unreachable ({exc}).")
        return
    load(stored)
    session.flash("info", "Reloaded the stored monitors: make your change again, then Save.")


def load(stored: MonitorConfigPublic) -> None:
    """Put ``stored`` in the editor (the YAML text it was saved as, else its document as block
    YAML), with the ETag Save will send as ``If-Match``."""
    st.session_state[EDITOR] = stored.source if stored.source else as_yaml(stored.document)
    st.session_state[ETAG] = stored.etag
    st.session_state.pop(CONFLICT, None)


def editor(login: auth.Login) -> None:
    """The text area, pre-filled with the stored document when first drawn, Save, and Reload
    once a Save was refused as stale."""
    st.subheader("Edit")
    session.show_flash()
    if EDITOR not in st.session_state:
        try:
            load(backend.get_monitors(login.api_key))
        except Exception as exc:  # noqa: BLE001 - backend_failure re-raises anything not HTTP
            session.backend_failure(exc)
            return
    st.caption(
        "Save replaces the whole document; the text is kept as you wrote it, comments "
        "included. Fields and dimensions: config/monitors.example.yaml; an unset (null) value "
        "uses the detector default."
    )
    st.text_area("Monitors document (YAML)", key=EDITOR, height=420)
    st.button("Save", key="monitors-save", type="primary", on_click=save)
    if st.session_state.get(CONFLICT):
        st.button(
            "Reload",
            key="monitors-reload",
            on_click=reload,
            help="Replace the text above with the stored document (copy yours first).",
        )
