"""A second, independent labelled generator of daily cloud spend (FOCUS-shaped rows).

Written without reading CostGuard's detector or the first generator (``generator.py``); only its
``Incident`` dataclass is imported, so that ``scoring.score`` reads these labels. The assumptions
below are about how real bills behave, and they differ on purpose from "i.i.d. noise around a
weekday pattern":

1. **Multiplicative noise.** Usage cost is (price x quantity) and quantities vary in proportion
   to their size, so day noise is multiplicative: ``cost = level * exp(e_t)``. A 3 % wobble on a
   2 000 USD database and on a 20 USD one look the same in log space, not in USD.

2. **Autocorrelated days (busy weeks).** Traffic, data volume and experiments come in spells that
   last days, so ``e_t`` is AR(1) in log space (``phi`` per leaf). On top, demand-driven leaves
   of one tenant share a common AR(1) factor (``phi`` = 0.85): a busy week lifts the web fleet,
   its logs and its data transfer together.

3. **Services behave differently** (each leaf gets an *archetype*):

   - ``flat``: VMs, managed databases, caches. Near-constant (log sd 0.5-5 %), no growth. They
     are resized now and then: downsizes (rightsizing, any size) happen unlabelled; upsizes happen
     unlabelled only when they are immaterial (<= ``immaterial_usd`` a day). A material upsize is
     a level shift, which the issue calls an anomaly, so the generator only makes those as
     labelled ``shift`` incidents. "Planned" resizes are therefore not modelled as a separate
     non-anomaly: nothing in the data could tell the detector they were announced.
   - ``fleet``: autoscaled containers / node groups / scale sets. Cost follows weekly demand
     (weekdays high, Saturday and Sunday lower by 5-30 % in production), public holidays, the
     tenant's busy-week factor and the tenant's steady growth.
   - ``storage``: object storage. Grows smoothly (10-120 % a year, a slowly bending curve made by
     an integrated random walk), tiny day noise, occasional lifecycle clean-ups (a drop).
   - ``bursty``: serverless, query engines (Athena / BigQuery / Synapse) and LLM APIs. Log sd
     0.2-0.9 with Student-t innovations (heavy tails, df 2.5-8), clipped at 3.5 sd: real bills
     have heavy but bounded tails, and an unbounded tail would itself produce the spikes that
     have to be labelled.
   - ``batch``: intermittent jobs (Glue / Dataflow / Data Factory ...). No row at all on days
     they do not run (bills have no zero rows). Schedules: fixed weekdays, every N days, random
     days, or a monthly close on days 1-2 and the 15th; about 5 % of runs are skipped.
   - ``transfer``: data transfer and logging. Follows demand like a fleet with more noise.

4. **Dev accounts** (instance schedulers, people at home): weekend factor 0.1-0.5 on everything
   but storage, and deep holiday dips.

5. **Holidays and the end-of-year lull.** Tenants are US or EU. Public holidays (New Year,
   Easter, May Day or Memorial Day, July 4, Labor Day, Thanksgiving, Christmas) and the
   Christmas-to-New-Year lull lower demand-driven spend (production fleets and transfer by
   5-30 %, production bursty spend by 10-50 %, dev spend by 30-80 %); EU tenants also have a
   mild August lull. All of these are dips: the issue lists no decrease as an anomaly.

6. **Month-start charges** (``ChargeCategory`` "Purchase", on day 1): a support fee (ResourceId
   None) that is a share of the provider's previous-month usage with a floor (as AWS/Azure/GCP
   support plans are priced) so it varies month to month; a Marketplace subscription with a
   fixed monthly price; a monthly commitment/reservation charge (fixed, on the covered compute
   service, ResourceId the reservation). Note: in strict FOCUS an amortised commitment purchase
   has EffectiveCost 0; here it stands for the non-amortised monthly payment.

7. **Credits and refunds** (``ChargeCategory`` "Credit", negative): promotional / EDP-style
   credits that take 10-50 % off one service in one sub-account every day for the whole window
   (they neither start nor expire inside it: an expiring credit raises the net bill, which is
   arguably something a user cares about, so it is left out rather than mislabelled); and one-off
   refunds of 1-5 days of a service's usage on a random day, with or without a ResourceId.

8. **Steady growth**: demand-driven leaves grow with the tenant (per config, e.g. 0-60 % a year).

9. **Resource churn and retirement.** Small resources (snapshots, functions, buckets) appear at
   any time at <= ``immaterial_usd`` a day and some vanish; about ``p_retire`` of the leaves are
   decommissioned (their rows stop). Immaterial appearances are not "new resource" incidents;
   disappearances are decreases.

10. **Tenants of very different size and shape**: one or two providers per tenant, with their
    naming (AWS 12-digit accounts and ARNs, Azure subscription GUIDs and lower-case resource
    paths, GCP projects and ``//service.googleapis.com/...`` names), from a few leaves to ~60,
    leaf levels log-normal across three orders of magnitude.

**Incidents** (the five kinds of the issue only), drawn from a separate random stream so that
``generate(cfg, incidents=False)`` gives the same bill without them. They start no earlier than
``warmup_days`` + 7 days after the first day, and one tenant's incidents are spaced by
``gap_days`` after the previous one has ended (or, for kinds that persist, after it has settled),
each on a different leaf with at least 8 weeks of history. The excess is *added* to the leaf:
``excess * profile[d] * n_d`` with ``n_d`` log-normal (sd 0.08, clipped to 0.8-1.25), and its
nominal size is ``max(min_usd, multiple * reference)``, where the reference is what a user sees
on that leaf's chart over the 8 weeks before: the median for steady leaves, the 90th percentile
for bursty and batch leaves (their routine peaks are not news). ``daily_excess_usd`` is the
nominal excess on a full day (the plateau for drift).

- ``spike``: 1-3 days at the full excess.
- ``shift``: full excess from start to the last day (a forgotten cluster, an upsize).
- ``drift``: linear ramp over 7-21 days to the full excess, then holds (log volume creeping up).
- ``new``: a new ResourceId, half the time in a service the sub-account never used, costing the
  excess every day to the end.
- ``weekend_loop``: starts on a Saturday, full excess Saturday and Sunday, and half the time a
  part of Monday until someone kills it.

**Truth** (``IndTenant.truth``, an ``IndTruth``; for the oracle bound ``oracle_ind.py`` only, never
for a detector): per leaf its noise-free expected spend, noise path and parameters, archetype and
a batch job's run size and run days, recorded from the arrays that make the rows as they are
computed. It takes no random draw and changes no arithmetic: every config's rows and incidents
are what they were without it.
"""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator import Incident  # noqa: E402

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
KINDS = ("spike", "shift", "drift", "new", "weekend_loop")
ARCHETYPES = ("flat", "fleet", "storage", "bursty", "batch", "transfer")


