"""The one place where rules meet the spike detector (monitor/detect/spike/).

A `spike` rule embeds the detector's `SpikeParams` in its YAML and keeps one detector state per
group, judged once per closed bucket. The bucket is always the configured detection bucket
(`detection.bucket`): the count series the rule reads are built with it.
"""

from __future__ import annotations

from datetime import timedelta

from ...store.timefmt import from_epoch
from ..spike import SeriesState, SpikeParams, SpikeResult
from ..spike import update as _update

__all__ = ["SpikeParams", "SpikeResult", "new_state", "load_state", "dump_state", "update"]


def _params(params: SpikeParams, bucket_seconds: int) -> SpikeParams:
    if int(params.bucket.total_seconds()) == bucket_seconds:
        return params
    return params.model_copy(update={"bucket": timedelta(seconds=bucket_seconds)})


def new_state(params: SpikeParams, bucket_seconds: int) -> SeriesState:
    return SeriesState(_params(params, bucket_seconds))


def load_state(blob: bytes, params: SpikeParams, bucket_seconds: int) -> SeriesState | None:
    """The stored state, or None when it no longer fits the parameters (they were edited):
    the group then starts learning afresh."""
    try:
        return SeriesState.from_bytes(blob, _params(params, bucket_seconds))
    except ValueError:
        return None


def dump_state(state: SeriesState) -> bytes:
    return state.to_bytes()


def update(state: SeriesState, bucket_start: int, count: int, distinct_authors: int | None) -> SpikeResult:
    return _update(state, from_epoch(bucket_start), count, distinct_authors)
