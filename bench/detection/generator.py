"""Labelled benchmark data: synthetic FOCUS daily spend for many tenants, with injected incidents.

Each *tenant* is one billing organisation (2–5 sub-accounts, a handful of services, 8–24 leaves,
a leaf being one ProviderName/SubAccountId/ServiceName/RegionId/ResourceId combination). Every
number is drawn from the ranges of a ``GenConfig`` with a seeded ``numpy`` generator, so a config
and a seed give the same data on every machine.

Normal patterns (never labelled): weekly seasonality (dev-like accounts dip at weekends), noise
whose standard deviation grows with spend (Student-t, heavy-ish tails), steady growth, month-start
fees (a support/marketplace leaf charging on day 1), credits and refunds (negative rows), and
intermittent batch jobs (a leaf that runs on random days). Optional (round 4): weekday-dependent
batch run sizes, month-end processing, one dominant leaf per tenant.

Incidents (labelled with tenant, kind, leaf and start day): ``spike`` (1–3 days), ``shift`` (level
shift that persists), ``drift`` (linear ramp over 7–21 days, then stays), ``new`` (a new resource
with material spend that persists) and ``weekend_loop`` (a job looping from Saturday over the
weekend). Sizes are material by construction: the daily excess is the larger of a multiple of the
leaf's own level and a fraction of the smallest service/account monitor containing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

SERVICES = [
    ("AWS", "Amazon Elastic Compute Cloud"),
    ("AWS", "Amazon Relational Database Service"),
    ("AWS", "Amazon Simple Storage Service"),
    ("AWS", "AWS Lambda"),
    ("AWS", "Amazon SageMaker"),
    ("AWS", "Amazon CloudFront"),
    ("Microsoft", "Virtual Machines"),
    ("Microsoft", "Azure OpenAI"),
    ("Microsoft", "Storage"),
    ("Google Cloud", "BigQuery"),
    ("Google Cloud", "Compute Engine"),
    ("Google Cloud", "Cloud Storage"),
]
REGIONS = {
    "AWS": ["us-east-1", "eu-west-1", "ap-southeast-2"],
    "Microsoft": ["westeurope", "eastus"],
    "Google Cloud": ["europe-west1", "us-central1"],
}
KINDS = ("spike", "shift", "drift", "new", "weekend_loop")


@dataclass(frozen=True)
class GenConfig:
    """Ranges the generator draws from (``(low, high)`` uniform unless said otherwise)."""

    name: str
    seed: int
    tenants: int
    days: int = 240
    start: date = date(2024, 1, 10)  # mid-month, so history holds a month start with a baseline
    leaves: tuple[int, int] = (8, 24)
    accounts: tuple[int, int] = (2, 5)
    leaf_log_mean: float = 3.8  # log-normal daily spend of a leaf: median e^3.8 ≈ 45 USD
    leaf_log_sigma: float = 1.2
    cv: tuple[float, float] = (0.03, 0.12)  # noise sd as a fraction of the day's level
    t_df: float = 6.0  # Student-t degrees of freedom of the noise
    dev_weekend: tuple[float, float] = (0.15, 0.6)  # weekend factor of dev-like accounts
    prod_weekend: tuple[float, float] = (0.85, 1.0)
    growth_per_year: tuple[float, float] = (0.0, 0.8)
    p_fee_tenant: float = 0.6  # tenants with a month-start fee leaf
    fee_multiple: tuple[float, float] = (5.0, 30.0)  # fee on day 1 ÷ the leaf's daily level
    p_batch_leaf: float = 0.08  # leaves that are intermittent batch jobs
    batch_p_day: tuple[float, float] = (0.15, 0.45)
    credits_per_tenant: tuple[int, int] = (0, 4)
    incidents: tuple[int, int] = (2, 4)
    mix: dict[str, float] = field(
        default_factory=lambda: {
            "spike": 0.3,
            "shift": 0.2,
            "drift": 0.15,
            "new": 0.15,
            "weekend_loop": 0.2,
        }
    )
    leaf_multiple: tuple[float, float] = (1.0, 4.0)  # excess ÷ the leaf's level
    monitor_fraction: tuple[float, float] = (0.35, 1.2)  # excess ÷ smallest monitor's level
    min_excess_usd: tuple[float, float] = (40.0, 150.0)
    warmup_days: int = 63  # no incident before this day: detectors need history
    gap_days: int = 24  # days between incident starts in one tenant
    # Round 4 (off by default; when off no random number is drawn, so older configs are
    # unchanged): batch runs whose size depends on the weekday, leaves that rise on the
    # month's last two days (month-end processing), tenants dominated by one big leaf.
    batch_weekday: tuple[float, float] | None = None  # per-weekday run-size factor range
    p_month_end_leaf: float = 0.0
    month_end_multiple: tuple[float, float] = (1.5, 3.0)
    p_dominant_tenant: float = 0.0
    dominant_multiple: tuple[float, float] = (10.0, 40.0)


@dataclass(frozen=True)
class Incident:
    """One injected incident: ``start`` is its first day with excess spend (UTC)."""

    tenant: int
    kind: str
    start: date
    end: date  # last day with excess (the data's last day for persisting kinds)
    SubAccountId: str
    ServiceName: str
    ResourceId: str
    daily_excess_usd: float


@dataclass
class Truth:
    """What generated a tenant's spend, for the oracle bound (``oracle.py``), never for a
    detector: per leaf (rows of ``meta``, in the generator's order; incidents' new resources
    last) and day, the noise-free expected spend before any incident (USD; 0 for a new
    resource before and after it appears, and on a batch job's idle days), the noise's scale
    (USD; Student-t with ``t_df`` degrees of freedom times this) and the final spend with the
    incidents (USD, as written to the rows). For a batch job's leaf also its run size and
    noise scale on every day, whether it runs that day or not (NaN rows for other leaves)."""

    meta: pd.DataFrame
    expected: np.ndarray
    scale: np.ndarray
    spend: np.ndarray
    run_expected: np.ndarray
    run_scale: np.ndarray


@dataclass
class Tenant:
    """A tenant's FOCUS daily rows, its labelled incidents and (bench only) its ``Truth``."""

    index: int
    frame: pd.DataFrame
    incidents: list[Incident]
    truth: Truth | None = None


def _weekend(days: np.ndarray) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(days).day_of_week >= 5)