@dataclass(frozen=True)
class IndConfig:
    name: str
    seed: int
    tenants: int
    days: int = 300
    start: date = date(2024, 2, 12)
    leaves: tuple[int, int] = (8, 30)
    accounts: tuple[int, int] = (2, 4)
    level_log_mean: float = 3.4  # median leaf ~30 USD/day
    level_log_sigma: float = 1.3
    archetype_weights: dict[str, float] = field(
        default_factory=lambda: {
            "flat": 0.3,
            "fleet": 0.15,
            "storage": 0.15,
            "bursty": 0.15,
            "batch": 0.1,
            "transfer": 0.15,
        }
    )
    flat_sigma: tuple[float, float] = (0.01, 0.05)
    fleet_sigma: tuple[float, float] = (0.04, 0.12)
    transfer_sigma: tuple[float, float] = (0.08, 0.2)
    bursty_sigma: tuple[float, float] = (0.25, 0.6)
    bursty_df: tuple[float, float] = (3.0, 8.0)
    ar_phi: tuple[float, float] = (0.3, 0.7)
    common_sigma: tuple[float, float] = (0.02, 0.06)
    growth_per_year: tuple[float, float] = (0.0, 0.6)
    storage_growth_per_year: tuple[float, float] = (0.1, 1.2)
    p_dev_account: float = 0.4
    p_multi_provider: float = 0.15
    p_support_fee: float = 0.6
    p_marketplace: float = 0.3
    p_commitment: float = 0.3
    p_promo_credit: float = 0.3
    refunds: tuple[int, int] = (0, 3)
    p_retire: float = 0.05
    churn_per_100_days: float = 1.5
    resizes_per_leaf_year: float = 1.0
    immaterial_usd: float = 5.0
    incidents: tuple[int, int] = (2, 4)
    kind_weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 1.0))
    multiple: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "spike": (1.0, 4.0),
            "shift": (0.5, 2.0),
            "drift": (0.6, 2.0),
            "weekend_loop": (2.0, 8.0),
        }
    )
    new_usd: tuple[float, float] = (40.0, 400.0)
    min_usd: tuple[float, float] = (30.0, 120.0)
    warmup_days: int = 63
    gap_days: tuple[int, int] = (21, 35)


def ind1(seed: int = 7) -> IndConfig:
    """Mid-size tenants (8-30 leaves), moderate tails and autocorrelation, one year."""
    return IndConfig("ind1", seed, tenants=30, days=365, start=date(2024, 1, 15))


def ind2(seed: int = 7) -> IndConfig:
    """Small bursty tenants (3-12 leaves, ~12 USD median leaf), heavier tails, more serverless,
    query and LLM spend; incidents of tens of USD a day."""
    return IndConfig(
        "ind2",
        seed,
        tenants=30,
        days=300,
        start=date(2024, 9, 2),
        leaves=(3, 12),
        accounts=(1, 2),
        level_log_mean=2.5,
        level_log_sigma=1.2,
        archetype_weights={
            "flat": 0.2,
            "fleet": 0.1,
            "storage": 0.15,
            "bursty": 0.35,
            "batch": 0.1,
            "transfer": 0.1,
        },
        bursty_sigma=(0.5, 0.9),
        bursty_df=(2.5, 4.0),
        transfer_sigma=(0.15, 0.35),
        ar_phi=(0.2, 0.6),
        common_sigma=(0.03, 0.1),
        growth_per_year=(0.0, 1.0),
        p_dev_account=0.5,
        p_multi_provider=0.05,
        p_support_fee=0.3,
        p_marketplace=0.15,
        p_commitment=0.05,
        churn_per_100_days=1.0,
        incidents=(2, 3),
        multiple={
            "spike": (1.5, 5.0),
            "shift": (0.8, 3.0),
            "drift": (1.0, 3.0),
            "weekend_loop": (3.0, 10.0),
        },
        new_usd=(25.0, 150.0),
        min_usd=(25.0, 60.0),
    )


def ind3(seed: int = 7) -> IndConfig:
    """Large fleets (35-60 leaves, ~150 USD median leaf), flat spend, incidents smaller relative
    to their leaf (25-120 % of it, never under 40-100 USD a day)."""
    return IndConfig(
        "ind3",
        seed,
        tenants=25,
        days=240,
        start=date(2024, 6, 3),
        leaves=(35, 60),
        accounts=(4, 8),
        level_log_mean=5.0,
        level_log_sigma=1.0,
        archetype_weights={
            "flat": 0.4,
            "fleet": 0.2,
            "storage": 0.15,
            "bursty": 0.07,
            "batch": 0.06,
            "transfer": 0.12,
        },
        flat_sigma=(0.005, 0.02),
        fleet_sigma=(0.02, 0.06),
        transfer_sigma=(0.04, 0.1),
        bursty_sigma=(0.2, 0.4),
        bursty_df=(4.0, 8.0),
        ar_phi=(0.4, 0.8),
        common_sigma=(0.01, 0.03),
        growth_per_year=(0.0, 0.4),
        p_dev_account=0.3,
        p_multi_provider=0.3,
        p_support_fee=0.9,
        p_marketplace=0.5,
        p_commitment=0.6,
        p_promo_credit=0.4,
        refunds=(1, 4),
        churn_per_100_days=4.0,
        incidents=(3, 4),
        multiple={
            "spike": (0.4, 1.2),
            "shift": (0.25, 0.8),
            "drift": (0.3, 1.0),
            "weekend_loop": (0.8, 3.0),
        },
        new_usd=(80.0, 800.0),
        min_usd=(40.0, 100.0),
    )


