"""Tuning knobs of the seed detector, with the defaults it ships with.

Money thresholds are in the data's billing currency, which ``costguard scan`` requires to be one
currency per run (the contract calls them USD because that is what the bundled data uses).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from costguard_core.models import Severity

#: Monitor dimensions besides total spend, most specific first (the order breaks ties when two
#: monitors explain an incident equally well).
MONITOR_COLUMNS: tuple[str, ...] = ("ServiceName", "SubAccountId", "ProviderName")

#: Columns that name one root-cause leaf.
LEAF_COLUMNS: tuple[str, ...] = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "RegionId",
    "ResourceId",
)


def _default_tiers() -> dict[Severity, float]:
    return {"medium": 100.0, "high": 1_000.0, "critical": 10_000.0}


class DetectorConfig(BaseModel):
    """Thresholds and windows of the seasonal robust baseline (see ``detect``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_impact_usd: float = Field(
        default=10.0,
        ge=0,
        title="Minimum daily excess (USD)",
        description="A day is anomalous only if actual − expected is at least this many USD.",
    )
    min_impact_pct: float = Field(
        default=0.25,
        ge=0,
        title="Minimum daily excess (fraction of expected)",
        description="… and at least this fraction of the expected spend (0.25 = 25 %; a leaf "
        "monitor's is the smaller of its service's and its account's expected spend).",
    )
    combine: Literal["and", "or"] = Field(
        default="and",
        title="How the USD and percent thresholds combine",
        description="'and': both must hold (fewer, larger alerts); 'or': either is enough.",
    )
    z_threshold: float = Field(
        default=4.0,
        gt=0,
        title="Robust z bound",
        description="The excess must also exceed this many robust standard deviations (1.4826 × "
        "MAD of the monitor's residuals over the scale window). The two-day rule asks 1.25 × "
        "this on the first day and 0.75 × this on the second (baseline.TWO_DAY_FIRST/_SECOND).",
    )
    season_weeks: int = Field(
        default=4,
        ge=2,
        le=12,
        title="Weekday history (weeks)",
        description="The weekday model's expected spend is the median of the same weekday over "
        "this many past weeks; per day the detector uses it or the trailing-7-day median, "
        "whichever fitted the recent past better (see baseline.baseline).",
    )
    min_history_days: int = Field(
        default=21,
        ge=7,
        title="Days of history before judging",
        description="A monitor's days are judged only once it has this many earlier days. The "
        "weekday model needs two weeks before its first residual; 21 gives it a week of "
        "residuals to be compared with the trailing model on, so weekly cycles are not flagged. "
        "A series first costing at least this many days into the data is new: on its first "
        "this-many days its whole spend is excess, flagged when it passes the thresholds two "
        "days running (see tails.new_spend).",
    )
    drift_window_days: int = Field(
        default=7,
        ge=3,
        le=28,
        title="Drift window (days)",
        description="A slow rise is judged on the mean excess of this many latest days.",
    )
    drift_z: float = Field(
        default=2.5,
        gt=0,
        title="Drift bound",
        description="The window's mean excess must exceed this many robust standard deviations "
        "of the residuals as they were before the window (and pass the USD/percent thresholds).",
    )
    cooldown_days: int = Field(
        default=7,
        ge=0,
        le=60,
        title="Same-incident gap (days)",
        description="A run whose driver leaves meet those of an anomaly that ended at most this "
        "many days earlier is the same incident flaring again, not a new anomaly.",
    )
    scale_window_days: int = Field(
        default=28,
        ge=7,
        title="Residual window (days)",
        description="Trailing days whose residuals (actual − expected) give the robust scale.",
    )
    min_scale_points: int = Field(
        default=5,
        ge=3,
        title="Residuals needed for a scale",
        description="Days are not judged until the scale window holds this many residuals.",
    )
    single_day_z: float = Field(
        default=7.0,
        gt=0,
        title="Single-day bound",
        description="A rise seen on one day only must exceed this robust z times the frame's "
        "pooled tail factor (≥ 1, from both tails of all its series' residuals; see "
        "pooled.py), and the series' own tail bound; a rise past 1.25 × z_threshold on one "
        "day and 0.75 × z_threshold on the next is flagged on the second. On a monitor "
        "summing leaves, a rise flagged on this bound alone also needs one leaf past it "
        "against its own baseline.",
    )
    tail_window_days: int = Field(
        default=56,
        ge=14,
        le=182,
        title="Tail window (days)",
        description="Days of past standardized residuals whose 95th percentile sets how far a "
        "single day must exceed the bound on a heavy-tailed series (see baseline.tail_bound); "
        "also the on/off (batch job) window, doubled when it holds fewer than 3 runs.",
    )
    pool_window_days: int = Field(
        default=112,
        ge=28,
        le=364,
        title="Pooled tail window (days)",
        description="Days of all lasting leaves' past residuals pooled to measure how heavy the "
        "frame's (or billing account's) noise tail is: the factor single_day_z is multiplied "
        "by (see pooled.py). Longer pools hold more cells, so one incident or a few "
        "mispredicted days move the measured tail less, but a frame-wide jump raises the "
        "bound for longer.",
    )
    min_tail_points: int = Field(
        default=14,
        ge=5,
        title="Residuals needed for the tail bound",
        description="Below this many past standardized residuals the plain z bound applies.",
    )
    rel_scale_floor: float = Field(
        default=0.05,
        ge=0,
        title="Scale floor (fraction of expected)",
        description="The scale is at least this fraction of expected spend, so perfectly regular "
        "(synthetic) series do not turn every cent into an infinite z.",
    )
    abs_scale_floor_usd: float = Field(
        default=0.01,
        gt=0,
        title="Scale floor (USD)",
        description="Absolute lower bound of the scale.",
    )
    explain_fraction: float = Field(
        default=0.8,
        gt=0,
        le=1,
        title="Share a specific monitor must explain",
        description="When monitors flag the same incident, the most specific one whose start-day "
        "excess is at least this share of the broadest one's is kept.",
    )
    leaf_explain_min: float = Field(
        default=0.5,
        ge=0,
        le=1,
        title="Share of a rise its leaves must explain",
        description="A monitor's start-day excess is an anomaly only if the positive excess of "
        "its leaves, each against its own baseline, is at least this share of it; and a new "
        "leaf's spend is new spend only if what is left of it after the spend of the resources "
        "it replaced (churn.replaced_spend) is at least this share of it.",
    )
    driver_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        title="Driver coverage",
        description="An anomaly's driver leaves are its top leaves covering this share of the "
        "start-day positive excess; anomalies whose drivers intersect are one incident.",
    )
    severity_tiers_usd: dict[Severity, float] = Field(
        default_factory=_default_tiers,
        title="Severity tiers (USD impact)",
        description="Lower bound of summed impact for each severity above 'low'.",
    )
    max_root_causes: int = Field(default=10, ge=1, le=10, title="Root causes reported per anomaly")

    @model_validator(mode="after")
    def _tiers_ascend(self) -> DetectorConfig:
        tiers = self.severity_tiers_usd
        if set(tiers) != {"medium", "high", "critical"}:
            raise ValueError("severity_tiers_usd needs exactly medium, high and critical")
        if not tiers["medium"] <= tiers["high"] <= tiers["critical"]:
            raise ValueError("severity_tiers_usd must ascend: medium <= high <= critical")
        return self

    def severity(self, impact_usd: float) -> Severity:
        """Severity of a summed impact: the highest tier whose lower bound it reaches."""
        for name in ("critical", "high", "medium"):
            if impact_usd >= self.severity_tiers_usd[name]:
                return name
        return "low"