def _tenant(cfg: GenConfig, t: int, rng: np.random.Generator) -> Tenant:
    n_days = cfg.days
    days = np.datetime64(cfg.start, "D") + np.arange(n_days)
    weekend = _weekend(days)
    index = pd.DatetimeIndex(days)
    dow = np.asarray(index.day_of_week)
    month_end = np.asarray(index.day >= index.days_in_month - 1)
    n_acc = int(rng.integers(cfg.accounts[0], cfg.accounts[1] + 1))
    accounts = [f"t{t}-{'dev' if i % 2 else 'prod'}-{i}" for i in range(n_acc)]
    services = [SERVICES[i] for i in rng.choice(len(SERVICES), size=6, replace=False)]
    n_leaves = int(rng.integers(cfg.leaves[0], cfg.leaves[1] + 1))
    leaves, curves, expected, scales, runs, run_scales = [], [], [], [], [], []
    tt = np.arange(n_days) / 365.0
    for k in range(n_leaves):
        provider, service = services[int(rng.integers(len(services)))]
        acc = accounts[int(rng.integers(n_acc))]
        region = REGIONS[provider][int(rng.integers(len(REGIONS[provider])))]
        level = float(np.exp(rng.normal(cfg.leaf_log_mean, cfg.leaf_log_sigma)))
        wk = rng.uniform(*(cfg.dev_weekend if "dev" in acc else cfg.prod_weekend))
        growth = rng.uniform(*cfg.growth_per_year)
        mean = level * (1 + growth) ** tt * np.where(weekend, wk, 1.0)
        run = np.full(n_days, np.nan)  # a batch job's run size on every day, run or not
        if rng.random() < cfg.p_batch_leaf:  # intermittent batch job: runs on random days
            on = rng.random(n_days) < rng.uniform(*cfg.batch_p_day)
            run = mean * 3.0
            mean = run * on
            if cfg.batch_weekday is not None:  # e.g. Monday's run processes the weekend
                weekday = rng.uniform(*cfg.batch_weekday, 7)[dow]
                run, mean = run * weekday, mean * weekday
        if cfg.p_month_end_leaf and rng.random() < cfg.p_month_end_leaf:
            month_end_factor = np.where(month_end, rng.uniform(*cfg.month_end_multiple), 1.0)
            mean, run = mean * month_end_factor, run * month_end_factor
        t_noise = rng.standard_t(cfg.t_df, n_days)
        cv = rng.uniform(*cfg.cv)
        leaves.append((provider, acc, service, region, f"{service.split()[-1].lower()}-t{t}-{k}"))
        curves.append(np.clip(mean + t_noise * cv * mean, 0.0, None))
        expected.append(mean)
        scales.append(cv * mean)
        runs.append(run)
        run_scales.append(cv * run)
    if cfg.p_dominant_tenant and rng.random() < cfg.p_dominant_tenant:
        k = int(rng.integers(n_leaves))  # one leaf carries most of the tenant's spend
        multiple = rng.uniform(*cfg.dominant_multiple)
        curves[k], expected[k], scales[k], runs[k], run_scales[k] = (
            a * multiple for a in (curves[k], expected[k], scales[k], runs[k], run_scales[k])
        )
    if rng.random() < cfg.p_fee_tenant:  # support fee: small daily charge, big one on day 1
        level = float(np.exp(rng.normal(cfg.leaf_log_mean - 1, 0.5)))
        y = level * (1 + rng.normal(0, 0.02, n_days))
        first = pd.DatetimeIndex(days).day == 1
        fee = level * rng.uniform(*cfg.fee_multiple)
        y[first] += fee
        leaves.append(("AWS", accounts[0], "AWS Support (Business)", None, None))
        curves.append(y)
        expected.append(level + np.where(first, fee, 0.0))
        scales.append(np.full(n_days, 0.02 * level))
        runs.append(np.full(n_days, np.nan))
        run_scales.append(np.full(n_days, np.nan))
    spend = np.vstack(curves)
    meta = pd.DataFrame(
        leaves, columns=["ProviderName", "SubAccountId", "ServiceName", "RegionId", "ResourceId"]
    )
    incidents, spend, meta = _inject(cfg, t, rng, days, spend, meta)
    new = len(meta) - len(expected)  # incidents' new resources: nothing expected
    truth = Truth(
        meta.copy(),
        np.vstack(expected + [np.zeros(n_days)] * new),
        np.vstack(scales + [np.zeros(n_days)] * new),
        spend.copy(),
        np.vstack(runs + [np.full(n_days, np.nan)] * new),
        np.vstack(run_scales + [np.full(n_days, np.nan)] * new),
    )
    return Tenant(t, _rows(cfg, t, rng, days, spend, meta), incidents, truth)


