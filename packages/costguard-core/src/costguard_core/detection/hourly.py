"""Hourly detection: raise a day's anomaly at the hour its data shows it, not after the day closes.

**Day-so-far series.** For a checkpoint hour h (0..23, UTC) every day D of every monitor gets the
value ``S_h[D]`` = its spend from 00:00 to the end of hour h of D. ``S_h`` is a daily series like
any other, so the daily detector (``detect``) judges it unchanged: its expected value is the
median of the same weekday's ``S_h`` over the last weeks — the *hour-of-week* profile (a Saturday
02:00–06:00 is compared with earlier Saturdays' 02:00–06:00, never with a Tuesday's) — and its
scale, tail bound, two-day confirmation, drift test, monitors, thresholds, feedback and root
causes all apply as they do to whole days. ``S_23`` is the daily series itself, so at midnight the
hourly path reaches the daily detector's verdict.

**When an anomaly is raised.** An anomaly of ``S_h`` starting on D is raised at
``D + (h + 1) hours``, the moment hour h's data is complete. Checkpoints are visited in order of
that moment; the first raise of an incident gives its ``id`` and ``detected_at``. A later raise
(another checkpoint, or a later start day as an early hour sees the incident only the next day)
is the same incident when its top leaves (``feedback.top_leaves``) meet those of a raised one
that starts no later and is still flagged, or ended at most ``cooldown_days`` before it; its
figures (the fullest view of the first raise's start day: the latest checkpoint on that day)
replace the first raise's, its id and ``detected_at`` do not change.

**Partial last day.** When the data ends at hour H of its last day, checkpoints after H leave
that day out (its spend to hour h is not known yet), so a day in progress is judged on the hours
it has. Nothing reads a later hour: ``S_h[D]`` uses hours up to h of D and whole earlier days.

**Money.** Negative rows (credits, refunds) are left out before hours are summed, as in
``detect``; thresholds keep their daily meaning and apply to the day-so-far excess (10 USD means
10 USD above the same weekday's spend to that hour).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from pydantic import Field

from costguard_core.detection.config import LEAF_COLUMNS, DetectorConfig
from costguard_core.detection.detector import detect
from costguard_core.detection.feedback import top_leaves
from costguard_core.detection.monitors import MonitorsConfig
from costguard_core.errors import InputError
from costguard_core.models import AnomalyCreate, FeedbackItem

#: Every hour of the day (UTC).
ALL_HOURS: tuple[int, ...] = tuple(range(24))


class HourlyAnomaly(AnomalyCreate):
    """An anomaly found on hourly data: ``detected_at`` is the UTC moment it was first raised
    (the end of the checkpoint hour whose data showed it); ``start``/``end`` stay UTC days."""

    detected_at: datetime
    checkpoint_hour: int = Field(ge=0, le=23, description="Hour (UTC) of the first raise.")


def _hours(column: pd.Series) -> pd.Series:
    try:
        stamps = pd.to_datetime(column, utc=True)
    except (ValueError, TypeError) as err:
        raise InputError(f"not a timestamp: {err}", field="ChargePeriodStart") from None
    return stamps.dt.tz_localize(None).dt.floor("h")


def day_so_far(
    frame: pd.DataFrame, cost_column: str = "EffectiveCost"
) -> tuple[pd.DataFrame, np.ndarray, pd.Timestamp]:
    """The leaf-day table of an hourly frame and its cumulative spend per checkpoint hour.

    Returns ``(keys, cumulative, last_hour)``: ``keys`` has one row per leaf and UTC day
    (``ChargePeriodStart`` at midnight, the leaf columns, ``Tags`` and ``BillingCurrency`` when
    present), ``cumulative`` is ``(len(keys), 24)`` floats — spend from 00:00 through hour h
    (USD, negative rows left out) — and ``last_hour`` the data's latest hour. Raises
    ``InputError`` on a missing column or a non-numeric cost.
    """
    missing = [c for c in ("ChargePeriodStart", cost_column, *LEAF_COLUMNS) if c not in frame]
    if missing:
        raise InputError(f"hourly frame lacks column(s) {', '.join(missing)}")
    if frame.empty:
        raise InputError("hourly frame has no rows")
    hours = _hours(frame["ChargePeriodStart"])
    cost = pd.to_numeric(frame[cost_column], errors="coerce").astype(float)
    bad = np.flatnonzero(~np.isfinite(cost.to_numpy(dtype=float)))
    if bad.size:
        raise InputError(
            f"frame position {int(bad[0])}: not a number: {frame[cost_column].iloc[bad[0]]!r}",
            field=cost_column,
        )
    dims = [c for c in (*LEAF_COLUMNS, "Tags", "BillingCurrency") if c in frame]
    table = frame[dims].copy()
    table["ChargePeriodStart"] = hours.dt.floor("D").to_numpy()
    table["_hour"] = hours.dt.hour.to_numpy()
    table["_cost"] = cost.clip(lower=0.0).to_numpy()  # credits are left out, as in detect
    keys = ["ChargePeriodStart", *dims]
    grouped = table.groupby(keys, dropna=False, sort=True)
    group = grouped.ngroup().to_numpy()
    per_hour = np.zeros((grouped.ngroups, 24))
    np.add.at(per_hour, (group, table["_hour"].to_numpy()), table["_cost"].to_numpy())
    index = grouped.size().index.to_frame(index=False)
    index = index.astype(object).where(index.notna(), None)
    index["ChargePeriodStart"] = pd.to_datetime(index["ChargePeriodStart"])
    return index, np.cumsum(per_hour, axis=1), hours.max()


def _same_incident(a: HourlyAnomaly, b: AnomalyCreate, cooldown_days: int) -> bool:
    if not top_leaves(a.root_causes) & top_leaves(b.root_causes):
        return False
    return a.start <= b.start <= a.end + timedelta(days=cooldown_days)


def _raised(
    keys: pd.DataFrame,
    cumulative: np.ndarray,
    last: pd.Timestamp,
    checkpoints: Iterable[int],
    cost_column: str,
    run,
) -> list[tuple[datetime, int, AnomalyCreate]]:
    out = []
    last_day = last.floor("D")
    previous: list[AnomalyCreate] = []
    for h in sorted(set(checkpoints)):
        daily = keys.copy()
        daily[cost_column] = cumulative[:, h]
        if h > last.hour:  # the last day's spend to hour h is not known yet
            daily = daily[daily["ChargePeriodStart"] < last_day]
        if daily.empty:
            continue
        found = run(daily)
        for a in found:
            # Before the day closes a raise needs the previous checkpoint to show the same
            # rise on the same day: one noisy hour is not an incident.
            if h != 23 and not any(
                p.start == a.start and top_leaves(p.root_causes) & top_leaves(a.root_causes)
                for p in previous
            ):
                continue
            at = datetime.combine(a.start, datetime.min.time()) + timedelta(hours=h + 1)
            out.append((at, h, a))
        previous = found
    out.sort(key=lambda item: (item[0], -item[2].impact_usd, item[2].id))
    return out


def detect_hourly(
    frame: pd.DataFrame,
    *,
    since: date | None = None,
    cost_column: str = "EffectiveCost",
    config: DetectorConfig | None = None,
    monitors: MonitorsConfig | None = None,
    feedback: Sequence[FeedbackItem] = (),
    checkpoints: Sequence[int] = ALL_HOURS,
) -> list[HourlyAnomaly]:
    """Cost increases in a FOCUS hourly frame, each raised at the first checkpoint hour that
    shows it; one ``HourlyAnomaly`` per incident, ordered by ``detected_at``.

    ``frame`` is as ``detect`` takes it, with ``ChargePeriodStart`` a UTC timestamp (any time of
    day; rows are summed per hour). ``checkpoints``: hours of the day (UTC, 0..23) at which the
    day so far is judged; 23 (the whole day) is always added. The other arguments are
    ``detect``'s, applied at every checkpoint. Raises ``InputError`` as ``detect`` does, and on
    a checkpoint outside 0..23.
    """
    config = config or DetectorConfig()
    bad = [h for h in checkpoints if not 0 <= int(h) <= 23]
    if bad:
        raise InputError(f"checkpoint hours must be 0..23, got {bad}", field="checkpoints")
    keys, cumulative, last = day_so_far(frame, cost_column)

    def run(daily: pd.DataFrame) -> list[AnomalyCreate]:
        return detect(
            daily,
            since=since,
            cost_column=cost_column,
            config=config,
            monitors=monitors,
            feedback=feedback,
        )

    hours = {int(h) for h in checkpoints} | {23}
    incidents: list[tuple[HourlyAnomaly, int]] = []  # (first raise, checkpoint of its figures)
    for at, h, a in _raised(keys, cumulative, last, hours, cost_column, run):
        same = next(
            (i for i, (k, _) in enumerate(incidents) if _same_incident(k, a, config.cooldown_days)),
            None,
        )
        if same is None:
            incidents.append(
                (HourlyAnomaly(**a.model_dump(), detected_at=at, checkpoint_hour=h), h)
            )
            continue
        first, seen_h = incidents[same]
        if a.start == first.start and h > seen_h:  # a fuller view of the same start day
            figures = a.model_dump(exclude={"id"})
            update = HourlyAnomaly(
                **figures,
                id=first.id,
                detected_at=first.detected_at,
                checkpoint_hour=first.checkpoint_hour,
            )
            incidents[same] = (update, h)
    return [k for k, _ in incidents]
