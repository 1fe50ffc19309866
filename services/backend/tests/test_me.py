"""``GET /api/v1/me``: the caller's principal and role, for any authenticated role."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("role", ["viewer", "approver", "agent", "admin"])
def test_me_names_the_caller(client, h, role):
    resp = client.get("/api/v1/me", headers=h.auth(role))
    assert resp.status_code == 200
    assert resp.json() == {"principal": role, "role": role}


def test_me_refuses_unknown_keys(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