def _smallest_monitor(spend: np.ndarray, meta: pd.DataFrame, k: int, upto: int) -> float:
    """Mean daily level (28 days before ``upto``) of the smaller of leaf k's service and
    sub-account monitors."""
    window = slice(max(0, upto - 28), upto)
    levels = []
    for col in ("ServiceName", "SubAccountId"):
        rows = (meta[col] == meta.at[k, col]).to_numpy()
        levels.append(float(spend[rows, window].sum(axis=0).mean()))
    return min(levels)


def _inject(cfg, t, rng, days, spend, meta):
    n_days = len(days)
    n_inc = int(rng.integers(cfg.incidents[0], cfg.incidents[1] + 1))
    kinds = list(cfg.mix)
    weights = np.array([cfg.mix[k] for k in kinds]) / sum(cfg.mix.values())
    used: set[int] = set()
    incidents = []
    day = cfg.warmup_days + int(rng.integers(0, 10))
    base_count = len(meta)
    for _ in range(n_inc):
        if day >= n_days - 8:
            break
        kind = str(rng.choice(kinds, p=weights))
        start = day
        if kind == "weekend_loop":  # loops start on a Saturday
            start += (5 - pd.Timestamp(days[start]).day_of_week) % 7
        candidates = [
            k
            for k in range(base_count)
            if k not in used
            and meta.at[k, "ResourceId"] is not None
            and spend[k, :start].mean() > 3
        ]
        if kind == "weekend_loop":  # loops hit accounts that are quiet at weekends
            dev = [k for k in candidates if "dev" in meta.at[k, "SubAccountId"]]
            candidates = dev or candidates
        if not candidates:  # a small tenant has no unused leaf left
            break
        k = int(rng.choice(candidates))
        used.add(k)
        level = float(np.median(spend[k, start - 28 : start]))
        excess = max(
            level * rng.uniform(*cfg.leaf_multiple),
            _smallest_monitor(spend, meta, k, start) * rng.uniform(*cfg.monitor_fraction),
            rng.uniform(*cfg.min_excess_usd),
        )
        add = np.zeros(n_days)
        if kind == "spike":
            length = int(rng.integers(1, 4))
            add[start : start + length] = excess * rng.uniform(0.8, 1.2, length)[: n_days - start]
        elif kind == "shift":
            add[start:] = excess
        elif kind == "drift":
            ramp = int(rng.integers(7, 22))
            add[start:] = excess * 1.5 * np.minimum(1.0, np.arange(1, n_days - start + 1) / ramp)
        elif kind == "weekend_loop":
            length = int(rng.integers(2, 4))  # Saturday, Sunday, sometimes Monday morning
            add[start : start + length] = excess * rng.uniform(1.0, 2.0)
            if length == 3:
                add[start + 2] *= 0.3
        if kind == "new":
            provider, service = meta.at[k, "ProviderName"], meta.at[k, "ServiceName"]
            sub, region = meta.at[k, "SubAccountId"], meta.at[k, "RegionId"]
            resource = f"new-{service.split()[-1].lower()}-t{t}-{len(meta)}"
            meta.loc[len(meta)] = [provider, sub, service, region, resource]
            add[start:] = excess * (1 + rng.normal(0, 0.05, n_days - start))
            spend = np.vstack([spend, add])
        else:
            resource, service, sub = (
                meta.at[k, "ResourceId"],
                meta.at[k, "ServiceName"],
                meta.at[k, "SubAccountId"],
            )
            spend[k] += add
        last = int(np.flatnonzero(add > 0).max())
        incidents.append(
            Incident(
                tenant=t,
                kind=kind,
                start=pd.Timestamp(days[start]).date(),
                end=pd.Timestamp(days[last]).date(),
                SubAccountId=str(sub),
                ServiceName=str(service),
                ResourceId=str(resource),
                daily_excess_usd=float(excess),
            )
        )
        day = start + cfg.gap_days + int(rng.integers(0, 10))
    return incidents, spend, meta


