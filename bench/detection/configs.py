"""The benchmark configurations (dev2 .. dev9: development only, not in run.py).

``main`` is the one the detector was developed against. ``holdout`` differs in seed, tenant and
leaf counts, noise level and tails, weekend depth, batch-job share, incident sizes, start date,
length and incident mix; it was written before the detector's last change and never tuned on:
its results are reported as they come. ``holdout2`` was added in round 2 before any round-2
detector change (see bench/README.md for what was looked at). ``holdout3`` was added in round 3
before any round-3 detector change; its summary line is read only before and after that round.
``holdout4`` likewise for round 4 (it uses the round-4 generator features: weekday-dependent
batch sizes, month-end processing, dominant leaves); ``holdout5`` for round 5 and ``holdout6``
for session 3 likewise (dev5 is round 5's development config).
"""

from __future__ import annotations

from datetime import date

from generator import GenConfig

#: The development configs (studied freely) and the holdouts (only their summary lines are
#: read, in the run that reports them); ``run.py`` scores ``main`` and the holdouts.
STUDY = ("main", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev8", "dev9")
HOLDOUTS = tuple(f"holdout{n}" for n in ("", *range(2, 28)))


def main(seed: int, quick: bool) -> GenConfig:
    return GenConfig(name="main", seed=seed, tenants=12 if quick else 40)


def holdout(seed: int, quick: bool) -> GenConfig:
    return GenConfig(
        name="holdout",
        seed=seed + 1_000_003,
        tenants=10 if quick else 30,
        days=270,
        start=date(2023, 3, 17),
        leaves=(6, 30),
        accounts=(2, 6),
        leaf_log_mean=4.2,
        leaf_log_sigma=1.4,
        cv=(0.05, 0.18),
        t_df=4.0,
        dev_weekend=(0.1, 0.5),
        growth_per_year=(-0.2, 1.2),
        p_fee_tenant=0.8,
        fee_multiple=(3.0, 40.0),
        p_batch_leaf=0.12,
        batch_p_day=(0.1, 0.5),
        credits_per_tenant=(1, 6),
        incidents=(2, 5),
        mix={"spike": 0.25, "shift": 0.15, "drift": 0.25, "new": 0.2, "weekend_loop": 0.15},
        leaf_multiple=(0.8, 3.0),
        monitor_fraction=(0.3, 1.0),
        min_excess_usd=(30.0, 120.0),
        gap_days=21,
    )


def holdout2(seed: int, quick: bool) -> GenConfig:
    """Written before the round-2 detector changes and never inspected beyond its summary line:
    heavier tails (t with 3 d.o.f.), more batch jobs and credits, smaller tenants, a later start,
    smaller incidents relative to their monitors."""
    return GenConfig(
        name="holdout2",
        seed=seed + 7_777_777,
        tenants=8 if quick else 30,
        days=300,
        start=date(2022, 9, 23),
        leaves=(5, 18),
        accounts=(1, 4),
        leaf_log_mean=3.5,
        leaf_log_sigma=1.5,
        cv=(0.04, 0.15),
        t_df=3.0,
        dev_weekend=(0.2, 0.7),
        prod_weekend=(0.8, 1.0),
        growth_per_year=(-0.3, 1.0),
        p_fee_tenant=0.7,
        fee_multiple=(4.0, 25.0),
        p_batch_leaf=0.15,
        batch_p_day=(0.2, 0.6),
        credits_per_tenant=(2, 8),
        incidents=(2, 5),
        mix={"spike": 0.25, "shift": 0.2, "drift": 0.2, "new": 0.15, "weekend_loop": 0.2},
        leaf_multiple=(1.0, 3.5),
        monitor_fraction=(0.3, 1.0),
        min_excess_usd=(35.0, 140.0),
        gap_days=22,
    )


def holdout3(seed: int, quick: bool) -> GenConfig:
    """Written before the round-3 detector changes; only its summary line is read, once before
    and once after that round: fewer, larger leaves in fewer accounts, noisier (cv up to 0.2)
    t(3.5) tails, deeper weekend dips and some prod weekend dip, faster (and negative) growth,
    smaller fees, more and busier batch jobs, more spikes and new resources, smaller incidents,
    an earlier start and a longer span."""
    return GenConfig(
        name="holdout3",
        seed=seed + 31_415_927,
        tenants=10 if quick else 35,
        days=330,
        start=date(2021, 5, 6),
        leaves=(4, 14),
        accounts=(1, 3),
        leaf_log_mean=4.5,
        leaf_log_sigma=1.0,
        cv=(0.06, 0.2),
        t_df=3.5,
        dev_weekend=(0.05, 0.35),
        prod_weekend=(0.7, 0.95),
        growth_per_year=(-0.4, 1.5),
        p_fee_tenant=0.5,
        fee_multiple=(2.0, 15.0),
        p_batch_leaf=0.2,
        batch_p_day=(0.25, 0.7),
        credits_per_tenant=(1, 5),
        incidents=(3, 5),
        mix={"spike": 0.35, "shift": 0.15, "drift": 0.1, "new": 0.25, "weekend_loop": 0.15},
        leaf_multiple=(0.7, 2.5),
        monitor_fraction=(0.25, 0.9),
        min_excess_usd=(25.0, 100.0),
        gap_days=20,
    )


def dev2(seed: int, quick: bool) -> GenConfig:
    """Round-3 development config (studied freely): t(3) tails, many batch jobs, mid-size
    tenants."""
    return GenConfig(
        name="dev2",
        seed=seed + 2_000_029,
        tenants=10 if quick else 30,
        days=280,
        start=date(2023, 8, 8),
        leaves=(6, 22),
        accounts=(2, 5),
        leaf_log_mean=3.9,
        leaf_log_sigma=1.3,
        cv=(0.04, 0.16),
        t_df=3.0,
        dev_weekend=(0.1, 0.6),
        growth_per_year=(-0.2, 1.0),
        p_fee_tenant=0.6,
        p_batch_leaf=0.18,
        batch_p_day=(0.15, 0.6),
        credits_per_tenant=(1, 6),
        incidents=(2, 5),
        mix={"spike": 0.3, "shift": 0.2, "drift": 0.15, "new": 0.2, "weekend_loop": 0.15},
        leaf_multiple=(0.8, 3.0),
        monitor_fraction=(0.3, 1.0),
        min_excess_usd=(30.0, 130.0),
    )


def dev3(seed: int, quick: bool) -> GenConfig:
    """Round-3 development config (studied freely): t(4) tails, big tenants with many small
    leaves, shallow weekends, few batch jobs, many new resources and drifts."""
    return GenConfig(
        name="dev3",
        seed=seed + 3_000_017,
        tenants=8 if quick else 25,
        days=260,
        start=date(2022, 2, 14),
        leaves=(12, 32),
        accounts=(2, 6),
        leaf_log_mean=3.4,
        leaf_log_sigma=1.4,
        cv=(0.05, 0.14),
        t_df=4.0,
        dev_weekend=(0.3, 0.8),
        growth_per_year=(0.0, 1.2),
        p_fee_tenant=0.7,
        p_batch_leaf=0.1,
        batch_p_day=(0.1, 0.4),
        credits_per_tenant=(0, 5),
        incidents=(2, 5),
        mix={"spike": 0.25, "shift": 0.15, "drift": 0.2, "new": 0.25, "weekend_loop": 0.15},
        leaf_multiple=(0.8, 3.5),
        monitor_fraction=(0.3, 1.1),
        min_excess_usd=(30.0, 140.0),
    )


def holdout4(seed: int, quick: bool) -> GenConfig:
    """Written before the round-4 detector changes; only its summary line is read, once before
    and once after that round: a later start, wide leaf counts (3–40) with many tiny leaves and
    a dominant leaf in half the tenants, up to 8 accounts, t(5) noise with cv up to 0.25,
    weekend-busier prod and near-idle dev weekends, fast growth, frequent small fees, rare or
    near-daily batch jobs with weekday-dependent sizes, month-end processing, many credits,
    more shifts and weekend loops, smaller incidents, closer together."""
    return GenConfig(
        name="holdout4",
        seed=seed + 44_444_443,
        tenants=10 if quick else 32,
        days=250,
        start=date(2025, 1, 20),
        leaves=(3, 40),
        accounts=(1, 8),
        leaf_log_mean=3.0,
        leaf_log_sigma=1.8,
        cv=(0.02, 0.25),
        t_df=5.0,
        dev_weekend=(0.03, 0.5),
        prod_weekend=(0.9, 1.15),
        growth_per_year=(-0.1, 2.0),
        p_fee_tenant=0.9,
        fee_multiple=(1.0, 10.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.05, 0.9),
        batch_weekday=(0.3, 2.0),
        p_month_end_leaf=0.08,
        month_end_multiple=(1.3, 2.5),
        p_dominant_tenant=0.5,
        dominant_multiple=(8.0, 30.0),
        credits_per_tenant=(3, 10),
        incidents=(3, 6),
        mix={"spike": 0.2, "shift": 0.25, "drift": 0.15, "new": 0.15, "weekend_loop": 0.25},
        leaf_multiple=(0.6, 2.5),
        monitor_fraction=(0.25, 0.9),
        min_excess_usd=(20.0, 90.0),
        gap_days=18,
    )


def dev4(seed: int, quick: bool) -> GenConfig:
    """Round-4 development config (studied freely): the round-4 generator features (a dominant
    leaf in some tenants, many tiny leaves, weekday-dependent batch sizes, month-end processing)
    at ranges of their own, t(3.5) tails."""
    return GenConfig(
        name="dev4",
        seed=seed + 4_000_037,
        tenants=10 if quick else 30,
        days=260,
        start=date(2023, 11, 3),
        leaves=(5, 30),
        accounts=(1, 6),
        leaf_log_mean=3.3,
        leaf_log_sigma=1.6,
        cv=(0.04, 0.18),
        t_df=3.5,
        dev_weekend=(0.1, 0.6),
        growth_per_year=(-0.2, 1.2),
        p_fee_tenant=0.6,
        p_batch_leaf=0.15,
        batch_p_day=(0.1, 0.8),
        batch_weekday=(0.4, 2.2),
        p_month_end_leaf=0.1,
        month_end_multiple=(1.5, 3.0),
        p_dominant_tenant=0.4,
        dominant_multiple=(10.0, 40.0),
        credits_per_tenant=(1, 6),
        incidents=(2, 5),
        mix={"spike": 0.3, "shift": 0.2, "drift": 0.15, "new": 0.15, "weekend_loop": 0.2},
        leaf_multiple=(0.8, 3.0),
        monitor_fraction=(0.3, 1.0),
        min_excess_usd=(30.0, 120.0),
    )


def holdout5(seed: int, quick: bool) -> GenConfig:
    """Written before the round-5 detector changes; only its summary line is read, once before
    and once after that round: the heaviest tails yet (t(2.8)) with a wide noise range (cv
    0.03–0.3), larger leaves (median e^4.8 ≈ 120 USD) and many per tenant (10–45) in one or two
    accounts, shallow dev weekends but weekend-busier prod, fast growth, rare large fees, few
    but busy batch jobs, some month-end processing, a shorter span from an autumn start, a mix
    heavy on spikes and drifts, incidents larger relative to their leaf but smaller relative to
    their monitors."""
    return GenConfig(
        name="holdout5",
        seed=seed + 55_555_561,
        tenants=10 if quick else 34,
        days=210,
        start=date(2020, 10, 12),
        leaves=(10, 45),
        accounts=(1, 2),
        leaf_log_mean=4.8,
        leaf_log_sigma=1.1,
        cv=(0.03, 0.3),
        t_df=2.8,
        dev_weekend=(0.4, 0.9),
        prod_weekend=(0.95, 1.1),
        growth_per_year=(0.3, 2.5),
        p_fee_tenant=0.4,
        fee_multiple=(8.0, 60.0),
        p_batch_leaf=0.05,
        batch_p_day=(0.3, 0.8),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.2, 2.0),
        credits_per_tenant=(0, 3),
        incidents=(2, 4),
        mix={"spike": 0.35, "shift": 0.15, "drift": 0.25, "new": 0.1, "weekend_loop": 0.15},
        leaf_multiple=(1.2, 5.0),
        monitor_fraction=(0.2, 0.8),
        min_excess_usd=(50.0, 200.0),
        gap_days=25,
    )