CONFIGS = {"ind1": ind1, "ind2": ind2, "ind3": ind3}


@dataclass
class IndTruth:
    """What made a tenant's spend, for the oracle bound (``oracle_ind.py``), never for a detector.

    One row of ``meta`` per leaf that is not a credit (usage leaves in the generator's order, the
    incidents' new resources, then the month-start Purchase leaves), keyed as ``_frame`` writes its
    rows (ProviderName, SubAccountId, ServiceName, RegionId, ResourceId; ChargeCategory), with its
    ``archetype`` ("new" for an incident's new resource, "fee" for a Purchase leaf), ``born`` and
    ``dies`` (day indices; -1: never retired), ``immaterial`` (churn) and its noise parameters:
    ``sigma`` (marginal log sd), ``phi`` (AR(1) coefficient), ``df`` (Student-t innovations'
    degrees of freedom; inf: normal), ``clip`` (innovations clipped at this many sd; inf: none)
    and ``load`` (weight of the tenant's busy-week factor ``common``, a log-space AR(1) path).
    Arrays are leaves x days:

    - ``expected``: noise-free spend before any incident, USD: the level times weekly pattern,
      holidays, growth, resizes, storage's curve and clean-ups, and ``exp(load * common)`` (the
      realised busy-week path); 0 before ``born``, from ``dies`` on, on a batch job's idle days
      and for a new resource. For a Purchase leaf, its amount as billed.
    - ``noise``: the log-space noise that multiplied it (``expected * exp(noise)`` is the spend
      before incidents and rounding); NaN for new resources and Purchase leaves.
    - ``spend``: the final spend with the incidents, rounded as written to the rows.
    - ``run_size``: a batch job's run size on every day, run or not (NaN for other leaves), and
      ``schedule`` its run days (False for other leaves).
    """

    meta: pd.DataFrame
    expected: np.ndarray
    noise: np.ndarray
    spend: np.ndarray
    run_size: np.ndarray
    schedule: np.ndarray
    common: np.ndarray


@dataclass
class IndTenant:
    """One tenant: ``index`` and ``frame`` are what ``run.costguard`` reads; ``excess`` holds,
    per incident (same order as ``incidents``), the USD added to its leaf on each day; ``truth``
    (bench only) what made the spend."""

    index: int
    frame: pd.DataFrame
    incidents: list[Incident]
    excess: list[np.ndarray]
    truth: IndTruth | None = None


# ---------------------------------------------------------------------------------------------
# Names: per provider, per archetype, (ServiceName, resource type) pairs.

SERVICES = {
    "AWS": {
        "flat": [
            ("Amazon Elastic Compute Cloud", "ec2"),
            ("Amazon Relational Database Service", "rds"),
            ("Amazon ElastiCache", "elasticache"),
            ("Amazon OpenSearch Service", "es"),
        ],
        "fleet": [
            ("Amazon Elastic Container Service", "ecs"),
            ("Amazon Elastic Compute Cloud", "asg"),
        ],
        "storage": [("Amazon Simple Storage Service", "s3")],
        "bursty": [
            ("AWS Lambda", "lambda"),
            ("Amazon Athena", "athena"),
            ("Amazon Bedrock", "bedrock"),
            ("Amazon DynamoDB", "dynamodb"),
        ],
        "batch": [("AWS Glue", "glue"), ("Amazon EMR", "emr"), ("AWS Batch", "batch")],
        "transfer": [("AWS Data Transfer", "dt"), ("AmazonCloudWatch", "logs")],
        "new": [
            ("Amazon SageMaker", "sagemaker"),
            ("Amazon Redshift", "redshift"),
            ("Amazon Kinesis", "kinesis"),
        ],
    },
    "Microsoft": {
        "flat": [
            ("Virtual Machines", "virtualmachines"),
            ("Azure Database for PostgreSQL", "flexibleservers"),
            ("Azure Cache for Redis", "redis"),
            ("SQL Database", "databases"),
        ],
        "fleet": [
            ("Virtual Machine Scale Sets", "virtualmachinescalesets"),
            ("Azure App Service", "sites"),
        ],
        "storage": [("Storage", "storageaccounts")],
        "bursty": [
            ("Azure Functions", "functions"),
            ("Azure Synapse Analytics", "workspaces"),
            ("Azure OpenAI Service", "accounts"),
            ("Azure Cosmos DB", "databaseaccounts"),
        ],
        "batch": [("Azure Data Factory v2", "factories"), ("Azure Databricks", "databricks")],
        "transfer": [("Bandwidth", "bandwidth"), ("Log Analytics", "loganalytics")],
        "new": [
            ("Azure Machine Learning", "mlworkspaces"),
            ("Azure Kubernetes Service", "managedclusters"),
            ("Azure AI Search", "searchservices"),
        ],
    },
    "Google": {
        "flat": [
            ("Compute Engine", "instances"),
            ("Cloud SQL", "sql"),
            ("Memorystore for Redis", "redis"),
        ],
        "fleet": [("Kubernetes Engine", "nodepools"), ("Cloud Run", "services")],
        "storage": [("Cloud Storage", "buckets")],
        "bursty": [
            ("BigQuery", "datasets"),
            ("Vertex AI", "endpoints"),
            ("Cloud Functions", "functions"),
        ],
        "batch": [("Dataflow", "jobs"), ("Dataproc", "clusters")],
        "transfer": [("Networking", "egress"), ("Cloud Logging", "logs")],
        "new": [
            ("Cloud Spanner", "spanner"),
            ("Vertex AI Workbench", "notebooks"),
            ("Filestore", "filestore"),
        ],
    },
}
REGIONS = {
    "AWS": {"us": ["us-east-1", "us-west-2", "us-east-2"], "eu": ["eu-west-1", "eu-central-1"]},
    "Microsoft": {"us": ["eastus", "eastus2", "westus2"], "eu": ["westeurope", "northeurope"]},
    "Google": {"us": ["us-central1", "us-east4"], "eu": ["europe-west1", "europe-west4"]},
}
SUPPORT = {"AWS": "AWS Support (Business)", "Microsoft": "Support", "Google": "Support"}
MARKETPLACE = [
    "Datadog Pro (AWS Marketplace)",
    "Snowflake Capacity (Marketplace)",
    "MongoDB Atlas (Marketplace)",
    "Confluent Cloud (Marketplace)",
]
WORDS = [
    "api",
    "web",
    "orders",
    "billing",
    "search",
    "etl",
    "ml",
    "auth",
    "reports",
    "events",
    "media",
    "ingest",
    "catalog",
    "users",
    "ledger",
    "notify",
]
SLUGS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "soylent"]


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("0123456789abcdef"), size=n))


