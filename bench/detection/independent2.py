"""A third labelled generator of daily cloud spend (FOCUS-shaped rows), Kubernetes- and
billing-mechanics-oriented. Written without reading CostGuard's detector, ``generator.py`` or the
body of ``independent.py`` (only its docstring, to differ from it); only ``Incident`` is imported.

Assumptions (what a real bill does that the other two generators model differently or not at all):

1. **Kubernetes cost is allocated, and it moves in node steps.** A cluster's cost is nodes x node
   price. The autoscaler works hourly: each hour's node count is ``ceil(demand_h / capacity)``
   (clipped to the node group's min/max) with a diurnal demand curve, and the daily cost is the
   day's mean node count, so the bill steps when the peak hours need one node more. Namespaces
   (the ResourceIds, ``cluster/namespace``) receive a proportional share of the node cost (idle
   included, as allocation tools do); shares wander slowly (AR(1), sd 3 %). A namespace's cost
   therefore moves when *other* namespaces grow: a deliberate source of correlated movement.
   Control-plane fees are a flat leaf. Some clusters run on spot nodes (price noise below).
2. **Demand** (traffic) = tenant growth (0-50 %/yr, compounding) x weekly cycle (prod weekends
   70-95 %) x year-end lull (Dec 24 - Jan 1, x0.8) x a busy-week AR(1) factor. Egress, functions,
   logs, spot fleets and clusters follow it with their own elasticity and noise; the daily cycle
   averages out in a daily bill except through the autoscaler (1).
3. **Dev schedules are set in local time, bills are in UTC.** Dev VMs and dev clusters are stopped
   nights/weekends by a scheduler in the tenant's zone, so the UTC day factors differ: US (stop
   Fri 19:00 PT = Sat 02:00 UTC, start Mon 07:00 PT = 14:00 UTC: Mon 0.45, Sat 0.1, Sun 0.03),
   EU (Mon 0.8, Sat 0.05, Sun 0.03), APAC (stop Fri 10:00 UTC, start Sun 23:00 UTC: Fri 0.45,
   Sat 0.03, Sun 0.07). Disks keep a small residue, so there are rows on every day.
4. **Spot prices** follow a mean-reverting AR(1) in log space (phi 0.97, sd 3 %, clipped to
   +-30 %): slow multi-week swings, never several-fold (reclaims falling back to on-demand would be
   a rise a user wants to see, so they are not modelled).
5. **Commitments lower the bill.** With probability ``p_commit`` a tenant buys a savings plan that
   starts on the 1st of a month inside the scored window: from that day the EffectiveCost of the
   prod VM, database and on-demand cluster leaves falls by 15-35 % (FOCUS EffectiveCost is
   amortised, so no new row appears). A decrease: not labelled.
6. **Provider price changes** (``price_steps``): per provider, one service (storage, egress, VMs
   or logs) changes price by -8..-3 % or +3..+9 % on the 1st of a month, for every resource of
   every tenant. Not listed as an anomaly by the issue, so not labelled, and kept <= 9 %.
7. **Export lag** (``lag_every``): per provider, about one day in ``lag_every`` has no rows at all
   for that provider (in every tenant); the next day carries both days' charges (every leaf's
   cost doubled for a day). Not labelled; incidents never start on a lag day or the day after,
   and an incident's excess on a lag day moves to the next day with the rest of the bill.
8. **Month-end reporting bursts.** Query-engine leaves (Athena / BigQuery / Synapse) are bursty
   (log sd 0.35, clipped at 2 sd), lower on weekends, and half of them run the month-end reports:
   x1.5-2.2 on the last two days of each month. Recurring, so not labelled.
9. **Shape of tenants.** 1-2 dominant sub-accounts hold 70-90 % of spend; the rest is a tail. The
   ``tail`` leaves are many tiny resources (0.01-3 USD a day) billed as price x Poisson quantity
   (no row on a zero day), some created or deleted in the window (immaterial: not "new").
10. **Batch** (EMR / Dataproc / Databricks) runs nightly on weekdays, on Sundays only, or every
   2-3 days; no row on other days. **Storage** grows by 5-60 %/yr with rare lifecycle drops; VMs
   and databases are flat with occasional unlabelled downsizes.
11. **Month-start charges and credits.** Support fee on the 1st (ResourceId None, 3-10 % of the
   provider's previous-month usage *without incidents*, floor 100 USD, so labels stay exact); an
   optional fixed Marketplace subscription on the 1st; an optional monthly lump credit posted on a
   fixed day 2-5 (-5..-15 % of one service's previous month, ResourceId None, "Credit"); 0-2
   one-off refunds of 1-4 days of a leaf (negative, "Credit", with its ResourceId).

**Incidents** (the issue's five kinds) come from a separate random stream, so
``generate(cfg, incidents=False)`` is the same bill without them; they are *added* to one leaf
(excess x profile x noise, noise log-normal sd 0.06 clipped to +-15 %). A tenant has
``incidents`` of them, starting from ``warmup_days`` (9 weeks of clean history) to 14 days before
the end, >= 6 days apart (they may overlap in time on different leaves), on leaves with >= 8 weeks
of history and a median >= 5 USD. Size: ``max(min_usd x U(1, 3), m x ref)``, ref = the leaf's
median over the 8 weeks before (p90 for bursty/batch leaves, weekday median for weekend loops).

- ``spike``: 1-3 days, decaying (1, 0.5-1, 0.3-1); m 1-3.5.
- ``shift``: first day partial (0.4-1, created mid-day), then full; 35 % are reverted after 14-45
  days (``end`` is the last day with excess); m 0.4-1.5.
- ``drift``: compounding ramp over 7-21 days (``(e^{ks}-1)/(e^{kD}-1)``), then holds; m 0.6-2.
- ``new``: a new ResourceId (half in a service the sub-account never used), first day partial;
  size 2-8 % of the tenant's median daily usage (same floor).
- ``weekend_loop``: from Saturday (UTC; partial 0.5-1), all Sunday, part of Monday (0-0.7) until
  killed; m 1-3 of the weekday median.
``daily_excess_usd`` is the nominal full-day excess (the plateau for drift).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator import Incident  # noqa: E402

KINDS = ("spike", "shift", "drift", "new", "weekend_loop")
COLUMNS = [
    "ChargePeriodStart",
    "ProviderName",
    "SubAccountId",
    "ServiceName",
    "RegionId",
    "ResourceId",
    "EffectiveCost",
    "ChargeCategory",
    "BillingAccountId",
    "BillingCurrency",
]
K = ("k8s", "vm", "db", "storage", "egress", "query", "batch", "fn", "logs", "support", "market")
PROV = {
    "AWS": (("Amazon Elastic Kubernetes Service", "Amazon Elastic Compute Cloud",
             "Amazon Relational Database Service", "Amazon Simple Storage Service",
             "AWS Data Transfer", "Amazon Athena", "Amazon EMR", "AWS Lambda", "AmazonCloudWatch",
             "AWS Support (Business)", "AWS Marketplace"),
            ("us-east-1", "eu-west-1", "us-west-2"),
            ("Amazon SageMaker", "Amazon Bedrock", "Amazon OpenSearch Service", "Amazon Redshift")),
    "Google Cloud": (("Kubernetes Engine", "Compute Engine", "Cloud SQL", "Cloud Storage",
                      "Networking", "BigQuery", "Dataproc", "Cloud Run", "Cloud Logging",
                      "Google Cloud Support", "Google Cloud Marketplace"),
                     ("us-central1", "europe-west1", "asia-northeast1"),
                     ("Vertex AI", "Cloud Spanner", "Memorystore for Redis", "Dataflow")),
    "Microsoft": (("Azure Kubernetes Service", "Virtual Machines", "Azure SQL Database", "Storage",
                   "Bandwidth", "Azure Synapse Analytics", "Azure Databricks", "Functions",
                   "Log Analytics", "Azure Support", "Azure Marketplace"),
                  ("eastus", "westeurope", "japaneast"),
                  ("Azure OpenAI", "Azure Cosmos DB", "Azure Cache for Redis", "Azure AI Search")),
}  # fmt: skip
APPS = ["checkout", "search", "payments", "api", "web", "etl", "auth", "notifications",
    "reporting", "recommender", "gateway", "ml-train", "ingest", "billing", "media"]  # fmt: skip
DEV_WEEK = {  # UTC weekday factor Mon..Sun of a local-time scheduler (assumption 3)
    "US": [0.45, 1, 1, 1, 1, 0.1, 0.03], "EU": [0.8, 1, 1, 1, 1, 0.05, 0.03],
    "APAC": [1, 1, 1, 1, 0.45, 0.03, 0.07],
}  # fmt: skip


@dataclass(frozen=True)
class Config:
    name: str
    seed: int
    tenants: int
    days: int
    start: date
    clusters: tuple[int, int]  # k8s clusters per tenant
    namespaces: tuple[int, int]  # app namespaces per cluster
    plain: tuple[int, int]  # other leaves per tenant
    tail: tuple[int, int]  # tiny leaves per tenant
    accounts: tuple[int, int]
    incidents: tuple[int, int]  # per tenant
    price_steps: bool = False
    lag_every: int = 0  # mean days between export lags per provider (0: none)
    p_commit: float = 0.4
    min_usd: float = 30.0
    warmup_days: int = 63


CONFIGS = {
    "k1": lambda seed: Config("k1", seed, 28, 300, date(2024, 3, 4), clusters=(1, 3),
                              namespaces=(5, 12), plain=(6, 14), tail=(0, 8), accounts=(2, 5),
                              incidents=(2, 4)),
    "k2": lambda seed: Config("k2", seed, 26, 365, date(2024, 1, 1), clusters=(0, 2),
                              namespaces=(4, 9), plain=(10, 24), tail=(40, 160), accounts=(4, 12),
                              incidents=(3, 6), price_steps=True, lag_every=40),
}  # fmt: skip


@dataclass
class Tenant:
    index: int
    frame: pd.DataFrame
    incidents: list[Incident] = field(default_factory=list)


def _ar(rng, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    x = np.empty(n)
    x[0] = rng.normal(0, sd)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def _acct_id(rng, prov: str) -> str:
    if prov == "AWS":
        return "".join(str(d) for d in rng.integers(0, 10, 12))
    if prov == "Microsoft":
        h = "".join(rng.choice(list("0123456789abcdef"), 32))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return f"proj-{rng.choice(APPS)}-{rng.integers(100000, 999999)}"


def _calendar(cfg: Config):
    days = [cfg.start + timedelta(days=i) for i in range(cfg.days)]
    dow = np.array([d.weekday() for d in days])
    dom = np.array([d.day for d in days])
    last2 = np.array([(d + timedelta(days=2)).month != d.month for d in days])
    yearend = np.array([(d.month == 12 and d.day >= 24) or (d.month == 1 and d.day == 1)
                        for d in days])  # fmt: skip
    return days, dow, dom, last2, yearend


def _events(cfg: Config, dom: np.ndarray):
    """Config-wide provider events: price steps (assumption 6) and export lag days (7)."""
    firsts = np.flatnonzero(dom == 1)
    steps, lags = {}, {}
    for j, p in enumerate(PROV):
        r = np.random.default_rng([cfg.seed, 1, j])
        f = r.uniform(1.03, 1.09) if r.random() < 0.6 else r.uniform(0.92, 0.97)
        steps[p] = (K[r.choice([3, 4, 1, 8])], int(r.choice(firsts[firsts > 0])), f)
        r = np.random.default_rng([cfg.seed, 2, j])
        lags[p] = set()
        if cfg.lag_every:
            d = int(r.geometric(1 / cfg.lag_every))
            while d < cfg.days - 1:
                lags[p].add(d)
                d += 2 + int(r.geometric(1 / cfg.lag_every))
    return (steps if cfg.price_steps else {}), lags


def _tenant_bill(cfg: Config, idx: int, cal, steps):
    """Usage leaves (dicts with a ``cost`` array, NaN = no row) and tenant facts."""
    rng = np.random.default_rng([cfg.seed, idx])
    days, dow, dom, last2, yearend = cal
    T, t = cfg.days, np.arange(cfg.days)
    provs = list(rng.choice(list(PROV), 1 if rng.random() < 0.7 else 2, replace=False))
    tz = str(rng.choice(list(DEV_WEEK)))
    devw = np.array(DEV_WEEK[tz])[dow]
    scale = float(np.exp(rng.normal(np.log(600), 0.9)))
    wk = np.where(dow >= 5, rng.uniform(0.7, 0.95), 1.0)
    demand = (np.exp(rng.uniform(0, 0.5) * t / 365) * wk * np.where(yearend, 0.8, 1.0)
              * np.exp(_ar(rng, T, 0.8, 0.06)))  # fmt: skip
    n_acc = int(rng.integers(cfg.accounts[0], cfg.accounts[1] + 1))
    n_dom = 1 if n_acc < 3 or rng.random() < 0.5 else 2
    w = np.r_[rng.dirichlet(np.ones(n_dom)) * rng.uniform(0.7, 0.9),
              rng.dirichlet(np.ones(max(n_acc - n_dom, 1)))[: n_acc - n_dom]]  # fmt: skip
    w = w / w.sum()
    accts = [
        (provs[i] if i < len(provs) else str(rng.choice(provs)), rng.random() < 0.5 and i >= n_dom)
        for i in range(n_acc)
    ]
    accts = [(p, _acct_id(rng, p), dev) for p, dev in accts]
    commit = int(rng.choice(np.flatnonzero((dom == 1) & (t > cfg.warmup_days)))) if (
        rng.random() < cfg.p_commit) else T  # fmt: skip
    disc = np.where(t >= commit, 1 - rng.uniform(0.15, 0.35), 1.0)
    leaves = []

    def add(a, kind, rid, cost, ref="median", region=None, cov=False):
        p, acct, dev = accts[a]
        svc = PROV[p][0][K.index(kind)]
        step = steps.get(p)
        if step and step[0] == kind:
            cost = cost * np.where(t >= step[1], step[2], 1.0)
        cost = cost * disc if cov and not dev else cost
        region = region or str(rng.choice(PROV[p][1]))
        leaves.append(dict(prov=p, acct=acct, svc=svc, region=region, rid=rid, cost=cost,
                           ref=ref, a=a))  # fmt: skip

    for c in range(int(rng.integers(cfg.clusters[0], cfg.clusters[1] + 1))):  # assumption 1
        a = int(rng.choice(n_acc, p=w))
        budget = scale * w[a] * rng.uniform(0.2, 0.6)
        price = float(rng.choice([2.3, 4.6, 9.2, 18.4]))
        n0 = int(np.clip(round(budget / price), 3, 60))
        spot = rng.random() < 0.3
        d = demand * (devw if accts[a][2] else 1.0)
        amp, peak = rng.uniform(0.1, 0.35), rng.uniform(0, 24)
        dh = d[:, None] * (1 + amp * np.sin(2 * np.pi * (np.arange(24) - peak) / 24))[None, :]
        nodes = np.clip(np.ceil(n0 * dh * 1.1), max(1, n0 // 3), 2 * n0 + 2).mean(axis=1)
        pr = price * (np.exp(np.clip(_ar(rng, T, 0.97, 0.03), -0.3, 0.3)) if spot else 1.0)
        node_cost = nodes * pr * (1.0 if spot else disc if not accts[a][2] else 1.0)
        apps = list(rng.choice(APPS, int(rng.integers(*cfg.namespaces) + 1), replace=False))
        names = ["kube-system", "monitoring", *apps]
        base = np.r_[0.05, 0.08, rng.dirichlet(np.full(len(apps), 0.8)) * 0.87]
        sh = base[:, None] * np.exp(np.vstack([_ar(rng, T, 0.9, 0.03) for _ in names]))
        sh = sh / sh.sum(axis=0)
        region = str(rng.choice(PROV[accts[a][0]][1]))
        for i, ns in enumerate(names):
            add(a, "k8s", f"cluster-{c}/{ns}", node_cost * sh[i], region=region)
        if accts[a][0] != "Microsoft":
            add(a, "k8s", f"cluster-{c}/control-plane", np.full(T, 2.4), region=region)
    n_plain = int(rng.integers(cfg.plain[0], cfg.plain[1] + 1))
    lv = rng.lognormal(0, 1.2, n_plain)
    pa = rng.choice(n_acc, n_plain, p=w)
    lv = lv * w[pa] / np.bincount(pa, lv, n_acc)[pa].clip(1e-9) * scale * 0.6
    for i in range(n_plain):
        a, L, dev = int(pa[i]), float(lv[i]), accts[pa[i]][2]
        kind = str(rng.choice(["vm", "vm", "db", "storage", "egress", "query", "batch", "fn",
                               "logs", "vm"]))  # fmt: skip
        rid = f"{kind}-{i:03d}-{rng.integers(16**6):06x}"
        if kind in ("vm", "db"):
            c = L * np.exp(rng.normal(0, rng.uniform(0.01, 0.03), T))
            if rng.random() < 0.25:  # unlabelled downsize
                c = c * np.where(t >= rng.integers(T), rng.uniform(0.5, 0.85), 1.0)
            if kind == "vm" and rng.random() < 0.25:  # spot fleet (assumption 4)
                c = c * np.exp(np.clip(_ar(rng, T, 0.97, 0.03), -0.3, 0.3)) * demand**0.5
                rid = "spot-" + rid
            elif kind == "vm" and dev:
                c = c * devw
            add(a, kind, rid, c, cov=not rid.startswith("spot"))
        elif kind == "storage":
            c = L * np.exp(rng.uniform(0.05, 0.6) * t / 365 + rng.normal(0, 0.005, T))
            if rng.random() < 0.2:
                c = c * np.where(t >= rng.integers(T), rng.uniform(0.6, 0.9), 1.0)
            add(a, kind, rid, c)
        elif kind in ("egress", "fn", "logs"):
            e, sd = {"egress": (1.1, 0.06), "fn": (1.0, 0.1), "logs": (0.8, 0.05)}[kind]
            add(a, kind, rid, L * demand**e * np.exp(rng.normal(0, sd, T)))
        elif kind == "query":  # assumption 8
            c = L * np.exp(np.clip(rng.normal(0, 0.35, T), -0.7, 0.7)) * np.where(dow >= 5, 0.5, 1)
            if rng.random() < 0.5:
                c = c * np.where(last2, rng.uniform(1.5, 2.2), 1.0)
            add(a, kind, rid, c, ref="p90")
        else:  # batch
            sched = rng.integers(3)
            on = (dow < 5) if sched == 0 else (dow == 6) if sched == 1 else (
                t % int(rng.integers(2, 4)) == 0)  # fmt: skip
            c = L * (3 if sched == 1 else 1) * np.exp(rng.normal(0, 0.15, T))
            add(a, kind, rid, np.where(on, c, np.nan), ref="p90")
    for i in range(int(rng.integers(cfg.tail[0], cfg.tail[1] + 1))):  # tiny leaves
        a = int(rng.choice(n_acc, p=w))
        lam = rng.uniform(1, 40)
        q = rng.poisson(lam, T) * rng.uniform(0.01, 3) / lam
        lo, hi = (rng.integers(T), T) if rng.random() < 0.15 else (0, T)
        hi = int(rng.integers(lo + 1, T + 1)) if rng.random() < 0.1 else hi
        c = np.where((q > 0) & (t >= lo) & (t < hi), q, np.nan)
        add(a, str(rng.choice(["storage", "fn", "logs", "vm"])), f"tiny-{i:03d}", c, ref="tail")
    return rng, provs, accts, w, leaves


def _charges(rng, cfg: Config, cal, provs, accts, leaves) -> list[dict]:
    """Month-start purchases and credits (assumption 11), from the bill without incidents."""
    days, dow, dom, last2, yearend = cal
    T, out = cfg.days, []
    month = np.array([d.year * 12 + d.month for d in days])
    for p in provs:
        a = next(i for i, x in enumerate(accts) if x[0] == p)
        usage = np.zeros(T) + sum(np.nan_to_num(lf["cost"]) for lf in leaves if lf["prov"] == p)
        fee, rate = np.full(T, np.nan), rng.uniform(0.03, 0.1)
        mkt, price = np.full(T, np.nan), rng.uniform(50, 900)
        for d in np.flatnonzero(dom == 1):
            prev = usage[month == month[d] - 1].sum() or usage[:28].sum()
            fee[d] = max(100.0, rate * prev)
            mkt[d] = price
        out.append(dict(prov=p, a=a, kind="support", rid=None, cost=fee, cat="Purchase"))
        if rng.random() < 0.4:
            out.append(dict(prov=p, a=a, kind="market", rid="subscription/1", cost=mkt,
                            cat="Purchase"))  # fmt: skip
    big = [lf for lf in leaves if not str(lf["rid"]).startswith("tiny")]
    if big and rng.random() < 0.5:  # monthly lump credit
        lf, day, share = big[int(rng.integers(len(big)))], int(rng.integers(2, 6)), 0
        share = rng.uniform(0.05, 0.15)
        cr = np.full(T, np.nan)
        for d in np.flatnonzero(dom == day):
            prev = np.nansum(lf["cost"][month == month[d] - 1])
            cr[d] = -share * prev if prev > 0 else np.nan
        out.append(dict(leaf=lf, rid=None, cost=cr, cat="Credit"))
    for _ in range(int(rng.integers(0, 3)) if big else 0):  # one-off refunds
        lf = big[int(rng.integers(len(big)))]
        cr = np.full(T, np.nan)
        d = int(rng.integers(T))
        cr[d] = -rng.uniform(1, 4) * max(np.nanmedian(lf["cost"]), 1.0)
        out.append(dict(leaf=lf, rid=lf["rid"], cost=cr, cat="Credit"))
    return out


def _incidents(cfg: Config, idx: int, leaves, accts, w, dow, bad: set[int]) -> list[Incident]:
    rng = np.random.default_rng([cfg.seed, idx, 99])
    T, out, starts, used = cfg.days, [], [], set()
    total = np.nanmedian(sum(np.nan_to_num(lf["cost"]) for lf in leaves))
    for _ in range(int(rng.integers(cfg.incidents[0], cfg.incidents[1] + 1))):
        kind = str(rng.choice(KINDS))
        for _try in range(50):
            s = int(rng.integers(cfg.warmup_days, T - 14))
            if kind == "weekend_loop":
                s += int((5 - dow[s]) % 7)
            if s < T - 14 and s not in bad and s - 1 not in bad and all(
                abs(s - x) >= 6 for x in starts):  # fmt: skip
                break
        else:
            continue
        ok = []
        for j, lf in enumerate(leaves):
            h = lf["cost"][s - 56 : s]
            if j in used or lf["ref"] == "tail" or np.isfinite(h).sum() < 8:
                continue
            if lf["ref"] != "p90" and np.isfinite(h).sum() < 50:
                continue
            if np.nanmedian(h) >= 5:
                ok.append(j)
        if not ok:
            continue
        j = ok[int(rng.integers(len(ok)))]
        lf, h = leaves[j], leaves[j]["cost"][s - 56 : s]
        ref = np.nanpercentile(h, 90) if lf["ref"] == "p90" else np.nanmedian(h)
        prof = np.zeros(T)
        if kind == "spike":
            n = int(rng.integers(1, 4))
            prof[s : s + n] = [1, rng.uniform(0.5, 1), rng.uniform(0.3, 1)][:n]
            m, end = rng.uniform(1, 3.5), s + n - 1
        elif kind == "shift":
            m, end = rng.uniform(0.4, 1.5), T - 1
            if rng.random() < 0.35:
                end = min(T - 1, s + int(rng.integers(14, 46)))
            prof[s : end + 1], prof[s] = 1, rng.uniform(0.4, 1)
        elif kind == "drift":
            n, k = min(int(rng.integers(7, 22)), T - s), rng.uniform(0.02, 0.25)
            prof[s:] = 1
            prof[s : s + n] = np.expm1(k * np.arange(1, n + 1)) / np.expm1(k * n)
            m, end = rng.uniform(0.6, 2), T - 1
        elif kind == "weekend_loop":
            wd = np.where(dow[s - 56 : s] < 5, h, np.nan)
            ref, m = np.nanmedian(wd) if np.isfinite(wd).any() else ref, rng.uniform(1, 3)
            mon = rng.uniform(0, 0.7)
            prof[s : s + 3] = [rng.uniform(0.5, 1), 1, mon if mon >= 0.1 else 0]
            end = s + (2 if mon >= 0.1 else 1)
        else:  # new
            m, ref, end = 1.0, rng.uniform(0.02, 0.08) * total, T - 1
            prof[s:], prof[s] = 1, rng.uniform(0.3, 1)
            svcs = PROV[lf["prov"]][0]
            svc = lf["svc"] if rng.random() < 0.5 else str(rng.choice(PROV[lf["prov"]][2]))
            rid = f"new-{idx}-{s}-{rng.integers(16**6):06x}"
            if svc == svcs[0]:
                rid = lf["rid"].split("/")[0] + f"/{rng.choice(APPS)}-canary-{s}"
            lf = dict(lf, svc=svc, rid=rid, cost=np.full(T, np.nan), ref="new")
            leaves.append(lf)
            j = len(leaves) - 1
        x = float(max(cfg.min_usd * rng.uniform(1, 3), m * ref))
        noise = np.clip(np.exp(rng.normal(0, 0.06, T)), 0.85, 1.15)
        add = x * prof * noise
        lf["cost"] = np.where(add > 0, np.nan_to_num(lf["cost"]) + add, lf["cost"])
        used.add(j)
        starts.append(s)
        out.append(Incident(idx, kind, cfg.start + timedelta(days=s),
                            cfg.start + timedelta(days=int(end)), lf["acct"], lf["svc"],
                            lf["rid"], round(x, 2)))  # fmt: skip
    return out


def generate(cfg: Config, incidents: bool = True) -> list[Tenant]:
    cal = _calendar(cfg)
    days, dow, dom = cal[0], cal[1], cal[2]
    dstr = np.array([d.isoformat() for d in days])
    steps, lags = _events(cfg, dom)
    tenants = []
    for idx in range(cfg.tenants):
        rng, provs, accts, w, leaves = _tenant_bill(cfg, idx, cal, steps)
        charges = _charges(rng, cfg, cal, provs, accts, leaves)
        bad = set().union(*(lags[p] for p in provs))
        incs = _incidents(cfg, idx, leaves, accts, w, dow, bad) if incidents else []
        billing = f"BA-{cfg.seed}-{idx:03d}"
        parts = []
        for c in charges:
            base = c.get("leaf") or dict(prov=c["prov"], acct=accts[c["a"]][1],
                                         svc=PROV[c["prov"]][0][K.index(c["kind"])],
                                         region="global")  # fmt: skip
            leaves.append(dict(base, rid=c["rid"], cost=c["cost"], cat=c["cat"]))
        for lf in leaves:
            cost = lf["cost"].copy()
            for d in sorted(lags[lf["prov"]]):  # assumption 7: fold into the next day
                if np.isfinite(cost[d]):
                    cost[d + 1] = np.nan_to_num(cost[d + 1]) + cost[d]
                    cost[d] = np.nan
            keep = np.flatnonzero(np.isfinite(cost) & (cost != 0))
            parts.append(pd.DataFrame({
                "ChargePeriodStart": dstr[keep], "ProviderName": lf["prov"],
                "SubAccountId": lf["acct"], "ServiceName": lf["svc"], "RegionId": lf["region"],
                "ResourceId": lf["rid"], "EffectiveCost": np.round(cost[keep], 6),
                "ChargeCategory": lf.get("cat", "Usage"), "BillingAccountId": billing,
                "BillingCurrency": "USD"}))  # fmt: skip
        frame = pd.concat(parts, ignore_index=True)[COLUMNS]
        frame = frame.sort_values(["ChargePeriodStart", "SubAccountId", "ServiceName"],
                                  kind="stable", ignore_index=True)  # fmt: skip
        tenants.append(Tenant(idx, frame, incs))
    return tenants