def dev5(seed: int, quick: bool) -> GenConfig:
    """Round-5 development config (studied freely): t(3) tails with a wide noise range, larger
    leaves, few accounts, spike-heavy mix."""
    return GenConfig(
        name="dev5",
        seed=seed + 5_000_011,
        tenants=10 if quick else 30,
        days=240,
        start=date(2022, 6, 20),
        leaves=(8, 36),
        accounts=(1, 3),
        leaf_log_mean=4.4,
        leaf_log_sigma=1.2,
        cv=(0.03, 0.25),
        t_df=3.0,
        dev_weekend=(0.2, 0.8),
        growth_per_year=(0.0, 1.8),
        p_fee_tenant=0.5,
        p_batch_leaf=0.08,
        batch_p_day=(0.2, 0.7),
        p_month_end_leaf=0.04,
        credits_per_tenant=(0, 4),
        incidents=(2, 5),
        mix={"spike": 0.35, "shift": 0.2, "drift": 0.15, "new": 0.15, "weekend_loop": 0.15},
        leaf_multiple=(1.0, 4.0),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(40.0, 160.0),
    )


def dev6(seed: int, quick: bool) -> GenConfig:
    """Session-7 development config (studied freely): batch-job-heavy small tenants with deep
    dev weekends (a dev account's job runs smaller on Saturdays and Sundays) and weekday run
    sizes, t(4) noise with cv 0.05–0.18, smallish incidents."""
    return GenConfig(
        name="dev6",
        seed=seed + 6_000_047,
        tenants=10 if quick else 32,
        days=300,
        start=date(2023, 3, 20),
        leaves=(5, 16),
        accounts=(1, 3),
        leaf_log_mean=4.3,
        leaf_log_sigma=1.1,
        cv=(0.05, 0.18),
        t_df=4.0,
        dev_weekend=(0.05, 0.4),
        prod_weekend=(0.75, 0.95),
        growth_per_year=(-0.3, 1.2),
        p_fee_tenant=0.5,
        fee_multiple=(3.0, 20.0),
        p_batch_leaf=0.22,
        batch_p_day=(0.25, 0.7),
        batch_weekday=(0.75, 1.35),
        credits_per_tenant=(0, 4),
        incidents=(3, 5),
        mix={"spike": 0.3, "shift": 0.15, "drift": 0.15, "new": 0.2, "weekend_loop": 0.2},
        leaf_multiple=(0.8, 2.8),
        monitor_fraction=(0.25, 0.9),
        min_excess_usd=(25.0, 110.0),
        gap_days=20,
    )


