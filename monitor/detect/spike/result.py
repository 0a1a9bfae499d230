"""What the detector says about one bucket of one series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SpikeResult:
    bucket_start: datetime  # aware UTC
    observed: float  # the count (or value) of the bucket
    expected: float | None  # the baseline's expectation; None while the series has no baseline yet
    anomaly_score: float  # 0..1, evidence / (evidence + threshold): 0.5 exactly at the threshold
    is_spike: bool  # a new incident starts at this bucket
    back_to_baseline: bool  # the open incident ended at this bucket (hysteresis passed)
    active: bool  # an incident is open after this bucket
    p_value: float  # tail probability of the observation under the baseline (1.0 when unscored)
    evidence: float  # max(-log10 p, CUSUM); a spike needs evidence >= threshold
    authors: int | None = None  # distinct authors of the bucket, when given
    baseline: str | None = None  # which baseline was used: "flat", "daily" or "weekly"
    mode: str = "count"  # "count" or "value"

    def describe(self, bucket_minutes: float | None = None) -> str:
        """Human summary for alerts, e.g. "42 posts in 5 minutes, usually 3"."""
        what = "posts" if self.mode == "count" else "value"
        span = f" in {bucket_minutes:g} minutes" if bucket_minutes else ""
        if self.mode == "count":
            observed = f"{self.observed:g} {what}{span}"
            usual = "no baseline yet" if self.expected is None else f"usually {_round(self.expected)}"
        else:
            observed = f"{what} {self.observed:g}{span}"
            usual = "no baseline yet" if self.expected is None else f"usually about {_round(self.expected)}"
        return f"{observed}, {usual}"


def _round(x: float) -> str:
    if abs(x) >= 10:
        return f"{x:.0f}"
    if abs(x) >= 1:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    return f"{x:.2g}"