def _resource_id(
    rng: np.random.Generator, provider: str, rtype: str, account: str, region: str, name: str
) -> str:
    if provider == "AWS":
        if rtype == "ec2":
            return f"i-{_hex(rng, 17)}"
        if rtype == "asg":
            return (
                f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:{_hex(rng, 8)}"
                f":autoScalingGroupName/{name}"
            )
        if rtype == "s3":
            return f"{name}-{_hex(rng, 6)}"
        if rtype == "dt":
            return f"arn:aws:ec2:{region}:{account}:natgateway/nat-{_hex(rng, 17)}"
        return f"arn:aws:{rtype}:{region}:{account}:{rtype}/{name}-{_hex(rng, 4)}"
    if provider == "Microsoft":
        return (
            f"/subscriptions/{account}/resourcegroups/rg-{name.split('-')[0]}/providers/"
            f"microsoft.{rtype}/{rtype}/{name}-{_hex(rng, 4)}"
        )
    return (
        f"//{rtype}.googleapis.com/projects/{account}/locations/{region}/{rtype}/"
        f"{name}-{_hex(rng, 4)}"
    )


def _account_id(rng: np.random.Generator, provider: str, slug: str, tenant: int, k: int, env):
    if provider == "AWS":  # 12 digits, unique per (tenant, k)
        return f"{int(rng.integers(10**7, 10**8))}{tenant % 100:02d}{k:02d}"
    if provider == "Microsoft":
        return f"{_hex(rng, 8)}-{_hex(rng, 4)}-4{_hex(rng, 3)}-{tenant:04d}-{_hex(rng, 10)}{k:02d}"
    return f"{slug}-{env}-{tenant}{k}-{int(rng.integers(1000, 9999))}"


