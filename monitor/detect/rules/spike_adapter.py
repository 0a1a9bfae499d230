"""The one place where rules meet the spike detector (monitor/detect/spike.py).

The rule engine needs four things from it: the parameters model to embed in rule YAML
(`SpikeParams`), a fresh per-series state, one update per closed bucket, and a way to store
the state as bytes. This module maps those onto the detector's API:

    SpikeParams                                   pydantic model, extra="forbid"
    new_state(params) -> state                    a fresh per-series state
    update(state, bucket_start, count, distinct_authors=None) -> SpikeResult
    dump_state(state) -> bytes / load_state(bytes, params) -> state

SpikeResult has at least: bucket_start, observed, expected, anomaly_score, is_spike,
back_to_baseline.

STAND-IN: until the real detector is merged, `monitor.detect.spike` does not exist in this
branch, and a minimal stand-in below (a Poisson tail test against a trailing mean) keeps the
spike rule type working for tests. DELETE the stand-in when merging the real detector, and
adjust the five names above to its API if they differ.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("monitor.detect.spike") is not None:  # the real detector
    from ..spike import SpikeParams, SpikeResult, dump_state, load_state, new_state, update  # noqa: F401

    STANDIN = False
else:  # ---- STAND-IN (delete on merge) ---------------------------------------------------
    import json
    import math
    from dataclasses import dataclass, field

    from pydantic import BaseModel, ConfigDict, Field

    STANDIN = True

    class SpikeParams(BaseModel):  # type: ignore[no-redef]
        """Stand-in parameters (the real detector defines its own)."""

        model_config = ConfigDict(extra="forbid")
        history: int = Field(288, ge=4, description="trailing buckets that make the baseline")
        min_history: int = Field(12, ge=1, description="buckets of history before anything can fire")
        min_count: int = Field(5, ge=1, description="a spike needs at least this many posts in the bucket")
        p_value: float = Field(1e-4, gt=0, lt=1, description="tail probability below which a count is a spike")
        min_author_share: float = Field(0.3, ge=0, le=1, description="distinct authors / posts needed")

    @dataclass
    class SpikeResult:  # type: ignore[no-redef]
        bucket_start: int
        observed: int
        expected: float
        anomaly_score: float
        is_spike: bool
        back_to_baseline: bool

    @dataclass
    class _State:
        params: dict
        counts: list[int] = field(default_factory=list)
        in_spike: bool = False

    def new_state(params: SpikeParams) -> _State:  # type: ignore[no-redef]
        return _State(params.model_dump())

    def dump_state(state: _State) -> bytes:  # type: ignore[no-redef]
        return json.dumps({"counts": state.counts, "in_spike": state.in_spike}).encode()

    def load_state(blob: bytes, params: SpikeParams) -> _State:  # type: ignore[no-redef]
        data = json.loads(blob)
        return _State(params.model_dump(), data["counts"], data["in_spike"])

    def _poisson_sf(k: int, lam: float) -> float:
        """P(X >= k) for X ~ Poisson(lam)."""
        if k <= 0:
            return 1.0
        term = total = math.exp(-lam)
        for i in range(1, k):
            term *= lam / i
            total += term
        return max(0.0, 1.0 - total)

    def update(state: _State, bucket_start: int, count: int,  # type: ignore[no-redef]
               distinct_authors: int | None = None) -> SpikeResult:
        p = SpikeParams(**state.params)
        history = state.counts[-p.history:]
        expected = max(sum(history) / len(history), 0.5) if history else 0.5
        sf = _poisson_sf(count, expected)
        authors_ok = distinct_authors is None or count == 0 or distinct_authors >= p.min_author_share * count
        is_spike = (len(history) >= p.min_history and count >= p.min_count and sf < p.p_value and authors_ok)
        back = state.in_spike and not is_spike and count <= expected + 2 * math.sqrt(expected)
        if is_spike:
            state.in_spike = True
        elif back:
            state.in_spike = False
        if not is_spike:  # keep spikes out of the baseline
            state.counts = (history + [count])[-p.history:]
        return SpikeResult(bucket_start, count, round(expected, 3), round(1.0 - sf, 6), is_spike, back)
