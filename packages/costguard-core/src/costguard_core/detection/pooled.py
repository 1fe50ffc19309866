"""How heavy the tails of a frame's noise are, pooled over all its series: the single-day bound.

Pooled per billing account when a frame holds several (``account_factors``): organisations'
noise differs, so each account's leaves are pooled on their own (rows spanning accounts, and
accounts with too few cells, use the frame's pool).

One series' 56 past days cannot tell a t(3) from a normal tail at the 7-sigma level a single-day
alarm needs, but the series of one billing frame (its resources, services, accounts) share their
kind of noise, and together they hold thousands of residuals. So, per day d:

* every leaf's residual (``rows.evaluate_rows`` passes the leaf monitor rows; all rows when
  there are none: an incident counted once, not again in each monitor above its leaf) against
  its plain expected spend (``screen.plain_expected``, the
  weekday median plus month-start fees) on day t is standardized by 1.2533 × the mean absolute
  residual of the ``scale_window_days`` days before t (σ for normal residuals);
* both tails are pooled (|residual|; round 4). Round 3 pooled the lower tail only, since a
  frame's upward excursions mix noise with incidents; but a cost cannot fall far below its
  level (0 bounds it, weekend dips shorten it), so the lower tail understated heavy tails and
  t(3)-like noise still passed the bound at z 10–30. An incident adds one to three cells (its
  leaf's first days, before the scale adapts) to a pool of ~2,000 or more per 112 days, so a few
  move the two-sided 1 % point little; many at once (a frame-wide jump) raise it for the
  ``pool_window_days`` that follow, during which rises are still flagged on their second day;
* a cell counts only if the series cost something on t and on each of the ``scale_window_days``
  days before it (no on/off batch jobs, new or dying series);
* over the cells of the ``pool_window_days`` days before d, q is the pooled point that
  ``POOLED_P`` of them exceed in absolute value. For normal noise q ≈ 2.576. A smaller pool
  (a tenant with few lasting leaves; round 5) uses the point p = 5 / cells of them exceed,
  down to 100 cells (p = 5 %); below that the factor is 1. Before round 5 any pool under 500
  cells gave 1, so a small tenant's t(3) noise met the plain bound of 7. A billing account's
  pool under 500 cells uses the frame's factor instead;
* a single-day alarm sits far beyond the 1 % point, and how far the noise reaches there
  depends on how heavy its tail is, not on the 1 % point alone (session 6): t(3) noise
  reaches about 2.3 × the normal's 1 % point but 4 × its 0.1 % point and 7 × its 0.01 %
  point (two-sided quantiles, scipy.stats.t and norm). So the tail is extrapolated as a
  Pareto tail from q: its index 1/α is Hill's estimate, the mean of ln(u / u0) over the cells
  beyond u0, the point 5 p of them exceed (session 14; before, the two-point estimate
  ln(q / u0) / ln 5, which has the same expectation for Student-t noise but on the pools
  read lighter tails: the pools mix the noise with incidents' and the model's own errors,
  and Hill's mean weighs all the cells beyond u0, the two-point estimate the one at q; so a
  few incidents weigh in more too: three of ~40 σ among 1,680 cells of normal noise raise
  the factor ~22 %, ~11 % before), and the tail reaches q × E^(1/α)
  at p / E (E = ``POOLED_EXTRAPOLATE``). The normal's own Hill index at its 5 % point
  (``HILL_NORMAL``) is the reference, so normal noise keeps factor ≈ 1 (the Pareto line
  overstates a normal tail, and that bias cancels). The factor is max(1, q / n ×
  E^(1/α − 1/α_n)), with n = Φ⁻¹(1 − p/2), and 1/α − 1/α_n taken as 0 where the data's
  tail is lighter than the normal's.
  With E = 1 this is round 4's q / n. Only a full pool (p = ``POOLED_P``, 500 cells or more)
  is extrapolated: a smaller pool's top cells are mostly its own incidents (one level shift
  is ~14 cells), and 1/α is capped at ``POOLED_MAX_INV_ALPHA`` for the same reason. The
  frame's single-day bound is ``single_day_z`` × the factor.

The pool spans 112 days (``pool_window_days``) since session 9; it was ``tail_window_days``
(56) before. On the development configs the longer pool made fewer false alarms at the same
bound (dev totals, false alarms + misses, 24 + 61 → 18 + 63 at single_day_z 7; 18 + 58 at 6.5,
the default from then until session 14's Hill index, with which 7 is again the default;
bench/README.md "What was tuned on what (session 9)" and "(session 14)").

Reads only days before d, and only the ``pool_window_days + scale_window_days + 7 ×
season_weeks + 7 + 37`` days before it (``gaps.lookback_days``), so an incremental run on a
trailing window gives the backtest's factor. Computed for every leaf (the screen never drops
one from the pool) in O(series × days).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.windows import past_sum

#: Two-sided tail probability whose pooled quantile is compared with the normal's.
POOLED_P = 0.01
#: Its normal quantile: Φ⁻¹(0.995).
NORMAL_Q99 = 2.5758
#: Cells beyond the compared quantile: with POOLED_P this needs 500 cells. A smaller pool
#: (a tenant with few lasting leaves) compares a less extreme quantile, the one that still has
#: this many cells beyond it, with the normal's at the same probability (round 5; before, a
#: pool under 500 cells gave factor 1, so heavy-tailed noise of small tenants met the plain
#: single-day bound).
POOLED_EXCEED = 5.0
#: Least extreme probability compared (100 cells); a smaller pool gives factor 1.
POOLED_P_MAX = 0.05
#: How far beyond the compared probability p the tail is extrapolated: to p / 50, the 0.02 %
#: point (before session 12: p / 10, the 0.1 % point). The single-day bound sits far beyond
#: either, and the heavier the tail the more its ratio to the normal grows further out
#: (per standard deviation, t(3) against the normal: 1.3 at 1 %, 2.3 at 0.1 %, 3.5 at
#: 0.02 %; t(6): 1.2, 1.5, 1.8), so reading it further out comes closer to how heavy the
#: noise is where the bound sits. Session 12 (bench/README.md "What was tuned on what
#: (session 12)"): on the seven development configs 10/20/30/40/50/70/100 gave
#: 114/113/112/111/**110**/110/113 false alarms plus misses; dev7 (t(3), cv 0.02–0.3) 22 →
#: 14 false alarms, four spikes lost on the others. Session 6 had found 3, 5, 30 and 100 no
#: better than 10 on main and dev2..dev5, which hold little of dev7's regime.
POOLED_EXTRAPOLATE = 50.0
#: Largest tail index 1/α the extrapolation uses (α ≥ 2, a tail with finite variance). A
#: heavier estimate comes from incidents in the pool, not from noise: in a tenant of 6 leaves
#: (390 cells) one level shift puts ~14 cells in the top 4 % and the two-point estimate
#: reads 1/α ≈ 1, which would multiply the bound by ~7. The development configs' t(3) noise
#: stays below it (same figures with and without the cap).
POOLED_MAX_INV_ALPHA = 0.5
#: Hill's tail index of normal draws over their two-sided 5 % point (1.96):
#: E[ln(|Z| / 1.96) | |Z| > 1.96] (scipy.integrate.quad); the reference ``_hill`` is compared
#: with. For Student-t noise over its 5 % point: t(6) 0.256, t(4) 0.313, t(3) 0.377, t(2.8)
#: 0.396, the same as the two-point estimate through the 5 % and 1 % points it replaced
#: (0.258, 0.314, 0.377, 0.396). On the development configs' pools it reads heavier: median
#: factor per tenant over days 150+, two-point → Hill, main (t(6)) 2.05 → 2.65, dev7 (t(3))
#: 3.45 → 4.18, dev9 seed 22 (t(2.8)) 3.41 → 3.70; the spread between tenants of one
#: config is about the same (p90 / p10 1.4–2.5). Measured on 200,000 draws through the
#: grid: normal 0.165, t(3) 0.372, t(6) 0.263, t(2.8) 0.394 (exact 0.168, 0.376, 0.263,
#: 0.395).
HILL_NORMAL = 0.1667
#: A cell whose series' cell the day before lies beyond this (σ units) is not pooled
#: (session 13). The pool measures the noise's tail; a level shift, a drift or a month charge
#: the fee model mispredicts puts a run of consecutive cells there, and in a small tenant's
#: pool (500–1,000 cells, whose 1 % point is its 5th–10th largest cell) one such run set the
#: tail: a tenant of 9 leaves with t(6) noise (main) read factor 13 for months after a drift
#: (bound 6.5 × 13 ≈ 85, so no one-day spike could be flagged there); 1 % of its cells beyond
#: 3σ would be heavy noise, so leaving out the cell after one costs the noise little. The
#: first cell of a run still counts. Development configs (false alarms + misses, with the
#: two-day rule of ``baseline.TWO_DAY_FIRST``): 160 → 158; alone 167 → 165.
POOLED_RUN_CUT = 3.0
#: Mean absolute deviation → σ for normal residuals (√(π/2)).
MEAN_ABS_TO_SIGMA = 1.2533
#: Quantile grid (σ units).
_GRID_STEP = 0.125
_GRID = np.arange(0.0, 30.0001, _GRID_STEP)


def pooled_factor(
    y: np.ndarray,
    exp: np.ndarray,
    config: DetectorConfig,
    fallback: np.ndarray | None = None,
) -> np.ndarray:
    """Per day, the factor (≥ 1) the single-day bound is multiplied by (see the module doc).

    ``y`` and ``exp``: ``(n_series, n_days)`` spend and plain expected spend (USD, NaN before a
    series exists). Returns ``(n_days,)``; on days with fewer than 100 cells, or fewer than
    500 when a ``fallback`` (per day) is given, ``fallback`` or 1.
    """
    n_days = y.shape[1]
    w = config.scale_window_days
    # A cell needs its series to cost something on w + 1 days in a row, so a series with fewer
    # positive days has none; leaving it out first is exact and makes frames of many
    # short-lived resources (a CUR file's per-request ids) cheap (session 11).
    lasting_rows = np.count_nonzero(np.nan_to_num(y) > 0, axis=1) > w
    if not lasting_rows.all():
        y, exp = y[lasting_rows], exp[lasting_rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        resid = y - exp
        ok_r = np.isfinite(resid) & (exp > 0)
        absr = np.where(ok_r, np.abs(resid), 0.0)
        s = past_sum(absr, w) / past_sum(ok_r.astype(float), w)
        positive = np.nan_to_num(y) > 0
        lasting = past_sum(positive.astype(float), w) >= w
        valid = ok_r & positive & lasting & (s > 0) & np.isfinite(s)
        u = np.where(valid, np.abs(resid) / (MEAN_ABS_TO_SIGMA * s), -np.inf)
        # A cell right after one of its series' cells beyond POOLED_RUN_CUT is left out: a
        # level shift, a drift or a mispredicted month charge is a run of such cells, noise
        # seldom is (session 13).
        valid[:, 1:] &= u[:, :-1] <= POOLED_RUN_CUT  # u is read below only where valid
    # Per day, how many valid cells lie beyond each grid point (|residual|, σ units).
    # Per cell, the grid points below u (``np.searchsorted(_GRID, u, side="left")``, so
    # u > _GRID[b - 1]), by arithmetic: the grid is k / 8, so u / step and its ceiling are
    # exact (``tests``: equal to the search on random and on-grid values).
    bins = grid_bins(u[valid])
    days = np.nonzero(valid)[1]
    width = len(_GRID) + 1
    hist = np.bincount(days * width + bins, minlength=n_days * width).reshape(n_days, width)
    beyond = hist[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # [t, k]: cells with u > _GRID[k]
    cells = past_sum(valid.sum(axis=0).astype(float), config.pool_window_days)
    over = past_sum(beyond.T, config.pool_window_days)  # (grid, n_days)
    # The tail probability whose quantile is compared: POOLED_P, or in a small pool the
    # probability that still leaves POOLED_EXCEED cells beyond it (round 5).
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.fmax(POOLED_P, POOLED_EXCEED / cells)
        rate = over / cells
    # With a fallback (the whole frame's factor, for one billing account's pool) a small pool
    # defers to the larger one rather than to a less extreme quantile of its own.
    usable = p <= (POOLED_P if fallback is not None else POOLED_P_MAX)
    factor = np.ones(n_days)
    if usable.any():
        pu = p[usable]
        q, n = _grid_quantile(rate, pu, usable), _normal_two_sided(pu)
        # Tail index 1/α (Hill, session 14) over the cells beyond the 5 p point, the data's
        # against the normal's; only full pools (p = POOLED_P) are extrapolated, and 1/α at
        # most POOLED_MAX_INV_ALPHA.
        hill = _hill(over[:, usable], rate, 5.0 * pu, usable)
        inv_alpha = np.fmin(hill, POOLED_MAX_INV_ALPHA)
        heavier = np.where(pu <= POOLED_P, np.fmax(inv_alpha - HILL_NORMAL, 0.0), 0.0)
        factor[usable] = np.fmax(q / n * POOLED_EXTRAPOLATE**heavier, 1.0)
    return np.where(usable, factor, 1.0 if fallback is None else fallback)


def grid_bins(u: np.ndarray) -> np.ndarray:
    """For values u ≥ 0, how many ``_GRID`` points lie below each (``np.searchsorted(_GRID, u,
    side="left")``), computed as ⌈u / step⌉ capped at the grid's length."""
    return np.ceil(np.minimum(u / _GRID_STEP, len(_GRID))).astype(np.int64)


