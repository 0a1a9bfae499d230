"""Settings of the spike detector: one pydantic model, embedded in `spike` rules and in config.

Defaults suit social-post counts in 5-minute buckets. Durations accept seconds, a timedelta,
ISO 8601 ("PT5M") or a short form ("90s", "5m", "1h", "2d", "1w").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ...config.types import parse_duration as _parse_short

def parse_duration(value: object) -> object:
    """Turn "5m"-style strings into timedeltas; leave anything else for pydantic to judge (ISO 8601)."""
    if isinstance(value, str):
        try:
            return _parse_short(value)
        except ValueError:
            return value
    return value


class SpikeParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- series -----------------------------------------------------------------------------
    bucket: timedelta = Field(timedelta(minutes=5), description="Length of one bucket of the series.")
    mode: Literal["auto", "count", "value"] = Field(
        "auto",
        description="count: non-negative counts scored with a negative binomial; value: any real number "
        "scored with a normal law; auto: count until the first negative or fractional value, then value.",
    )
    direction: Literal["auto", "up", "down", "both"] = Field(
        "auto", description="Which deviations count. auto: up for counts (surges), both for values."
    )
    gaps: Literal["auto", "zero", "skip"] = Field(
        "auto",
        description="Buckets missing between two updates: zero = they had a count of 0 (learned as such); "
        "skip = no data (nothing is learned). auto: zero for counts, skip for values.",
    )
    max_gap_fill: int = Field(
        2016, ge=0, description="At most this many missing buckets are filled with zeros; older ones are skipped."
    )

    # --- baseline ---------------------------------------------------------------------------
    seasonality: Literal["auto", "none", "daily", "weekly"] = Field(
        "auto",
        description="Baselines that compete for each series: none = recent level only; daily / weekly = "
        "a time-of-day (and day-of-week) profile; auto = all three, the most accurate lately is used.",
    )
    daily_slots: int = Field(288, ge=1, le=1440, description="Time-of-day slots of the daily profile (at most one per bucket).")
    weekly_slots: int = Field(168, ge=7, le=2016, description="Slots of the weekly profile (at most one per bucket).")
    level_halflife: timedelta = Field(timedelta(days=1), description="Memory of the level under a seasonal profile.")
    fast_halflife: int | None = Field(
        None, ge=1, description="Memory of the non-seasonal baseline, in buckets. None: 72 for counts (six hours "
        "of 5-minute buckets: a surge must not become the baseline), 12 for values (metrics wander).",
    )
    season_rate: float = Field(
        0.3, gt=0, le=1, description="Weight of the newest visit of a profile slot (0.3: a half-life of about two visits)."
    )
    error_halflife: int = Field(576, ge=2, description="Memory of the error and dispersion estimates, in buckets.")
    winsorize: float = Field(
        2.5, gt=0, description="Values further than this many predictive standard deviations are clipped before "
        "they are learned, so a spike does not inflate its own baseline.",
    )
    min_expected: float = Field(0.05, gt=0, description="Floor of the expected count (a series that is always 0).")

    # --- scoring ----------------------------------------------------------------------------
    tail_quantile: float = Field(
        0.99, gt=0.5, lt=1, description="Quantile of past standardised errors used to widen the tails of a "
        "series that is more erratic than its model (heavy tails are learned, not alerted on).",
    )
    tail_halflife: int = Field(2016, ge=10, description="Memory of that tail calibration, in buckets.")
    tail_prior: float = Field(
        1.0, ge=1, le=10, description="Tail widening a new series is assumed to need until its own history says "
        "otherwise (the calibration starts with 500 buckets of such a series; 1: the law is exactly right).",
    )
    threshold: float = Field(
        5.0, gt=0, description="Evidence needed for a spike, in -log10 of a tail probability (5: p = 1e-5).",
    )
    cusum_allowance: float = Field(
        1.5, ge=0, description="Per-bucket evidence above this accumulates (CUSUM), so a moderate surge that "
        "lasts is found as well as a sudden one.",
    )
    shift_halflife: float = Field(
        12, ge=1, description="Memory of the recent mean that the mean-shift test compares with the series' "
        "long mean, in buckets (12: an hour of 5-minute buckets).",
    )
    shift_baseline_halflife: float = Field(
        864, ge=2, description="Memory of the long mean of the mean-shift test, in buckets (864: three days).",
    )
    shift_z: float = Field(
        6.0, ge=0, description="The mean-shift test is evidence enough for a spike when the recent mean is this many "
        "of its own usual standard deviations away from the long mean (0: test off).",
    )

    # --- decision ---------------------------------------------------------------------------
    min_count: float = Field(5, ge=0, description="A count spike needs at least this many posts in the bucket.")
    min_author_share: float = Field(
        0.5, ge=0, le=1, description="When distinct authors are given and authors/posts is below this share, the "
        "bucket is judged on its distinct authors only (one account posting fifty times is not an incident).",
    )
    cooldown: timedelta = Field(timedelta(hours=1), description="No new spike sooner than this after the last one.")
    warmup: timedelta = Field(timedelta(days=1), description="No spike before the series has this much history.")
    recovery_threshold: float = Field(
        1.0, ge=0, description="Evidence below this (in -log10 p) counts as a calm bucket."
    )
    recovery_buckets: int = Field(3, ge=1, description="Calm buckets in a row that end an incident (back to baseline).")
    max_freeze: timedelta = Field(
        timedelta(days=1), description="While an incident is open the error estimates stop learning, for at most "
        "this long; after it, a lasting change becomes the new normal.",
    )

    @field_validator("bucket", "level_halflife", "cooldown", "warmup", "max_freeze", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        return parse_duration(value)

    @model_validator(mode="after")
    def _positive_bucket(self) -> "SpikeParams":
        if self.bucket.total_seconds() <= 0:
            raise ValueError("bucket must be a positive duration")
        if self.level_halflife.total_seconds() <= 0:
            raise ValueError("level_halflife must be a positive duration")
        return self

    # Derived, in the units the engine uses ---------------------------------------------------
    @property
    def bucket_seconds(self) -> float:
        return self.bucket.total_seconds()

    def slots(self, period_seconds: float, wanted: int) -> int:
        """Slots of a profile: as asked, but never finer than one bucket."""
        return max(1, min(wanted, int(round(period_seconds / self.bucket_seconds))))