def _rows(cfg, t, rng, days, spend, meta) -> pd.DataFrame:
    n_leaves, n_days = spend.shape
    leaf = np.repeat(np.arange(n_leaves), n_days)
    day = np.tile(np.arange(n_days), n_leaves)
    cost = spend.ravel()
    keep = cost > 0
    frame = meta.iloc[leaf[keep]].reset_index(drop=True)
    frame.insert(0, "ChargePeriodStart", days[day[keep]])
    frame["EffectiveCost"] = cost[keep]
    frame["ChargeCategory"] = "Usage"
    n_cred = int(rng.integers(cfg.credits_per_tenant[0], cfg.credits_per_tenant[1] + 1))
    if n_cred:  # credits and refunds: negative rows on random days and leaves
        pick = rng.integers(0, len(frame), n_cred)
        credit = frame.iloc[pick].copy()
        credit["EffectiveCost"] = -rng.uniform(50, 3000, n_cred)
        credit["ChargeCategory"] = "Credit"
        frame = pd.concat([frame, credit], ignore_index=True)
    frame["BillingAccountId"] = f"billing-t{t}"
    frame["BillingCurrency"] = "USD"
    frame["ChargePeriodStart"] = pd.to_datetime(frame["ChargePeriodStart"]).dt.date
    return frame


def generate(cfg: GenConfig) -> list[Tenant]:
    """All tenants of a config; tenant t uses the stream ``(cfg.seed, t)``."""
    return [_tenant(cfg, t, np.random.default_rng([cfg.seed, t])) for t in range(cfg.tenants)]


def to_hourly(tenant: Tenant, seed: int) -> pd.DataFrame:
    """Hourly rows of a tenant: each day's cost spread over 24 hours with a diurnal profile
    (busier 08–20 UTC) and ±10 % hourly noise, preserving each day's total.
    ``ChargePeriodStart`` becomes a UTC timestamp."""
    rng = np.random.default_rng(seed)
    profile = 1 + 0.6 * np.sin((np.arange(24) - 8) / 24 * 2 * np.pi).clip(0)
    profile = profile / profile.sum()
    frame = tenant.frame
    hours = np.repeat(frame.index.to_numpy(), 24)
    out = frame.loc[hours].reset_index(drop=True)
    share = np.tile(profile, len(frame)) * rng.uniform(0.9, 1.1, len(out))
    share = share / np.repeat(np.add.reduceat(share, np.arange(0, len(out), 24)), 24)
    out["EffectiveCost"] = out["EffectiveCost"].to_numpy() * share
    out["ChargePeriodStart"] = pd.to_datetime(out["ChargePeriodStart"]) + pd.to_timedelta(
        np.tile(np.arange(24), len(frame)), unit="h"
    )
    return out