def dev7(seed: int, quick: bool) -> GenConfig:
    """Session-12 development config (studied freely): the regime where CostGuard's false alarms
    exceed the truth-knowing oracle's most (heavy t(3) tails, a very wide noise range and long
    histories; bench/README.md "Oracle bound"): a year from a late-summer start, 6–40 leaves in
    1–8 accounts, every round-4 generator feature, frequent fees, credits, a balanced mix."""
    return GenConfig(
        name="dev7",
        seed=seed + 7_000_003,
        tenants=10 if quick else 36,
        days=330,
        start=date(2021, 8, 16),
        leaves=(6, 40),
        accounts=(1, 8),
        leaf_log_mean=3.9,
        leaf_log_sigma=1.4,
        cv=(0.02, 0.3),
        t_df=3.0,
        dev_weekend=(0.1, 0.7),
        prod_weekend=(0.8, 1.05),
        growth_per_year=(-0.2, 1.5),
        p_fee_tenant=0.7,
        fee_multiple=(3.0, 30.0),
        p_batch_leaf=0.12,
        batch_p_day=(0.15, 0.7),
        batch_weekday=(0.55, 1.7),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.5),
        p_dominant_tenant=0.3,
        dominant_multiple=(4.0, 20.0),
        credits_per_tenant=(1, 6),
        incidents=(3, 7),
        mix={"spike": 0.3, "shift": 0.2, "drift": 0.15, "new": 0.15, "weekend_loop": 0.2},
        leaf_multiple=(0.8, 3.5),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 150.0),
        gap_days=16,
    )


def dev8(seed: int, quick: bool) -> GenConfig:
    """Session-13 development config (studied freely): the regime where CostGuard's misses
    exceed the truth-knowing oracle's most (holdout3's: few large leaves in few accounts, a
    fifth of them batch jobs of one run size, deep dev weekends, a spike- and new-leaning mix,
    small incidents; written from that config's ranges and the oracle table, not from its
    errors), t(3.5) noise, cv 0.05–0.2, a late-summer start, 320 days."""
    return GenConfig(
        name="dev8",
        seed=seed + 8_000_009,
        tenants=10 if quick else 34,
        days=320,
        start=date(2022, 9, 5),
        leaves=(4, 13),
        accounts=(1, 3),
        leaf_log_mean=4.5,
        leaf_log_sigma=1.05,
        cv=(0.05, 0.2),
        t_df=3.5,
        dev_weekend=(0.05, 0.4),
        prod_weekend=(0.7, 0.95),
        growth_per_year=(-0.4, 1.4),
        p_fee_tenant=0.5,
        fee_multiple=(2.0, 16.0),
        p_batch_leaf=0.2,
        batch_p_day=(0.2, 0.7),
        credits_per_tenant=(1, 5),
        incidents=(3, 5),
        mix={"spike": 0.33, "shift": 0.15, "drift": 0.12, "new": 0.23, "weekend_loop": 0.17},
        leaf_multiple=(0.7, 2.6),
        monitor_fraction=(0.25, 0.9),
        min_excess_usd=(25.0, 105.0),
        gap_days=20,
    )


def holdout6(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 3, before any session-3 detector change; only its summary
    line is read, once before and once after that session's changes: a full year from a December
    start (month-start fees across a year end), wide leaf counts (5–50) in 1–10 accounts, every
    round-4 generator feature on at ranges of its own, t(3.3) noise with cv 0.02–0.22, medium
    dev weekends, moderate growth, frequent fees, a balanced mix, incidents between the older
    configs' sizes, 16 days apart."""
    return GenConfig(
        name="holdout6",
        seed=seed + 66_666_667,
        tenants=10 if quick else 36,
        days=365,
        start=date(2023, 12, 4),
        leaves=(5, 50),
        accounts=(1, 10),
        leaf_log_mean=3.6,
        leaf_log_sigma=1.5,
        cv=(0.02, 0.22),
        t_df=3.3,
        dev_weekend=(0.15, 0.75),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.25, 1.4),
        p_fee_tenant=0.75,
        fee_multiple=(3.0, 35.0),
        p_batch_leaf=0.12,
        batch_p_day=(0.1, 0.75),
        batch_weekday=(0.5, 1.8),
        p_month_end_leaf=0.06,
        month_end_multiple=(1.3, 2.8),
        p_dominant_tenant=0.3,
        dominant_multiple=(5.0, 25.0),
        credits_per_tenant=(1, 7),
        incidents=(3, 7),
        mix={"spike": 0.25, "shift": 0.2, "drift": 0.2, "new": 0.15, "weekend_loop": 0.2},
        leaf_multiple=(0.8, 3.5),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 150.0),
        gap_days=16,
    )


def holdout7(seed: int, quick: bool) -> GenConfig:
    """Written at the end of session 3 and scored once on the session-3 detector (its final
    commit), for the next session to use as its unseen "before" line: t(4.5) noise with cv
    0.03–0.15, many mid-size tenants (8–30 leaves in 1–6 accounts), a spring start, 300 days,
    half the tenants with a month-start fee, some batch jobs with weekday sizes, a little
    month-end processing, dominant leaves in a fifth of the tenants, a mix heavy on shifts and
    weekend loops, incidents 20 days apart."""
    return GenConfig(
        name="holdout7",
        seed=seed + 77_777_781,
        tenants=10 if quick else 40,
        days=300,
        start=date(2024, 4, 15),
        leaves=(8, 30),
        accounts=(1, 6),
        leaf_log_mean=4.0,
        leaf_log_sigma=1.3,
        cv=(0.03, 0.15),
        t_df=4.5,
        dev_weekend=(0.2, 0.7),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.1, 1.0),
        p_fee_tenant=0.5,
        fee_multiple=(4.0, 30.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.15, 0.6),
        batch_weekday=(0.6, 1.6),
        p_month_end_leaf=0.04,
        month_end_multiple=(1.3, 2.2),
        p_dominant_tenant=0.2,
        dominant_multiple=(6.0, 20.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.2, "shift": 0.25, "drift": 0.15, "new": 0.15, "weekend_loop": 0.25},
        leaf_multiple=(0.8, 3.0),
        monitor_fraction=(0.3, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=20,
    )


