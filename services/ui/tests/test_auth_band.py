"""Sign-in precedence (form, trusted SSO header, environment) and the dashboard's reference band."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from costguard_core.models import CostRow
from costguard_ui import auth, band

SSO_ENV = {
    "COSTGUARD_UI_TRUST_SSO_HEADER": "true",
    "COSTGUARD_UI_SSO_KEYS": "alice@example.com=key-a, bob@example.com=key-b",
    "COSTGUARD_API_KEY": "service-key",
}


def test_typed_key_wins_then_sso_then_environment() -> None:
    headers = {"x-forwarded-user": "bob@example.com"}
    assert auth.find_key("typed", headers, SSO_ENV) == ("typed", "form")
    assert auth.find_key(None, headers, SSO_ENV) == ("key-b", "sso:bob@example.com")
    # SSO trusted but no header: the form, never the service key.
    assert auth.find_key(None, {}, SSO_ENV) is None
    assert auth.find_key(None, headers, {"COSTGUARD_API_KEY": "k"}) == ("k", "env")
    assert auth.find_key(None, {}, {}) is None


def test_unmapped_sso_user_and_bad_mapping_are_refused() -> None:
    with pytest.raises(auth.LoginError, match="mallory@example.com .* no CostGuard access"):
        auth.find_key(None, {"X-Forwarded-User": "mallory@example.com"}, SSO_ENV)
    with pytest.raises(ValueError, match="'carol' is not user=key"):
        auth.sso_keys("alice=k1,carol")


def test_role_decides_review_buttons() -> None:
    assert auth.Login("k", "form", "approver").can_review
    assert auth.Login("k", "form", "admin").can_review
    assert not auth.Login("k", "form", "viewer").can_review
    assert not auth.Login("k", "form", "agent").can_review


def row(day: date, cost: str, **dims: str) -> CostRow:
    base = {"ProviderName": "GCP", "ServiceName": "BigQuery", "BillingCurrency": "USD"}
    return CostRow(
        ChargePeriodStart=day, BilledCost=Decimal(cost), EffectiveCost=Decimal(cost),
        **{**base, **dims},
    )  # fmt: skip


def test_daily_spend_filters_scope_currency_and_credits() -> None:
    d0 = date(2026, 10, 1)
    rows = [
        row(d0, "1.10", SubAccountId="p1"),
        row(d0, "2.20", SubAccountId="p1", ResourceId="job-1"),
        row(d0, "-5", SubAccountId="p1"),  # a credit: not spend
        row(d0, "9", SubAccountId="p2"),
        row(d0, "7", SubAccountId="p1", BillingCurrency="EUR"),
        row(d0 + timedelta(days=2), "4", SubAccountId="p1"),
    ]
    spend = band.daily_spend(rows, {"SubAccountId": "p1"})
    assert list(spend.round(2)) == [3.3, 0.0, 4.0]
    eur = band.daily_spend(rows, {"SubAccountId": "p1", "BillingCurrency": "EUR"})
    assert list(eur) == [7.0]


def test_reference_band_uses_only_earlier_days() -> None:
    d0 = date(2026, 9, 1)
    # Weekdays cost 100 ± a little, weekends 20; then one spike of 500.
    costs = [(20 if (d0 + timedelta(days=i)).weekday() >= 5 else 100 + i % 3) for i in range(42)]
    costs[-1] = 500
    rows = [row(d0 + timedelta(days=i), str(c)) for i, c in enumerate(costs)]
    frame = band.reference_band(band.daily_spend(rows, {}))
    assert np.isnan(frame["expected"].iloc[0]) and np.isnan(frame["upper"].iloc[10])
    last = frame.iloc[-1]
    assert last["actual"] == 500 and last["expected"] in (20, 100, 101, 102)
    assert last["upper"] < 500  # the spike is outside a band built from the days before it
    assert (frame["lower"].dropna() >= 0).all()
