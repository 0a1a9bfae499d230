"""One series at a time: `SeriesState` plus `update()`.

    state = SeriesState(params)
    result = update(state, bucket_start, count, distinct_authors)
    blob = state.to_bytes()                      # persist between passes
    state = SeriesState.from_bytes(blob, params)  # the same detector, later or elsewhere

The state is one row of the struct-of-arrays a `SpikeBank` holds, so both paths run the same code.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from ...models import utc
from .engine import Engine, StepOutput
from .params import SpikeParams
from .result import SpikeResult
from .state import PREDICTOR_NAMES, Layout, Store


class SeriesState:
    """Detector memory of one series: fixed size, serialisable, no history kept."""

    def __init__(self, params: SpikeParams | None = None, *, _store: Store | None = None) -> None:
        self.params = params or SpikeParams()
        layout = Layout.for_params(self.params)
        self.engine = Engine(self.params, layout)
        if _store is None:
            _store = Store(layout, capacity=1)
            _store.add_rows(1)
        self._store = _store

    @property
    def buckets_seen(self) -> int:
        return int(self._store.arrays["n_seen"][0])

    @property
    def active(self) -> bool:
        """An incident is open (spiked and not yet back to baseline)."""
        return bool(self._store.arrays["active"][0])

    def to_bytes(self) -> bytes:
        return self._store.dump()

    @classmethod
    def from_bytes(cls, data: bytes, params: SpikeParams | None = None) -> "SeriesState":
        params = params or SpikeParams()
        store, header = Store.load(data, Layout.for_params(params))
        if header["rows"] != 1:
            raise ValueError(f"expected the state of one series, got {header['rows']} rows")
        return cls(params, _store=store)

    @property
    def nbytes(self) -> int:
        return sum(arr[:1].nbytes for arr in self._store.arrays.values())


def update(state: SeriesState, bucket_start: datetime, count: float, distinct_authors: int | None = None) -> SpikeResult:
    """Feed one closed bucket of the series and say whether it spikes.

    Buckets must come in time order, each once. The result uses only this bucket and earlier ones.
    """
    when = utc(bucket_start)
    value = float(count)
    if not math.isfinite(value):
        raise ValueError(f"count must be a finite number, got {count!r}")
    authors = np.array([np.nan if distinct_authors is None else float(distinct_authors)])
    # the store holds exactly this one row, so the engine works on its arrays directly
    out = state.engine.advance(state._store.arrays, when.timestamp(), np.array([value]), authors)
    return to_result(out, 0, when, value, distinct_authors, state.params)


def to_result(
    out: StepOutput, i: int, when: datetime, value: float, authors: int | None, params: SpikeParams
) -> SpikeResult:
    evidence = float(out.evidence[i])
    scored = bool(out.scored[i])
    return SpikeResult(
        bucket_start=when,
        observed=value,
        expected=float(out.expected[i]) if scored else None,
        anomaly_score=evidence / (evidence + params.threshold),
        is_spike=bool(out.is_spike[i]),
        back_to_baseline=bool(out.back_to_baseline[i]),
        active=bool(out.active[i]),
        p_value=float(10.0 ** out.log10_p[i]),
        evidence=evidence,
        authors=None if authors is None else int(authors),
        baseline=PREDICTOR_NAMES[int(out.predictor[i])] if scored else None,
        mode="count" if out.is_count[i] else "value",
    )