def _grid_quantile(rate: np.ndarray, prob: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Per day in ``days`` (bool mask), the first grid point whose exceedance rate
    (``rate[grid, day]``) is at most ``prob`` (one per selected day): the pooled point that
    share of the cells exceed in absolute value (σ units). Past the grid's end (more than
    ``prob`` of the cells beyond 30 σ): the grid's end."""
    return _GRID[_grid_index(rate, prob, days)]


def _grid_index(rate: np.ndarray, prob: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``_grid_quantile``'s point as its index in ``_GRID``."""
    below = rate[:, days] <= prob
    return np.where(below.any(axis=0), np.argmax(below, axis=0), len(_GRID) - 1)


def _hill(over: np.ndarray, rate: np.ndarray, prob: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Hill's estimate of the tail index 1/α per selected day: the mean of ln(u / u0) over the
    pooled cells beyond u0, the grid point that a share ``prob`` of them exceed. From the
    histogram: Σ over grid steps at or beyond u0 of (mean of the cells beyond the step's two
    ends) × (its width in ln u), divided by the cells beyond u0; a cell beyond the grid's end
    (30 σ) counts as 30 σ. ``over`` is ``(grid, selected days)``; ``rate``/``days`` as for
    ``_grid_quantile``. 0 where no cell lies beyond u0."""
    start = _grid_index(rate, prob, days)  # u0's
    step = np.diff(np.log(_GRID[1:]))  # widths of grid steps 1..end (ln u; _GRID[0] is 0)
    # Trapezoids: the count falls across a step, and the step's left count alone would read
    # normal draws' index 0.19 instead of 0.17.
    widths = (over[1:-1] + over[2:]) / 2.0 * step[:, None]
    # beyond[k]: Σ over grid steps k + 1 .. end of the widths.
    beyond = np.cumsum(widths[::-1], axis=0)[::-1]
    k = np.clip(start, 1, len(step)) - 1
    cols = np.arange(over.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(over[k + 1, cols] > 0, beyond[k, cols] / over[k + 1, cols], 0.0)


def _normal_two_sided(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(1 − p/2): the point a share p of normal draws exceed in absolute value."""
    inv = NormalDist().inv_cdf
    return np.array([inv(1.0 - float(x) / 2.0) for x in p])


def account_factors(
    y: np.ndarray,
    exp: np.ndarray,
    account: np.ndarray,
    row_accounts: np.ndarray,
    config: DetectorConfig,
) -> np.ndarray:
    """Pooled factors per billing account, one row per monitor row: ``(n_rows, n_days)``.

    ``y``/``exp`` are the pooled leaves' spend and plain expected spend, ``account`` each
    pooled leaf's billing-account code (-1: none), ``row_accounts`` each monitor row's
    billing-account code, or -1 when its leaves span several accounts (or none). A frame can
    hold several organisations (billing accounts) whose noise differs; each is pooled on its
    own, so one heavy-tailed organisation does not raise every other's bound. A row spanning
    accounts, and an account with too few cells, use the whole frame's factor.
    """
    frame = pooled_factor(y, exp, config)
    per = {
        int(code): pooled_factor(y[account == code], exp[account == code], config, frame)
        for code in np.unique(account[account >= 0])
    }
    out = np.empty((len(row_accounts), y.shape[1]))
    out[:] = frame
    for code, factor in per.items():
        out[row_accounts == code] = factor
    return out