# ---------------------------------------------------------------------------------------------
# Calendar


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th ``weekday`` (Mon=0) of the month; n=-1 for the last."""
    if n > 0:
        d = date(year, month, 1)
        d += timedelta(days=(weekday - d.weekday()) % 7)
        return d + timedelta(weeks=n - 1)
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def holiday_intensity(days: list[date], region: str) -> np.ndarray:
    """0 on ordinary days, up to 1 on public holidays; the Christmas lull in between."""
    out = np.zeros(len(days))
    years = sorted({d.year for d in days})
    hol: dict[date, float] = {}
    for y in years:
        hol[date(y, 1, 1)] = 1.0
        hol[date(y, 12, 24)] = 0.9
        hol[date(y, 12, 25)] = 1.0
        hol[date(y, 12, 31)] = 0.8
        for dd in range(20, 24):
            hol[date(y, 12, dd)] = 0.3
        hol[date(y + 1, 1, 2)] = 0.5
        if region == "eu":
            e = _easter(y)
            hol[e - timedelta(days=2)] = 1.0
            hol[e + timedelta(days=1)] = 1.0
            hol[date(y, 5, 1)] = 1.0
            hol[date(y, 12, 26)] = 1.0
            for dd in range(27, 31):
                hol[date(y, 12, dd)] = 0.6
            for dd in range(1, 26):  # August lull
                hol.setdefault(date(y, 8, dd), 0.2)
        else:
            hol[_nth_weekday(y, 1, 0, 3)] = 0.5  # MLK day
            hol[_nth_weekday(y, 5, 0, -1)] = 1.0  # Memorial Day
            hol[date(y, 7, 4)] = 1.0
            hol[_nth_weekday(y, 9, 0, 1)] = 1.0  # Labor Day
            tg = _nth_weekday(y, 11, 3, 4)
            hol[tg] = 1.0
            hol[tg + timedelta(days=1)] = 0.8
            for dd in range(26, 31):
                hol[date(y, 12, dd)] = 0.6
    for i, d in enumerate(days):
        out[i] = hol.get(d, 0.0)
    return out


# ---------------------------------------------------------------------------------------------
# Series


def _ar1(rng, n: int, phi: float, sigma: float, df: float | None = None) -> np.ndarray:
    """Stationary AR(1) with marginal sd ``sigma``; standardised t(df) innovations clipped at
    3.5 when ``df`` is given, else normal."""
    if df is None:
        z = rng.standard_normal(n)
    else:
        z = rng.standard_t(df, n) / np.sqrt(df / (df - 2.0))
        z = np.clip(z, -3.5, 3.5)
    e = np.empty(n)
    e[0] = sigma * z[0]
    k = sigma * np.sqrt(1.0 - phi * phi)
    for t in range(1, n):
        e[t] = phi * e[t - 1] + k * z[t]
    return e


@dataclass
class _Leaf:
    account: str
    provider: str
    service: str
    region: str
    resource: str | None
    archetype: str
    category: str  # Usage / Purchase / Credit
    cost: np.ndarray
    level: float = 0.0
    born: int = 0
    dies: int | None = None
    immaterial: bool = False  # churn leaf
    incident_ok: bool = True
    truth: _LeafTruth | None = None  # what made ``cost`` (oracle_ind.py only)


@dataclass
class _LeafTruth:
    """How a usage leaf's spend was made, recorded as it is computed (no draw of its own):
    ``cost = expected * exp(noise)`` before incidents, born/dies and rounding; ``noise`` in log
    space, AR(1) with ``phi`` and marginal sd ``sigma`` (Student-t innovations with ``df``
    clipped at ``clip`` standardised units for bursty leaves, normal otherwise); ``load`` the
    leaf's weight of the tenant's busy-week factor (inside ``expected``); a batch job's run
    size on every day and its ``run`` days (``expected`` is ``run * run_size``)."""

    expected: np.ndarray
    noise: np.ndarray
    sigma: float
    phi: float
    df: float = np.inf
    clip: float = np.inf
    load: float = 0.0
    run: np.ndarray | None = None
    run_size: np.ndarray | None = None


def _u(rng, lohi) -> float:
    return float(rng.uniform(*lohi))


def _build_base(cfg: IndConfig, tenant: int, rng: np.random.Generator):
    """The tenant's bill without incidents: usage leaves, plus parameters of the fees and
    credits (computed later from the final usage)."""
    n = cfg.days
    days = [cfg.start + timedelta(days=i) for i in range(n)]
    dow = np.array([d.weekday() for d in days])
    t = np.arange(n)
    region_group = "eu" if rng.random() < 0.45 else "us"
    hol = holiday_intensity(days, region_group)
    slug = SLUGS[tenant % len(SLUGS)]
    providers = [str(rng.choice(["AWS", "Microsoft", "Google"], p=[0.5, 0.3, 0.2]))]
    if rng.random() < cfg.p_multi_provider:
        providers.append(
            str(rng.choice([p for p in ("AWS", "Microsoft", "Google") if p not in providers]))
        )
    n_acc = int(rng.integers(cfg.accounts[0], cfg.accounts[1] + 1))
    accounts = []  # (provider, id, env)
    for k in range(n_acc):
        prov = (
            providers[0] if (k == 0 or len(providers) == 1 or rng.random() < 0.7) else providers[1]
        )
        env = "prod" if k == 0 else ("dev" if rng.random() < cfg.p_dev_account else "prod")
        accounts.append((prov, _account_id(rng, prov, slug, tenant, k, env), env))
    if len(providers) > 1 and not any(a[0] == providers[1] for a in accounts):
        prov = providers[1]
        accounts.append((prov, _account_id(rng, prov, slug, tenant, n_acc, "prod"), "prod"))
    growth = _u(rng, cfg.growth_per_year)
    common = _ar1(rng, n, 0.85, _u(rng, cfg.common_sigma))
    # weekly demand of production and dev
    prod_week = np.ones(7)
    prod_week[0] = rng.uniform(1.0, 1.06)
    prod_week[4] = rng.uniform(0.94, 1.0)
    prod_week[5] = rng.uniform(0.7, 0.95)
    prod_week[6] = rng.uniform(0.7, 0.95)
    dev_weekend = rng.uniform(0.1, 0.5)
    dev_week = np.ones(7)
    dev_week[5:] = dev_weekend

    names = list(WORDS)
    rng.shuffle(names)
    arche = list(cfg.archetype_weights)
    w = np.array([cfg.archetype_weights[a] for a in arche], float)
    n_leaves = int(rng.integers(cfg.leaves[0], cfg.leaves[1] + 1))
    leaves: list[_Leaf] = []
    for j in range(n_leaves):
        prov, acc, env = accounts[0 if j == 0 else int(rng.integers(len(accounts)))]
        a = str(rng.choice(arche, p=w / w.sum()))
        svc, rtype = SERVICES[prov][a][int(rng.integers(len(SERVICES[prov][a])))]
        region = (
            str(rng.choice(REGIONS[prov][region_group]))
            if rng.random() < 0.85
            else str(rng.choice(REGIONS[prov]["us" if region_group == "eu" else "eu"]))
        )
        name = f"{names[j % len(names)]}-{env}-{j}"
        res = _resource_id(rng, prov, rtype, acc, region, name)
        level = float(np.exp(rng.normal(cfg.level_log_mean, cfg.level_log_sigma)))
        phi = _u(rng, cfg.ar_phi)
        dev = env == "dev"
        week = dev_week if dev else prod_week
        g = growth * rng.uniform(0.5, 1.5)
        trend = g * t / 365.0
        load = rng.uniform(0.5, 1.0)
        if a == "flat":
            base = np.ones(n)
            sigma = _u(rng, cfg.flat_sigma)
            e = _ar1(rng, n, phi, sigma)
            # resizes: downsizes any size, upsizes only when immaterial
            for _ in range(rng.poisson(cfg.resizes_per_leaf_year * n / 365.0)):
                d0 = int(rng.integers(1, n))
                f = float(rng.uniform(0.5, 0.9) if rng.random() < 0.5 else rng.uniform(1.1, 2.0))
                cur = level * base[d0]
                if f > 1 and cur * (f - 1) > cfg.immaterial_usd:
                    continue
                base[d0:] *= f
            seas = week[dow] if dev else np.ones(n)
            cost = level * base * seas * np.exp(e)
            truth = _LeafTruth(level * base * seas, e, sigma, phi)
        elif a in ("fleet", "transfer"):
            sig = cfg.fleet_sigma if a == "fleet" else cfg.transfer_sigma
            sigma = _u(rng, sig)
            e = _ar1(rng, n, phi, sigma)
            depth = rng.uniform(0.5, 0.8) if dev else rng.uniform(0.05, 0.3)
            cost = level * np.exp(trend + e + load * common) * week[dow] * (1 - depth * hol)
            mean = level * np.exp(trend + load * common) * week[dow] * (1 - depth * hol)
            truth = _LeafTruth(mean, e, sigma, phi, load=load)
        elif a == "storage":
            gs = _u(rng, cfg.storage_growth_per_year)
            bend = np.cumsum(np.cumsum(rng.normal(0, 2e-5, n)))
            sigma = rng.uniform(0.003, 0.015)
            e = _ar1(rng, n, 0.5, sigma)
            lvl = gs * t / 365.0 + bend
            for _ in range(rng.poisson(0.3 * n / 365.0)):  # lifecycle clean-up
                d0 = int(rng.integers(1, n))
                lvl[d0:] += np.log(rng.uniform(0.7, 0.9))
            cost = level * np.exp(lvl + e)
            truth = _LeafTruth(level * np.exp(lvl), e, sigma, 0.5)
        elif a == "bursty":
            sigma, df = _u(rng, cfg.bursty_sigma), _u(rng, cfg.bursty_df)
            e = _ar1(rng, n, phi, sigma, df=df)
            bw = week.copy()
            if dev:
                bw[5:] = rng.uniform(0.05, 0.4)
            depth = rng.uniform(0.3, 0.8) if dev else rng.uniform(0.1, 0.5)
            cost = level * np.exp(trend + e + load * common) * bw[dow] * (1 - depth * hol)
            mean = level * np.exp(trend + load * common) * bw[dow] * (1 - depth * hol)
            truth = _LeafTruth(mean, e, sigma, phi, df=df, clip=3.5, load=load)
        else:  # batch
            kind = int(rng.integers(4))
            if kind == 0:
                wd = rng.choice(7, size=int(rng.integers(1, 4)), replace=False)
                run = np.isin(dow, wd)
            elif kind == 1:
                every = int(rng.integers(2, 8))
                run = (t + int(rng.integers(every))) % every == 0
            elif kind == 2:
                run = rng.random(n) < rng.uniform(0.2, 0.5)
            else:
                dom = np.array([d.day for d in days])
                run = np.isin(dom, [1, 2, 15])
            run &= rng.random(n) > 0.05
            size = level * rng.uniform(1.5, 4.0)
            noise = rng.normal(0, 0.25, n)
            cost = run * size * np.exp(trend + noise + load * common)
            run_size = size * np.exp(trend + load * common)
            truth = _LeafTruth(run * run_size, noise, 0.25, 0.0, load=load, run=run)
            truth.run_size = run_size  # the size of a run on every day, run or not
        leaf = _Leaf(acc, prov, svc, region, res, a, "Usage", cost, level=level, truth=truth)
        if rng.random() < 0.1:  # created during the history
            leaf.born = int(rng.integers(1, max(2, cfg.warmup_days // 2)))
        if rng.random() < cfg.p_retire:
            leaf.dies = int(rng.integers(cfg.warmup_days // 2, n))
        leaves.append(leaf)
    # immaterial churn: small resources that come and go
    for _ in range(rng.poisson(cfg.churn_per_100_days * n / 100.0)):
        prov, acc, env = accounts[int(rng.integers(len(accounts)))]
        a = str(rng.choice(["flat", "bursty", "storage"]))
        svc, rtype = SERVICES[prov][a][int(rng.integers(len(SERVICES[prov][a])))]
        region = str(rng.choice(REGIONS[prov][region_group]))
        name = f"{names[int(rng.integers(len(names)))]}-tmp-{int(rng.integers(1000))}"
        res = _resource_id(rng, prov, rtype, acc, region, name)
        lvl = rng.uniform(0.2, cfg.immaterial_usd / 1.5)
        noise = rng.normal(0, 0.1, n)
        cost = lvl * np.exp(noise)
        born = int(rng.integers(1, n - 1))
        dies = born + int(rng.integers(5, n)) if rng.random() < 0.5 else None
        truth = _LeafTruth(np.full(n, lvl), noise, 0.1, 0.0)
        leaves.append(
            _Leaf(
                acc, prov, svc, region, res, a, "Usage", cost, lvl, born, dies, True, False, truth
            )
        )
    for leaf in leaves:
        leaf.cost[: leaf.born] = 0.0
        if leaf.dies is not None:
            leaf.cost[leaf.dies :] = 0.0
            leaf.incident_ok = False
        if leaf.immaterial:
            leaf.incident_ok = False

    fees = {
        "support": [
            (p, float(rng.uniform(0.03, 0.1)), float(rng.choice([29.0, 100.0, 150.0])))
            for p in providers
            if rng.random() < cfg.p_support_fee
        ],
        "marketplace": [],
        "commitment": [],
    }
    total_level = sum(lf.level for lf in leaves if not lf.immaterial)
    if rng.random() < cfg.p_marketplace:
        prov, acc, _ = accounts[0]
        fees["marketplace"].append(
            (acc, prov, str(rng.choice(MARKETPLACE)), round(total_level * rng.uniform(1, 6), 2))
        )
    compute = [lf for lf in leaves if lf.archetype in ("flat", "fleet") and not lf.immaterial]
    if compute and rng.random() < cfg.p_commitment:
        lf = compute[int(rng.integers(len(compute)))]
        amount = round(lf.level * 30 * rng.uniform(0.2, 0.5), 2)
        rid = f"reservation-{_hex(rng, 12)}"
        fees["commitment"].append((lf.account, lf.provider, lf.service, lf.region, rid, amount))
    svc_keys = sorted({(lf.account, lf.provider, lf.service) for lf in leaves if not lf.immaterial})
    credits = {"promo": [], "refund": []}
    if rng.random() < cfg.p_promo_credit:
        k = svc_keys[int(rng.integers(len(svc_keys)))]
        credits["promo"].append((k, float(rng.uniform(0.1, 0.5))))
    for _ in range(int(rng.integers(cfg.refunds[0], cfg.refunds[1] + 1))):
        k = svc_keys[int(rng.integers(len(svc_keys)))]
        day = int(rng.integers(14, n))
        mult = float(rng.uniform(1, 5))
        with_res = rng.random() < 0.5
        credits["refund"].append((k, day, mult, with_res))
    ctx = {
        "days": days,
        "dow": dow,
        "accounts": accounts,
        "providers": providers,
        "region_group": region_group,
        "names": names,
        "fees": fees,
        "credits": credits,
        "billing": {p: f"billing-{slug}-{tenant}-{p.lower()}" for p in providers},
        "common": common,  # the busy-week factor's path, for the truth only
    }
    return leaves, ctx


def _reference(leaf: _Leaf, s: int) -> float:
    win = leaf.cost[max(0, s - 56) : s]
    if leaf.archetype in ("bursty", "batch"):
        pos = win[win > 0]
        return float(np.quantile(pos, 0.9)) if len(pos) else leaf.level
    return float(np.median(win))


def _inject(cfg: IndConfig, tenant: int, leaves: list[_Leaf], ctx, rng):
    """Labelled incidents, drawn only from ``rng`` (the incident stream)."""
    n = cfg.days
    kinds = list(cfg.kind_weights)
    kw = np.array([cfg.kind_weights[k] for k in kinds], float)
    out: list[tuple[Incident, np.ndarray]] = []
    n_inc = int(rng.integers(cfg.incidents[0], cfg.incidents[1] + 1))
    s = cfg.warmup_days + 7 + int(rng.integers(0, 14))
    # gaps stretch so that the incidents spread over the whole window, not only its first half
    gap_hi = max(cfg.gap_days[1], (n - 28 - s) // n_inc)
    used: set[int] = set()
    days = ctx["days"]
    while len(out) < n_inc:
        kind = str(rng.choice(kinds, p=kw / kw.sum()))
        if s > n - 28:
            break
        if kind == "weekend_loop":
            s += (5 - days[s].weekday()) % 7
        excess_days = np.zeros(n)
        jitter = np.clip(np.exp(rng.normal(0, 0.08, n)), 0.8, 1.25)
        if kind == "new":
            prov, acc, env = ctx["accounts"][int(rng.integers(len(ctx["accounts"])))]
            have = {lf.service for lf in leaves if lf.account == acc}
            fresh = [x for x in SERVICES[prov]["new"] if x[0] not in have]
            if fresh and rng.random() < 0.5:
                svc, rtype = fresh[int(rng.integers(len(fresh)))]
            else:
                a = str(rng.choice(["flat", "fleet", "bursty"]))
                svc, rtype = SERVICES[prov][a][int(rng.integers(len(SERVICES[prov][a])))]
            region = str(rng.choice(REGIONS[prov][ctx["region_group"]]))
            name = f"{ctx['names'][int(rng.integers(len(ctx['names'])))]}-{env}-new{len(out)}"
            res = _resource_id(rng, prov, rtype, acc, region, name)
            excess = float(np.exp(rng.uniform(*np.log(cfg.new_usd))))
            excess = max(excess, _u(rng, cfg.min_usd))
            excess_days[s:] = excess * jitter[s:]
            leaf = _Leaf(acc, prov, svc, region, res, "new", "Usage", excess_days.copy())
            leaf.incident_ok = False
            leaves.append(leaf)
            end, settle = n - 1, s
        else:
            ok = {
                "spike": ARCHETYPES,
                "shift": ("flat", "fleet", "storage", "transfer", "bursty"),
                "drift": ("flat", "fleet", "storage", "transfer", "bursty"),
                "weekend_loop": ("bursty", "batch", "fleet"),
            }[kind]
            cand = [
                i
                for i, lf in enumerate(leaves)
                if lf.incident_ok and i not in used and lf.archetype in ok and lf.born <= s - 56
            ]
            if not cand:
                cand = [
                    i
                    for i, lf in enumerate(leaves)
                    if lf.incident_ok and i not in used and lf.born <= s - 56
                ]
            if not cand:
                break
            i = cand[int(rng.integers(len(cand)))]
            used.add(i)
            leaf = leaves[i]
            ref = _reference(leaf, s)
            excess = max(_u(rng, cfg.min_usd), _u(rng, cfg.multiple[kind]) * ref)
            if kind == "spike":
                length = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
                excess_days[s : s + length] = excess
                end = settle = s + length - 1
            elif kind == "shift":
                excess_days[s:] = excess
                end, settle = n - 1, s
            elif kind == "drift":
                ramp = int(rng.integers(7, 22))
                prof = np.minimum(1.0, (np.arange(n - s) + 1) / ramp)
                excess_days[s:] = excess * prof
                end, settle = n - 1, s + ramp
            else:  # weekend_loop: Saturday, Sunday, maybe part of Monday
                excess_days[s : s + 2] = excess
                end = s + 1
                if rng.random() < 0.5 and s + 2 < n:
                    excess_days[s + 2] = excess * rng.uniform(0.3, 0.7)
                    end = s + 2
                settle = end
            excess_days *= jitter
            leaf.cost = leaf.cost + excess_days
        inc = Incident(
            tenant=tenant,
            kind=kind,
            start=days[s],
            end=days[end],
            SubAccountId=leaf.account,
            ServiceName=leaf.service,
            ResourceId=leaf.resource,
            daily_excess_usd=round(excess, 2),
        )
        out.append((inc, excess_days))
        # the next incident starts a gap after this one ended (temporary kinds) or settled
        s = settle + int(rng.integers(cfg.gap_days[0], gap_hi + 1))
    return out


def _charges(cfg: IndConfig, leaves: list[_Leaf], ctx) -> list[_Leaf]:
    """Month-start fees and credits, from the final usage."""
    n = cfg.days
    days = ctx["days"]
    first = np.array([d.day == 1 for d in days])
    month = np.array([d.year * 12 + d.month for d in days])
    extra: list[_Leaf] = []
    acc_of = {p: next(a for a in ctx["accounts"] if a[0] == p) for p in ctx["providers"]}
    for prov, rate, floor in ctx["fees"]["support"]:
        usage = sum(lf.cost for lf in leaves if lf.provider == prov)
        cost = np.zeros(n)
        for d in np.flatnonzero(first):
            prev = usage[month == month[d] - 1]
            monthly = prev.sum() if len(prev) >= 28 else usage[:14].mean() * 30
            cost[d] = max(floor, rate * monthly)
        acc = acc_of[prov]
        extra.append(_Leaf(acc[1], prov, SUPPORT[prov], "global", None, "fee", "Purchase", cost))
    for acc, prov, name, amount in ctx["fees"]["marketplace"]:
        extra.append(_Leaf(acc, prov, name, "global", None, "fee", "Purchase", first * amount))
    for acc, prov, svc, region, rid, amount in ctx["fees"]["commitment"]:
        extra.append(_Leaf(acc, prov, svc, region, rid, "fee", "Purchase", first * amount))
    by_svc: dict[tuple, np.ndarray] = {}
    for lf in leaves:
        k = (lf.account, lf.provider, lf.service)
        by_svc[k] = by_svc.get(k, 0) + lf.cost
    regions = {(lf.account, lf.provider, lf.service): lf.region for lf in leaves}
    for k, rate in ctx["credits"]["promo"]:
        acc, prov, svc = k
        extra.append(_Leaf(acc, prov, svc, regions[k], None, "credit", "Credit", -rate * by_svc[k]))
    for k, day, mult, with_res in ctx["credits"]["refund"]:
        acc, prov, svc = k
        src = [lf for lf in leaves if (lf.account, lf.provider, lf.service) == k]
        lf = src[0]
        base = by_svc[k][max(0, day - 28) : day]
        amount = mult * float(np.median(base[base > 0])) if (base > 0).any() else 10.0
        cost = np.zeros(n)
        cost[day] = -amount
        res = lf.resource if with_res else None
        extra.append(_Leaf(acc, prov, svc, lf.region, res, "credit", "Credit", cost))
    return extra


def _frame(leaves: list[_Leaf], ctx) -> pd.DataFrame:
    day_str = np.array([d.isoformat() for d in ctx["days"]], dtype=object)
    parts = {c: [] for c in COLUMNS}
    for lf in leaves:
        cost = np.round(lf.cost, 6)
        idx = np.flatnonzero(cost != 0)
        m = len(idx)
        if not m:
            continue
        parts["ChargePeriodStart"].append(day_str[idx])
        parts["EffectiveCost"].append(cost[idx])
        for col, val in (
            ("ProviderName", lf.provider),
            ("SubAccountId", lf.account),
            ("ServiceName", lf.service),
            ("RegionId", lf.region),
            ("ResourceId", lf.resource),
            ("ChargeCategory", lf.category),
            ("BillingAccountId", ctx["billing"][lf.provider]),
            ("BillingCurrency", "USD"),
        ):
            arr = np.empty(m, dtype=object)
            arr[:] = val
            parts[col].append(arr)
    data = {c: np.concatenate(parts[c]) for c in COLUMNS}
    data["EffectiveCost"] = data["EffectiveCost"].astype(float)
    frame = pd.DataFrame(data, columns=COLUMNS)
    return frame.sort_values("ChargePeriodStart", kind="stable").reset_index(drop=True)


def _truth(leaves: list[_Leaf], ctx) -> IndTruth:
    """The tenant's ``IndTruth`` from what its leaves recorded (no draw, nothing changed)."""
    n = len(ctx["days"])
    meta, expected, noise, spend, run_size, schedule = [], [], [], [], [], []
    for lf in leaves:
        if lf.category == "Credit":
            continue
        lt = lf.truth
        if lt is not None:
            mean = lt.expected.copy()
            mean[: lf.born] = 0.0
            if lf.dies is not None:
                mean[lf.dies :] = 0.0
            params = (lt.sigma, lt.phi, lt.df, lt.clip, lt.load)
            expected.append(mean)
            noise.append(lt.noise)
            run_size.append(lt.run_size if lt.run_size is not None else np.full(n, np.nan))
            schedule.append(lt.run if lt.run is not None else np.zeros(n, bool))
        else:  # a new resource (nothing expected) or a Purchase (its amount is expected)
            params = (np.nan, np.nan, np.nan, np.nan, 0.0)
            expected.append(lf.cost.copy() if lf.category == "Purchase" else np.zeros(n))
            noise.append(np.full(n, np.nan))
            run_size.append(np.full(n, np.nan))
            schedule.append(np.zeros(n, bool))
        spend.append(np.round(lf.cost, 6))
        meta.append(
            (lf.provider, lf.account, lf.service, lf.region, lf.resource, lf.category)
            + (lf.archetype, lf.born, -1 if lf.dies is None else lf.dies, lf.immaterial)
            + params
        )
    columns = ["ProviderName", "SubAccountId", "ServiceName", "RegionId", "ResourceId"]
    columns += ["ChargeCategory", "archetype", "born", "dies", "immaterial"]
    columns += ["sigma", "phi", "df", "clip", "load"]
    return IndTruth(
        pd.DataFrame(meta, columns=columns),
        np.vstack(expected),
        np.vstack(noise),
        np.vstack(spend),
        np.vstack(run_size),
        np.vstack(schedule),
        ctx["common"],
    )


def generate(cfg: IndConfig, incidents: bool = True) -> list[IndTenant]:
    """The config's tenants; ``incidents=False`` gives the same bills without the incidents."""
    root = np.random.SeedSequence([cfg.seed, zlib.crc32(cfg.name.encode())])
    out = []
    for tenant, ss in enumerate(root.spawn(cfg.tenants)):
        base_ss, inc_ss = ss.spawn(2)
        leaves, ctx = _build_base(cfg, tenant, np.random.default_rng(base_ss))
        injected = (
            _inject(cfg, tenant, leaves, ctx, np.random.default_rng(inc_ss)) if incidents else []
        )
        extra = _charges(cfg, leaves, ctx)
        frame = _frame(leaves + extra, ctx)
        out.append(
            IndTenant(
                tenant,
                frame,
                [i for i, _ in injected],
                [e for _, e in injected],
                _truth(leaves + extra, ctx),
            )
        )
    return out
