"""Several organisations (billing accounts) in one frame are judged as if scanned alone."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from costguard_core.detection import DetectorConfig, detect
from costguard_core.detection.rows import row_accounts, service_in_account
from costguard_core.detection.series import prepare

START = date(2024, 1, 1)
DAYS = 84
INCIDENT = 60


def org(name: str, scale: float, seed: int, incident_usd: float = 0.0) -> pd.DataFrame:
    """One organisation: two sub-accounts, EC2, S3 and a small SageMaker notebook;
    ``incident_usd`` is added to the notebook from day INCIDENT on (a level shift)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(DAYS):
        day = START + timedelta(days=d)
        weekend = day.weekday() >= 5
        for sub, service, resource, usd in (
            ("prod", "Amazon EC2", "i-web", 900.0),
            ("prod", "Amazon SageMaker", "notebook", 60.0),
            ("prod", "Amazon S3", "logs", 300.0),
            ("dev", "Amazon EC2", "i-dev", 400.0),
        ):
            cost = usd * scale * (0.8 if weekend else 1.0) * (1 + rng.normal(0, 0.03))
            if resource == "notebook" and d >= INCIDENT:
                cost += incident_usd
            rows.append(
                {
                    "ChargePeriodStart": day,
                    "ProviderName": "AWS",
                    "BillingAccountId": f"{name}-payer",
                    "SubAccountId": f"{name}-{sub}",
                    "ServiceName": service,
                    "RegionId": "us-east-1",
                    "ResourceId": f"{name}-{resource}",
                    "BillingCurrency": "USD",
                    "EffectiveCost": cost,
                }
            )
    return pd.DataFrame(rows)


def _facts(found: list, prefix: str) -> list[tuple]:
    return [
        (a.start, a.root_causes[0].ResourceId)
        for a in found
        if a.root_causes and str(a.root_causes[0].ResourceId).startswith(prefix)
    ]


def test_an_incident_is_found_alike_alone_and_beside_a_bigger_organisation() -> None:
    """+120 USD/day on a 60 USD/day notebook: material within its organisation's SageMaker
    spend (the leaf's percent reference, the smaller of its service's and its sub-account's
    expected spend). Beside a ten times bigger organisation using SageMaker too, the frame's
    SageMaker monitor is ~100 times the notebook and the sub-account ~20 times: judged
    against everyone's SageMaker the rise would be 2 %, not 200 %. The reference is the
    service within the leaf's own billing account, so the answer is the same."""
    small = org("small", 1.0, seed=1, incident_usd=120.0)
    big = org("big", 10.0, seed=2)
    alone = _facts(detect(small), "small-")
    together = _facts(detect(pd.concat([small, big], ignore_index=True)), "small-")
    assert alone == [(START + timedelta(days=INCIDENT), "small-notebook")]
    assert together == alone


def test_reference_is_the_service_within_the_billing_account() -> None:
    frame = pd.concat([org("a", 1.0, seed=3), org("b", 5.0, seed=4)], ignore_index=True)
    prep = prepare(frame, "EffectiveCost")
    accounts = row_accounts(prep)
    assert accounts is not None
    refs = service_in_account(prep, DetectorConfig())
    assert refs is not None
    plain, _ = refs
    leaf_rows = [i for i, m in enumerate(prep.monitors) if m.column == "leaf"]
    last = prep.matrix.shape[1] - 1
    for r in leaf_rows:
        lid = int(str(prep.monitors[r].value))
        leaf = prep.leaves.loc[lid]
        same = prep.leaves[
            (prep.leaves.ServiceName == leaf.ServiceName)
            & (prep.leaves.BillingAccountId == leaf.BillingAccountId)
        ].index
        # The organisation's service spend on the last day is the sum of its leaves there.
        spend = sum(
            prep.matrix[i, last] for i in leaf_rows if int(str(prep.monitors[i].value)) in set(same)
        )
        assert 0.5 * spend < plain[r, last] < 1.5 * spend
    single = prepare(org("a", 1.0, seed=3), "EffectiveCost")
    assert row_accounts(single) is None
