"""Who is looking at the dashboard: an API key, where it came from, and the backend role behind it.

A key is found, in this order:

1. one typed into the login form (kept in ``st.session_state`` for the browser session only);
2. with ``COSTGUARD_UI_TRUST_SSO_HEADER=true``, the ``X-Forwarded-User`` header set by an
   authenticating reverse proxy (oauth2-proxy, an IAP, …), mapped to a key by
   ``COSTGUARD_UI_SSO_KEYS="alice@example.com=<key>,bob@example.com=<key>"``. Only enable this when
   the proxy is the sole way in and strips any client-sent ``X-Forwarded-User``: the header is
   trusted as is. A user the proxy names but the mapping does not know gets no key;
3. otherwise (SSO off), ``COSTGUARD_API_KEY`` from the environment, for a single-operator setup
   such as ``make up``.

The role comes from the backend, never from the UI: ``GET /api/v1/me`` (``{"principal",
"role"}``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from costguard_ui.backend import backend_url

#: Roles that see Approve and Reject (the backend enforces the same list).
REVIEWERS = ("approver", "admin")
#: Roles that may change the monitors document (``PUT /api/v1/monitors``; the backend enforces it).
ADMINS = ("admin",)
SSO_HEADER = "X-Forwarded-User"


class LoginError(Exception):
    """The key was refused (401) or the backend could not be asked."""


@dataclass(frozen=True)
class Login:
    """``source`` is ``form``, ``sso:<user>`` or ``env``; ``role`` the backend's role name, or
    ``reviewer``/``reader`` when only the probe could tell."""

    api_key: str
    source: str
    role: str

    @property
    def can_review(self) -> bool:
        return self.role in REVIEWERS

    @property
    def can_configure(self) -> bool:
        return self.role in ADMINS


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def sso_keys(raw: str | None) -> dict[str, str]:
    """Parse ``user=key,user=key``; raises ``ValueError`` naming a malformed entry."""
    out: dict[str, str] = {}
    for entry in (raw or "").split(","):
        if not entry.strip():
            continue
        user, sep, key = entry.partition("=")
        if not sep or not user.strip() or not key.strip():
            raise ValueError(f"COSTGUARD_UI_SSO_KEYS: entry {entry.strip()!r} is not user=key")
        out[user.strip()] = key.strip()
    return out


def find_key(
    typed: str | None, headers: Mapping[str, str], env: Mapping[str, str]
) -> tuple[str, str] | None:
    """``(key, source)`` by the precedence in the module docstring, or ``None`` (show the form).

    Raises ``LoginError`` when SSO is trusted and names a user with no mapped key.
    """
    if typed:
        return typed, "form"
    if _truthy(env.get("COSTGUARD_UI_TRUST_SSO_HEADER")):
        user = next((v for k, v in headers.items() if k.lower() == SSO_HEADER.lower()), None)
        if not user:
            return None
        key = sso_keys(env.get("COSTGUARD_UI_SSO_KEYS")).get(user.strip())
        if key is None:
            raise LoginError(f"{user} is signed in but has no CostGuard access; ask an admin.")
        return key, f"sso:{user.strip()}"
    key = env.get("COSTGUARD_API_KEY")
    return (key, "env") if key else None


def resolve_role(api_key: str, *, url: str | None = None, timeout: float = 10.0) -> str:
    """The backend role of ``api_key`` (see module docstring). Raises ``LoginError``."""
    headers = {"Authorization": f"Bearer {api_key}"}
    try:
        with httpx.Client(base_url=url or backend_url(), headers=headers, timeout=timeout) as http:
            me = http.get("/api/v1/me")
    except httpx.HTTPError as exc:
        raise LoginError(f"Cannot reach the backend at {url or backend_url()}: {exc}") from exc
    if me.status_code == 401:
        raise LoginError("The backend does not know this API key.")
    if me.status_code != 200:
        raise LoginError(f"Unexpected answer {me.status_code} from /api/v1/me.")
    return str(me.json()["role"])


def env() -> dict[str, str]:
    return dict(os.environ)
