"""Spike detection on count series (and any numeric series), in event time.

Public API:

* `SpikeParams` — settings (a pydantic model, embedded in `spike` rules and config).
* `SeriesState` and `update(state, bucket_start, count, distinct_authors=None) -> SpikeResult`
  — one series, one bucket at a time.
* `SpikeBank.update_many(keys, bucket_start, counts, authors=None) -> SpikeBatch` — many
  series in one vectorised pass (the daemon's path).
* `SpikeResult` — expected and observed counts, anomaly score, tail p-value, `is_spike`,
  `back_to_baseline`.

No I/O and no clock: time is the bucket_start the caller passes. See docs/spikes.md.
"""

from .bank import SpikeBank, SpikeBatch, fingerprint
from .params import SpikeParams, parse_duration
from .result import SpikeResult
from .series import SeriesState, update

__all__ = [
    "SeriesState",
    "SpikeBank",
    "SpikeBatch",
    "SpikeParams",
    "SpikeResult",
    "fingerprint",
    "parse_duration",
    "update",
]
