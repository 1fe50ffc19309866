"""CostGuard dashboard (Streamlit): entry point, sign-in and page navigation.

Run: ``streamlit run services/ui/src/costguard_ui/app.py`` with ``BACKEND_URL`` set. Sign-in and
its settings are described in :mod:`costguard_ui.auth`; ``COSTGUARD_UI_REFRESH_S`` (default 30)
sets how often each page reloads its data. Pages (``views/``): Overview, Anomaly, Actions, and
Monitors (what the detective watches and its thresholds; admins edit them there). Every figure
comes from the backend API; the pages keep no state beyond the login, one-shot messages and the
monitors editor's text.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from costguard_ui import session

HERE = Path(__file__).resolve().parent


def main() -> None:
    st.set_page_config(page_title="CostGuard", layout="wide")
    login = session.current_login()
    if login is None:
        st.navigation([st.Page(session.login_page, title="Sign in", url_path="login")]).run()
        return
    pages = [
        st.Page(
            HERE / "views" / "overview.py", title="Overview", url_path="overview", default=True
        ),
        st.Page(HERE / "views" / "anomaly.py", title="Anomaly", url_path="anomaly"),
        st.Page(HERE / "views" / "actions.py", title="Actions", url_path="actions"),
        st.Page(HERE / "views" / "monitors.py", title="Monitors", url_path="monitors"),
    ]
    nav = st.navigation(pages)
    with st.sidebar:
        who = login.source.removeprefix("sso:") if login.source.startswith("sso:") else login.source
        st.caption(f"Signed in ({who}) as **{login.role}**")
        if not login.can_review:
            st.caption("Read-only: approving and rejecting need an approver key.")
        st.button("Sign out", key="sign-out", on_click=session.sign_out)
    nav.run()


main()