def dev9(seed: int, quick: bool) -> GenConfig:
    """Session-14 development config (studied freely): holdout5's regime, written from that
    config's ranges and the oracle table (holdout5 is the holdout whose false alarms most
    exceed the oracle's: 13 against 3), not from its errors: the heaviest tails (t(2.8)) with
    a wide noise range, large leaves, many per tenant in one or two accounts, shallow dev
    weekends, fast growth, rare large fees, few but busy batch jobs, some month-end processing,
    a spike- and drift-heavy mix, incidents large relative to their leaf."""
    return GenConfig(
        name="dev9",
        seed=seed + 9_000_011,
        tenants=10 if quick else 34,
        days=240,
        start=date(2021, 11, 3),
        leaves=(10, 42),
        accounts=(1, 2),
        leaf_log_mean=4.7,
        leaf_log_sigma=1.1,
        cv=(0.03, 0.28),
        t_df=2.8,
        dev_weekend=(0.4, 0.9),
        prod_weekend=(0.95, 1.1),
        growth_per_year=(0.3, 2.4),
        p_fee_tenant=0.4,
        fee_multiple=(8.0, 55.0),
        p_batch_leaf=0.05,
        batch_p_day=(0.3, 0.8),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.2, 2.0),
        credits_per_tenant=(0, 3),
        incidents=(2, 5),
        mix={"spike": 0.33, "shift": 0.15, "drift": 0.25, "new": 0.12, "weekend_loop": 0.15},
        leaf_multiple=(1.2, 4.5),
        monitor_fraction=(0.2, 0.8),
        min_excess_usd=(50.0, 200.0),
        gap_days=24,
    )


