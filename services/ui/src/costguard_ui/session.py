"""Per-browser-session state shared by the pages: the login, one-shot messages, refresh period.

Session keys: :data:`LOGIN` (a :class:`costguard_ui.auth.Login`), :data:`FLASH` (``[(kind,
text)]`` set by button callbacks and shown once), :data:`NO_AUTO` (set by Sign out, so the
environment's or proxy's key is not used again until the user signs in).
"""

from __future__ import annotations

import os

import httpx
import streamlit as st
from costguard_core.client import BackendError

from costguard_ui import auth, backend

LOGIN = "costguard_login"
FLASH = "costguard_flash"
NO_AUTO = "costguard_no_auto_login"
#: Flashed (see :func:`signed_in`) when a button or page needs a login and there is none.
SIGNED_OUT = "Your session has expired — sign in again."
#: Seconds between automatic refreshes of each page's data (``COSTGUARD_UI_REFRESH_S``, 0: off).
DEFAULT_REFRESH_S = 30.0


def refresh_interval() -> float | None:
    """``run_every`` for ``st.fragment``: the configured seconds, or ``None`` when 0."""
    seconds = float(os.environ.get("COSTGUARD_UI_REFRESH_S", DEFAULT_REFRESH_S))
    return seconds if seconds > 0 else None


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault(FLASH, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH, []):
        getattr(st, kind)(text)


def current_login() -> auth.Login | None:
    """The signed-in user, signing in from the proxy header or environment when allowed."""
    login = st.session_state.get(LOGIN)
    if login is not None or st.session_state.get(NO_AUTO):
        return login
    try:
        found = auth.find_key(None, dict(st.context.headers), auth.env())
        if found is None:
            return None
        key, source = found
        login = auth.Login(key, source, auth.resolve_role(key))
    except (auth.LoginError, ValueError) as exc:
        st.error(str(exc))
        return None
    st.session_state[LOGIN] = login
    return login


def signed_in() -> auth.Login | None:
    """The login a button callback or a page needs (:func:`current_login`); ``None`` after
    flashing :data:`SIGNED_OUT` when there is none, so the caller returns without calling the
    API and the next run draws the sign-in page with that message.

    A tab can outlive its login: its session state lost (e.g. the UI restarted), or signed out,
    with no environment or SSO key to sign in from again."""
    login = current_login()
    if login is None:
        flash("warning", SIGNED_OUT)
    return login


def _sign_in() -> None:
    typed = (st.session_state.get("login-key") or "").strip()
    if not typed:
        flash("error", "Enter an API key.")
        return
    try:
        login = auth.Login(typed, "form", auth.resolve_role(typed))
    except auth.LoginError as exc:
        flash("error", f"Sign-in failed: {exc}")
        return
    st.session_state[LOGIN] = login
    st.session_state.pop(NO_AUTO, None)
    st.session_state["login-key"] = ""


def sign_out() -> None:
    st.session_state.pop(LOGIN, None)
    st.session_state[NO_AUTO] = True


def login_page() -> None:
    """The sign-in form (the only page without a login)."""
    st.title("CostGuard")
    show_flash()
    st.write("Sign in with your CostGuard API key (an admin issues it; roles: viewer, approver).")
    st.text_input("API key", type="password", key="login-key")
    st.button("Sign in", key="login-submit", type="primary", on_click=_sign_in)


def backend_failure(exc: Exception) -> None:
    """One error line for a failed load (never a traceback)."""
    if isinstance(exc, BackendError):
        st.error(
            f"The backend at {backend.backend_url()} answered HTTP {exc.status_code}: {exc.detail}"
        )
    elif isinstance(exc, httpx.HTTPError):
        st.error(f"Cannot reach the backend at {backend.backend_url()}: {exc}")
    else:
        raise exc