def holdout8(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 6, before its detector change; only its summary line is
    read, once before and once after: t(3.6) noise with a low-to-mid cv (0.02–0.18), small
    leaves (median e^3.2 ≈ 25 USD) with a wide spread, many accounts (2–8), a late-summer start,
    270 days, frequent small fees, batch jobs with weekday sizes, month-end processing on a few
    leaves, dominant leaves in a quarter of the tenants, a drift- and new-resource-heavy mix,
    incidents large relative to their leaf, 18 days apart."""
    return GenConfig(
        name="holdout8",
        seed=seed + 88_888_883,
        tenants=10 if quick else 38,
        days=270,
        start=date(2021, 8, 23),
        leaves=(6, 40),
        accounts=(2, 8),
        leaf_log_mean=3.2,
        leaf_log_sigma=1.4,
        cv=(0.02, 0.18),
        t_df=3.6,
        dev_weekend=(0.25, 0.85),
        prod_weekend=(0.9, 1.05),
        growth_per_year=(-0.2, 1.2),
        p_fee_tenant=0.65,
        fee_multiple=(3.0, 20.0),
        p_batch_leaf=0.09,
        batch_p_day=(0.2, 0.65),
        batch_weekday=(0.7, 1.5),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.2, 2.5),
        p_dominant_tenant=0.25,
        dominant_multiple=(5.0, 15.0),
        credits_per_tenant=(0, 6),
        incidents=(2, 6),
        mix={"spike": 0.22, "shift": 0.18, "drift": 0.25, "new": 0.2, "weekend_loop": 0.15},
        leaf_multiple=(1.2, 4.5),
        monitor_fraction=(0.3, 1.1),
        min_excess_usd=(25.0, 120.0),
        gap_days=18,
    )


def holdout9(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 7, before its detector changes; only its summary line is
    read, once before and once after: t(3.1) noise with a wide cv (0.03–0.26), mostly small
    tenants (4–28 leaves) in one to three accounts, mid-size leaves (median e^4.1 ≈ 60 USD),
    a late-winter start, 330 days, deep dev weekends, fees in half the tenants, busy batch jobs
    with weekday sizes, month-end processing on a few leaves, dominant leaves in a sixth of the
    tenants, a spike- and shift-heavy mix, incidents moderate relative to their leaf, 21 days
    apart."""
    return GenConfig(
        name="holdout9",
        seed=seed + 99_999_989,
        tenants=10 if quick else 36,
        days=330,
        start=date(2022, 2, 14),
        leaves=(4, 28),
        accounts=(1, 3),
        leaf_log_mean=4.1,
        leaf_log_sigma=1.3,
        cv=(0.03, 0.26),
        t_df=3.1,
        dev_weekend=(0.1, 0.6),
        prod_weekend=(0.88, 1.04),
        growth_per_year=(-0.15, 1.6),
        p_fee_tenant=0.5,
        fee_multiple=(4.0, 40.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.25, 0.7),
        batch_weekday=(0.6, 1.7),
        p_month_end_leaf=0.04,
        month_end_multiple=(1.3, 2.4),
        p_dominant_tenant=0.17,
        dominant_multiple=(6.0, 22.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.3, "shift": 0.25, "drift": 0.15, "new": 0.15, "weekend_loop": 0.15},
        leaf_multiple=(1.0, 3.8),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(35.0, 140.0),
        gap_days=21,
    )


def holdout10(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 8, before its detector changes; only its summary line is
    read, once before and once after: t(3.8) noise with a mid cv (0.04–0.20), mid-size tenants
    (10–45 leaves) in two to five accounts, smallish leaves (median e^3.7 ≈ 40 USD) with a wide
    spread, an early-autumn start, 310 days, fees in three fifths of the tenants, batch jobs
    with weekday sizes, month-end processing on a few leaves, dominant leaves in a fifth of the
    tenants, a new-resource- and drift-leaning mix, incidents moderate relative to their leaf,
    19 days apart."""
    return GenConfig(
        name="holdout10",
        seed=seed + 101_010_103,
        tenants=10 if quick else 34,
        days=310,
        start=date(2023, 9, 4),
        leaves=(10, 45),
        accounts=(2, 5),
        leaf_log_mean=3.7,
        leaf_log_sigma=1.45,
        cv=(0.04, 0.20),
        t_df=3.8,
        dev_weekend=(0.15, 0.75),
        prod_weekend=(0.9, 1.05),
        growth_per_year=(-0.2, 1.3),
        p_fee_tenant=0.6,
        fee_multiple=(3.0, 30.0),
        p_batch_leaf=0.09,
        batch_p_day=(0.2, 0.7),
        batch_weekday=(0.6, 1.6),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.2, 2.3),
        p_dominant_tenant=0.2,
        dominant_multiple=(5.0, 18.0),
        credits_per_tenant=(0, 6),
        incidents=(2, 6),
        mix={"spike": 0.2, "shift": 0.2, "drift": 0.2, "new": 0.22, "weekend_loop": 0.18},
        leaf_multiple=(1.0, 3.6),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 130.0),
        gap_days=19,
    )


def holdout11(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 9, before its detector changes; only its summary line is
    read, once before and once after: t(3.4) noise with a mid-to-wide cv (0.04–0.22), tenants
    of 6–36 leaves in one to four accounts, mid-size leaves (median e^3.9 ≈ 50 USD), a
    late-spring start, 300 days, mid-depth dev weekends, fees in half the tenants, batch jobs
    with weekday sizes, month-end processing on a few leaves, dominant leaves in a seventh of
    the tenants, an even mix, incidents moderate relative to their leaf, 20 days apart."""
    return GenConfig(
        name="holdout11",
        seed=seed + 111_111_119,
        tenants=10 if quick else 36,
        days=300,
        start=date(2024, 5, 20),
        leaves=(6, 36),
        accounts=(1, 4),
        leaf_log_mean=3.9,
        leaf_log_sigma=1.35,
        cv=(0.04, 0.22),
        t_df=3.4,
        dev_weekend=(0.2, 0.7),
        prod_weekend=(0.88, 1.03),
        growth_per_year=(-0.1, 1.4),
        p_fee_tenant=0.5,
        fee_multiple=(4.0, 35.0),
        p_batch_leaf=0.08,
        batch_p_day=(0.2, 0.65),
        batch_weekday=(0.65, 1.6),
        p_month_end_leaf=0.04,
        month_end_multiple=(1.3, 2.5),
        p_dominant_tenant=0.15,
        dominant_multiple=(6.0, 20.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.22, "shift": 0.2, "drift": 0.18, "new": 0.2, "weekend_loop": 0.2},
        leaf_multiple=(1.0, 3.7),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(35.0, 140.0),
        gap_days=20,
    )


def holdout12(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 10, before its detector changes; only its summary line is
    read, once before and once after: t(3.2) noise with a mid cv (0.05–0.18), tenants of 8–40
    leaves in two to four accounts, mid-size leaves (median e^3.85 ≈ 47 USD), a late-winter
    start, 290 days, fees in a little over half the tenants, a batch-job share a little above
    the others' with weekday sizes, month-end processing on a few leaves, dominant leaves in a
    sixth of the tenants, a spike- and shift-leaning mix, incidents moderate relative to their
    leaf, 21 days apart."""
    return GenConfig(
        name="holdout12",
        seed=seed + 121_212_127,
        tenants=10 if quick else 35,
        days=290,
        start=date(2024, 2, 26),
        leaves=(8, 40),
        accounts=(2, 4),
        leaf_log_mean=3.85,
        leaf_log_sigma=1.3,
        cv=(0.05, 0.18),
        t_df=3.2,
        dev_weekend=(0.18, 0.7),
        prod_weekend=(0.88, 1.04),
        growth_per_year=(-0.15, 1.2),
        p_fee_tenant=0.55,
        fee_multiple=(4.0, 28.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.2, 0.6),
        batch_weekday=(0.6, 1.5),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.25, 2.4),
        p_dominant_tenant=0.17,
        dominant_multiple=(5.0, 20.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.25, "shift": 0.23, "drift": 0.17, "new": 0.17, "weekend_loop": 0.18},
        leaf_multiple=(1.0, 3.6),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(35.0, 140.0),
        gap_days=21,
    )


def holdout13(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 11, before its detector changes; only its summary line is
    read, once before and once after: t(3.6) noise with a mid-to-wide cv (0.04–0.2), tenants
    of 7–34 leaves in one to three accounts, mid-size leaves (median e^3.95 ≈ 52 USD), an
    early-autumn start, 280 days, mid-depth dev weekends, fees in under half the tenants,
    batch jobs with weekday sizes, month-end processing on a few leaves, dominant leaves in a
    sixth of the tenants, a drift- and loop-leaning mix, incidents moderate relative to their
    leaf, 19 days apart."""
    return GenConfig(
        name="holdout13",
        seed=seed + 131_313_137,
        tenants=10 if quick else 34,
        days=280,
        start=date(2023, 9, 11),
        leaves=(7, 34),
        accounts=(1, 3),
        leaf_log_mean=3.95,
        leaf_log_sigma=1.3,
        cv=(0.04, 0.2),
        t_df=3.6,
        dev_weekend=(0.2, 0.72),
        prod_weekend=(0.87, 1.03),
        growth_per_year=(-0.1, 1.3),
        p_fee_tenant=0.45,
        fee_multiple=(4.0, 30.0),
        p_batch_leaf=0.09,
        batch_p_day=(0.2, 0.62),
        batch_weekday=(0.62, 1.55),
        p_month_end_leaf=0.045,
        month_end_multiple=(1.3, 2.4),
        p_dominant_tenant=0.16,
        dominant_multiple=(5.5, 19.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.19, "shift": 0.19, "drift": 0.21, "new": 0.19, "weekend_loop": 0.22},
        leaf_multiple=(1.0, 3.6),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(35.0, 140.0),
        gap_days=19,
    )


def holdout14(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 12, before its detector change; only its summary line is
    read, once before and once after: t(3.2) noise with a wide cv (0.03–0.26), tenants of
    6–30 leaves in one to five accounts, mid-size leaves (median e^3.8 ≈ 45 USD), a late-spring
    start, 320 days, deep-ish dev weekends, fees in over half the tenants, batch jobs with
    weekday sizes, month-end processing on a few leaves, dominant leaves in a quarter of the
    tenants, a spike-leaning mix, incidents from small to large relative to their leaf, 17
    days apart."""
    return GenConfig(
        name="holdout14",
        seed=seed + 141_414_141,
        tenants=10 if quick else 35,
        days=320,
        start=date(2022, 5, 2),
        leaves=(6, 30),
        accounts=(1, 5),
        leaf_log_mean=3.8,
        leaf_log_sigma=1.35,
        cv=(0.03, 0.26),
        t_df=3.2,
        dev_weekend=(0.12, 0.65),
        prod_weekend=(0.84, 1.02),
        growth_per_year=(-0.15, 1.35),
        p_fee_tenant=0.6,
        fee_multiple=(3.5, 28.0),
        p_batch_leaf=0.11,
        batch_p_day=(0.18, 0.68),
        batch_weekday=(0.58, 1.62),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.6),
        p_dominant_tenant=0.25,
        dominant_multiple=(5.0, 22.0),
        credits_per_tenant=(0, 6),
        incidents=(3, 6),
        mix={"spike": 0.28, "shift": 0.19, "drift": 0.17, "new": 0.17, "weekend_loop": 0.19},
        leaf_multiple=(0.8, 3.8),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 150.0),
        gap_days=17,
    )


def holdout15(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 13, before its detector change; only its summary line is
    read, once before and once after: t(3.4) noise with cv 0.04–0.24, tenants of 5–24 leaves in
    one to four accounts, larger leaves (median e^4.1 ≈ 60 USD), a winter start, 340 days, dev
    weekends from deep to shallow, fees in over half the tenants, batch jobs on one leaf in six
    with weekday sizes, month-end processing on a few leaves, dominant leaves in a fifth of the
    tenants, a balanced mix, incidents from small to large relative to their leaf, 18 days
    apart."""
    return GenConfig(
        name="holdout15",
        seed=seed + 151_515_157,
        tenants=10 if quick else 34,
        days=340,
        start=date(2022, 1, 10),
        leaves=(5, 24),
        accounts=(1, 4),
        leaf_log_mean=4.1,
        leaf_log_sigma=1.2,
        cv=(0.04, 0.24),
        t_df=3.4,
        dev_weekend=(0.08, 0.6),
        prod_weekend=(0.8, 1.0),
        growth_per_year=(-0.3, 1.3),
        p_fee_tenant=0.55,
        fee_multiple=(2.5, 25.0),
        p_batch_leaf=0.16,
        batch_p_day=(0.2, 0.7),
        batch_weekday=(0.6, 1.6),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.4),
        p_dominant_tenant=0.2,
        dominant_multiple=(4.0, 20.0),
        credits_per_tenant=(0, 5),
        incidents=(3, 6),
        mix={"spike": 0.27, "shift": 0.18, "drift": 0.17, "new": 0.18, "weekend_loop": 0.2},
        leaf_multiple=(0.75, 3.2),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(28.0, 130.0),
        gap_days=18,
    )


def holdout16(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 14, before its detector change; only its summary line is
    read, once before and once after: t(3.1) noise with cv 0.05–0.22, tenants of 7–28 leaves in
    two to six accounts, smaller leaves (median e^3.6 ≈ 37 USD) with a wide spread, an autumn
    start, 300 days, dev weekends from deep to shallow, fees in two tenants in three, batch jobs
    on one leaf in seven with weekday sizes, month-end processing on a few leaves, dominant
    leaves in a sixth of the tenants, a drift- and loop-leaning mix, incidents from small to
    large relative to their leaf, 20 days apart."""
    return GenConfig(
        name="holdout16",
        seed=seed + 161_616_163,
        tenants=10 if quick else 32,
        days=300,
        start=date(2022, 10, 5),
        leaves=(7, 28),
        accounts=(2, 6),
        leaf_log_mean=3.6,
        leaf_log_sigma=1.45,
        cv=(0.05, 0.22),
        t_df=3.1,
        dev_weekend=(0.1, 0.7),
        prod_weekend=(0.82, 1.0),
        growth_per_year=(-0.25, 1.1),
        p_fee_tenant=0.67,
        fee_multiple=(3.0, 30.0),
        p_batch_leaf=0.14,
        batch_p_day=(0.15, 0.6),
        batch_weekday=(0.65, 1.5),
        p_month_end_leaf=0.06,
        month_end_multiple=(1.4, 2.8),
        p_dominant_tenant=0.17,
        dominant_multiple=(4.0, 24.0),
        credits_per_tenant=(0, 6),
        incidents=(2, 6),
        mix={"spike": 0.2, "shift": 0.17, "drift": 0.22, "new": 0.17, "weekend_loop": 0.24},
        leaf_multiple=(0.8, 3.4),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=20,
    )


def holdout17(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 15, before any detector change; only its summary line is
    read, once before and once after: t(3.7) noise with cv 0.03–0.2, tenants of 8–36 leaves in
    one to five accounts, mid-size leaves (median e^4.0 ≈ 55 USD) with a wide spread, a spring
    start, 320 days, dev weekends from deep to mild, fees in half the tenants, batch jobs on one
    leaf in ten with weekday sizes, month-end processing on a few leaves, dominant leaves in a
    fifth of the tenants, a spike- and shift-leaning mix, incidents from small to large
    relative to their leaf, 22 days apart."""
    return GenConfig(
        name="holdout17",
        seed=seed + 171_717_177,
        tenants=10 if quick else 33,
        days=320,
        start=date(2024, 4, 22),
        leaves=(8, 36),
        accounts=(1, 5),
        leaf_log_mean=4.0,
        leaf_log_sigma=1.3,
        cv=(0.03, 0.2),
        t_df=3.7,
        dev_weekend=(0.15, 0.75),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.1, 1.4),
        p_fee_tenant=0.5,
        fee_multiple=(4.0, 35.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.2, 0.65),
        batch_weekday=(0.7, 1.4),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.6),
        p_dominant_tenant=0.2,
        dominant_multiple=(5.0, 30.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.27, "shift": 0.23, "drift": 0.18, "new": 0.14, "weekend_loop": 0.18},
        leaf_multiple=(0.9, 3.6),
        monitor_fraction=(0.25, 1.1),
        min_excess_usd=(35.0, 150.0),
        gap_days=22,
    )


def holdout18(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 16, before any detector change; only its summary line is
    read, once before and once after: t(2.9) noise (heavy tails, near holdout5's regime) with cv
    0.03–0.22, tenants of 6–30 leaves in one to four accounts, small-to-mid leaves (median
    e^3.7 ≈ 40 USD), an autumn start, 350 days, dev weekends from deep to mild, fees in two
    tenants in five, batch jobs on one leaf in eight, month-end processing on a few leaves,
    dominant leaves in a quarter of the tenants, an even mix of incidents, 20 days apart."""
    return GenConfig(
        name="holdout18",
        seed=seed + 181_818_181,
        tenants=10 if quick else 32,
        days=350,
        start=date(2023, 10, 16),
        leaves=(6, 30),
        accounts=(1, 4),
        leaf_log_mean=3.7,
        leaf_log_sigma=1.2,
        cv=(0.03, 0.22),
        t_df=2.9,
        dev_weekend=(0.2, 0.8),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.15, 1.2),
        p_fee_tenant=0.4,
        fee_multiple=(3.0, 30.0),
        p_batch_leaf=0.125,
        batch_p_day=(0.25, 0.7),
        batch_weekday=(0.75, 1.3),
        p_month_end_leaf=0.04,
        month_end_multiple=(1.4, 2.4),
        p_dominant_tenant=0.25,
        dominant_multiple=(4.0, 25.0),
        credits_per_tenant=(0, 4),
        incidents=(2, 6),
        mix={"spike": 0.22, "shift": 0.2, "drift": 0.2, "new": 0.18, "weekend_loop": 0.2},
        leaf_multiple=(1.0, 3.4),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=20,
    )


def holdout19(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 17, before any detector change; only its summary line is
    read, once before and once after: t(3.4) noise with cv 0.04–0.2, tenants of 8–32 leaves in
    two to five accounts, mid-size leaves (median e^3.9 ≈ 49 USD) with a wide spread, a winter
    start, 330 days, dev weekends from deep to mild, fees in three tenants in five, batch jobs on
    one leaf in nine with weekday sizes, month-end processing on a few leaves, dominant leaves in
    a fifth of the tenants, a drift- and new-leaning mix, incidents from small to large
    relative to their leaf, 21 days apart."""
    return GenConfig(
        name="holdout19",
        seed=seed + 191_919_193,
        tenants=10 if quick else 31,
        days=330,
        start=date(2024, 1, 8),
        leaves=(8, 32),
        accounts=(2, 5),
        leaf_log_mean=3.9,
        leaf_log_sigma=1.35,
        cv=(0.04, 0.2),
        t_df=3.4,
        dev_weekend=(0.15, 0.75),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.2, 1.3),
        p_fee_tenant=0.6,
        fee_multiple=(3.0, 35.0),
        p_batch_leaf=0.11,
        batch_p_day=(0.2, 0.6),
        batch_weekday=(0.7, 1.4),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.6),
        p_dominant_tenant=0.2,
        dominant_multiple=(4.0, 28.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.18, "shift": 0.18, "drift": 0.24, "new": 0.22, "weekend_loop": 0.18},
        leaf_multiple=(0.9, 3.4),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=21,
    )


def holdout20(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 18, before any detector change; only its summary line is
    read, once before and once after: t(3.2) noise with cv 0.04–0.24, tenants of 10–36 leaves
    in one to three accounts, larger leaves (median e^4.2 ≈ 67 USD) with a wide spread, a spring
    start, 310 days, dev weekends from deep to mild, fees in half the tenants, batch jobs on one
    leaf in ten with weekday sizes, month-end processing on a few leaves, dominant leaves in a
    third of the tenants, a spike- and shift-leaning mix, incidents from small to large
    relative to their leaf, 22 days apart."""
    return GenConfig(
        name="holdout20",
        seed=seed + 202_020_209,
        tenants=10 if quick else 30,
        days=310,
        start=date(2024, 4, 22),
        leaves=(10, 36),
        accounts=(1, 3),
        leaf_log_mean=4.2,
        leaf_log_sigma=1.3,
        cv=(0.04, 0.24),
        t_df=3.2,
        dev_weekend=(0.2, 0.7),
        prod_weekend=(0.8, 1.05),
        growth_per_year=(-0.1, 1.0),
        p_fee_tenant=0.5,
        fee_multiple=(4.0, 30.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.2, 0.55),
        batch_weekday=(0.7, 1.35),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.4, 2.5),
        p_dominant_tenant=0.33,
        dominant_multiple=(5.0, 30.0),
        credits_per_tenant=(0, 4),
        incidents=(2, 6),
        mix={"spike": 0.26, "shift": 0.24, "drift": 0.16, "new": 0.16, "weekend_loop": 0.18},
        leaf_multiple=(0.9, 3.2),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(35.0, 150.0),
        gap_days=22,
    )


def holdout21(seed: int, quick: bool) -> GenConfig:
    """Written at the end of session 18, after the AR-aware candidate was fixed
    (``candidates/ar-aware.diff``) and before it or anything else was scored on it: fresh data
    for judging that candidate. Only its summary line is read, once before and once after:
    t(3.6) noise with cv 0.03–0.18, small-to-mid tenants of 5–24 leaves in two to seven
    accounts, mid leaves (median e^3.6 ≈ 37 USD) with a wide spread, an autumn start, 360 days,
    dev weekends from deep to mild, fees in two tenants in three, batch jobs on one leaf in
    eight with weekday sizes, month-end processing on a few leaves, dominant leaves in a quarter
    of the tenants, a loop- and new-leaning mix, 20 days apart."""
    return GenConfig(
        name="holdout21",
        seed=seed + 212_121_217,
        tenants=10 if quick else 34,
        days=360,
        start=date(2023, 9, 4),
        leaves=(5, 24),
        accounts=(2, 7),
        leaf_log_mean=3.6,
        leaf_log_sigma=1.4,
        cv=(0.03, 0.18),
        t_df=3.6,
        dev_weekend=(0.15, 0.8),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.2, 1.1),
        p_fee_tenant=0.66,
        fee_multiple=(3.0, 30.0),
        p_batch_leaf=0.125,
        batch_p_day=(0.2, 0.6),
        batch_weekday=(0.75, 1.3),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.5),
        p_dominant_tenant=0.25,
        dominant_multiple=(4.0, 25.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.18, "shift": 0.18, "drift": 0.18, "new": 0.22, "weekend_loop": 0.24},
        leaf_multiple=(0.9, 3.4),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=20,
    )


def holdout22(seed: int, quick: bool) -> GenConfig:
    """Written at the start of session 19, before the AR-aware candidate
    (``candidates/ar-aware.diff``) or anything else was scored on it. Only its summary line is
    read, once before and once after: heavier t(2.9) noise with cv 0.05–0.22, tenants of 8–40
    leaves in one to four accounts, mid-to-large leaves (median e^3.9 ≈ 49 USD) with a moderate
    spread, a summer start, 340 days, dev weekends from deep to mild, fees in two tenants in
    five, batch jobs on one leaf in nine with weekday sizes, month-end processing on a few
    leaves, dominant leaves in three tenants in ten, a drift- and shift-leaning mix, incidents
    from small to large relative to their leaf, 21 days apart."""
    return GenConfig(
        name="holdout22",
        seed=seed + 222_222_227,
        tenants=10 if quick else 32,
        days=340,
        start=date(2024, 6, 10),
        leaves=(8, 40),
        accounts=(1, 4),
        leaf_log_mean=3.9,
        leaf_log_sigma=1.2,
        cv=(0.05, 0.22),
        t_df=2.9,
        dev_weekend=(0.2, 0.75),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.15, 1.2),
        p_fee_tenant=0.4,
        fee_multiple=(3.0, 28.0),
        p_batch_leaf=0.11,
        batch_p_day=(0.25, 0.6),
        batch_weekday=(0.7, 1.35),
        p_month_end_leaf=0.06,
        month_end_multiple=(1.3, 2.4),
        p_dominant_tenant=0.3,
        dominant_multiple=(4.0, 26.0),
        credits_per_tenant=(0, 4),
        incidents=(2, 6),
        mix={"spike": 0.18, "shift": 0.24, "drift": 0.26, "new": 0.16, "weekend_loop": 0.16},
        leaf_multiple=(0.9, 3.3),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=21,
    )


def holdout23(seed: int, quick: bool) -> GenConfig:
    """Written at the end of session 19, after its change was kept and before any later
    candidate exists: fresh data for the next judgement. Only its summary line is read, once
    before and once after: t(3.3) noise with cv 0.04–0.2, tenants of 12–48 smaller leaves
    (median e^3.3 ≈ 27 USD) with a wide spread in one to five accounts, a winter start, 300
    days, dev weekends from deep to mild, fees in half the tenants, batch jobs on one leaf in
    ten with weekday sizes, month-end processing on a few leaves, dominant leaves in a fifth of
    the tenants, a spike- and new-leaning mix, 20 days apart."""
    return GenConfig(
        name="holdout23",
        seed=seed + 232_323_231,
        tenants=10 if quick else 30,
        days=300,
        start=date(2023, 12, 4),
        leaves=(12, 48),
        accounts=(1, 5),
        leaf_log_mean=3.3,
        leaf_log_sigma=1.35,
        cv=(0.04, 0.2),
        t_df=3.3,
        dev_weekend=(0.2, 0.8),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.1, 1.1),
        p_fee_tenant=0.5,
        fee_multiple=(3.0, 30.0),
        p_batch_leaf=0.1,
        batch_p_day=(0.2, 0.6),
        batch_weekday=(0.7, 1.35),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.5),
        p_dominant_tenant=0.2,
        dominant_multiple=(4.0, 25.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.26, "shift": 0.16, "drift": 0.16, "new": 0.24, "weekend_loop": 0.18},
        leaf_multiple=(0.9, 3.3),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=20,
    )


def holdout24(seed: int, quick: bool) -> GenConfig:
    """Written in session 20 before its candidate (catch-up days) was scored on anything but
    development lines: fresh data for that judgement. Only its summary line is read, once
    before and once after: t(3.6) noise with cv 0.03–0.18, tenants of 10–40 leaves (median
    e^4.0 ≈ 55 USD) in one to four accounts, an autumn start, 330 days, deep dev weekends,
    fees in two tenants in five, batch jobs on one leaf in eight with weekday sizes, month-end
    processing on a few leaves, dominant leaves in a quarter of the tenants, a drift- and
    loop-leaning mix, 22 days apart."""
    return GenConfig(
        name="holdout24",
        seed=seed + 242_424_241,
        tenants=10 if quick else 30,
        days=330,
        start=date(2023, 9, 18),
        leaves=(10, 40),
        accounts=(1, 4),
        leaf_log_mean=4.0,
        leaf_log_sigma=1.2,
        cv=(0.03, 0.18),
        t_df=3.6,
        dev_weekend=(0.05, 0.5),
        prod_weekend=(0.8, 1.05),
        growth_per_year=(-0.2, 0.9),
        p_fee_tenant=0.4,
        fee_multiple=(4.0, 25.0),
        p_batch_leaf=0.125,
        batch_p_day=(0.25, 0.7),
        batch_weekday=(0.6, 1.4),
        p_month_end_leaf=0.06,
        month_end_multiple=(1.4, 2.8),
        p_dominant_tenant=0.25,
        dominant_multiple=(5.0, 20.0),
        credits_per_tenant=(0, 4),
        incidents=(2, 6),
        mix={"spike": 0.18, "shift": 0.18, "drift": 0.26, "new": 0.14, "weekend_loop": 0.24},
        leaf_multiple=(1.0, 3.5),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(35.0, 150.0),
        gap_days=22,
    )


def holdout25(seed: int, quick: bool) -> GenConfig:
    """Written in session 20 after its change (catch-up days) was kept and before any later
    candidate exists: fresh data for the next judgement. Only its summary line is read, once
    before and once after: t(3.0) noise with cv 0.04–0.25, tenants of 8–36 leaves (median
    e^3.7 ≈ 40 USD) in two to five accounts, a spring start, 320 days, dev weekends from deep
    to mild, fees in half the tenants, batch jobs on one leaf in nine, month-end processing on
    a few leaves, dominant leaves in a fifth of the tenants, a spike- and shift-leaning mix, 21
    days apart."""
    return GenConfig(
        name="holdout25",
        seed=seed + 252_525_251,
        tenants=10 if quick else 30,
        days=320,
        start=date(2024, 3, 11),
        leaves=(8, 36),
        accounts=(2, 5),
        leaf_log_mean=3.7,
        leaf_log_sigma=1.3,
        cv=(0.04, 0.25),
        t_df=3.0,
        dev_weekend=(0.15, 0.75),
        prod_weekend=(0.85, 1.05),
        growth_per_year=(-0.1, 1.0),
        p_fee_tenant=0.5,
        fee_multiple=(3.0, 28.0),
        p_batch_leaf=0.11,
        batch_p_day=(0.2, 0.65),
        batch_weekday=(0.65, 1.4),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.6),
        p_dominant_tenant=0.2,
        dominant_multiple=(4.0, 22.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.27, "shift": 0.24, "drift": 0.17, "new": 0.16, "weekend_loop": 0.16},
        leaf_multiple=(0.9, 3.4),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(30.0, 140.0),
        gap_days=21,
    )


def holdout26(seed: int, quick: bool) -> GenConfig:
    """Written in session 22 before any candidate of that session was scored: fresh data for
    the next judgement. Only its summary line is read, once before and once after: t(4.2)
    noise with cv 0.05–0.22, tenants of 12–45 leaves (median e^3.9 ≈ 50 USD) in one to three
    accounts, a winter start, 300 days, mild to deep dev weekends, fees in a third of the
    tenants, batch jobs on one leaf in seven, month-end processing on a few leaves, dominant
    leaves in three tenants in ten, a new- and drift-leaning mix, 23 days apart."""
    return GenConfig(
        name="holdout26",
        seed=seed + 262_626_261,
        tenants=10 if quick else 30,
        days=300,
        start=date(2023, 12, 4),
        leaves=(12, 45),
        accounts=(1, 3),
        leaf_log_mean=3.9,
        leaf_log_sigma=1.25,
        cv=(0.05, 0.22),
        t_df=4.2,
        dev_weekend=(0.1, 0.7),
        prod_weekend=(0.8, 1.05),
        growth_per_year=(-0.15, 0.8),
        p_fee_tenant=0.33,
        fee_multiple=(3.5, 24.0),
        p_batch_leaf=0.14,
        batch_p_day=(0.25, 0.7),
        batch_weekday=(0.6, 1.4),
        p_month_end_leaf=0.05,
        month_end_multiple=(1.3, 2.7),
        p_dominant_tenant=0.3,
        dominant_multiple=(4.0, 20.0),
        credits_per_tenant=(0, 4),
        incidents=(2, 6),
        mix={"spike": 0.2, "shift": 0.18, "drift": 0.24, "new": 0.22, "weekend_loop": 0.16},
        leaf_multiple=(0.95, 3.3),
        monitor_fraction=(0.25, 1.0),
        min_excess_usd=(32.0, 145.0),
        gap_days=23,
    )


def holdout27(seed: int, quick: bool) -> GenConfig:
    """Written at the end of session 23, after its kept change (``leaf_percent_of: lasting``):
    fresh data for the next judgement. Only its summary line is read, once before and once
    after: t(3.6) noise with cv 0.04–0.25, tenants of 8–60 leaves (median e^3.7 ≈ 40 USD) in
    two to four accounts, a spring start, 320 days, shallow to deep dev weekends, fees in half
    the tenants, batch jobs on one leaf in five, month-end processing on a few leaves, dominant
    leaves in one tenant in five, a shift- and loop-leaning mix, 19 days apart."""
    return GenConfig(
        name="holdout27",
        seed=seed + 272_727_271,
        tenants=10 if quick else 30,
        days=320,
        start=date(2023, 3, 13),
        leaves=(8, 60),
        accounts=(2, 4),
        leaf_log_mean=3.7,
        leaf_log_sigma=1.3,
        cv=(0.04, 0.25),
        t_df=3.6,
        dev_weekend=(0.05, 0.8),
        prod_weekend=(0.75, 1.05),
        growth_per_year=(-0.2, 0.9),
        p_fee_tenant=0.5,
        fee_multiple=(3.0, 20.0),
        p_batch_leaf=0.2,
        batch_p_day=(0.2, 0.75),
        batch_weekday=(0.5, 1.5),
        p_month_end_leaf=0.06,
        month_end_multiple=(1.2, 2.5),
        p_dominant_tenant=0.2,
        dominant_multiple=(4.0, 18.0),
        credits_per_tenant=(0, 5),
        incidents=(2, 6),
        mix={"spike": 0.2, "shift": 0.24, "drift": 0.16, "new": 0.16, "weekend_loop": 0.24},
        leaf_multiple=(0.9, 3.4),
        monitor_fraction=(0.22, 1.0),
        min_excess_usd=(28.0, 150.0),
        gap_days=19,
    )
