"""One series at a time: `SeriesState` plus `update()`.

    state = SeriesState(params)
    result = update(state, bucket_start, count, distinct_authors)
    blob = state.to_bytes()                      # persist between passes
    state = SeriesState.from_bytes(blob, params)  # the same detector, later or elsewhere

The state is one row of the struct-of-arrays a `SpikeBank` holds, and both paths run the same
step function (engine.py): here on plain Python numbers, which for one series is many times
faster than numpy on one-element arrays. The numbers live in a dict while the series is being
updated and go back into the row whenever the state is read as a whole (`to_bytes`, a bank).
"""

from __future__ import annotations

import math
from array import array
from datetime import datetime

import numpy as np

from ...models import utc
from .engine import StepOutput, engine_for
from .params import SpikeParams
from .result import SpikeResult
from .state import PREDICTOR_NAMES, PROFILE_FIELDS, Layout, Store


_TYPECODES = {"<f4": "f", "|u1": "B"}


class SeriesState:
    """Detector memory of one series: fixed size, serialisable, no history kept."""

    def __init__(self, params: SpikeParams | None = None, *, _store: Store | None = None) -> None:
        self.params = params or SpikeParams()
        self.engine = engine_for(self.params)
        layout = self.engine.layout
        if _store is None:
            _store = Store(layout, capacity=1)
            _store.add_rows(1)
        self._row = _store
        self._numbers: dict | None = None  # the row as Python numbers while updates run

    @property
    def _store(self) -> Store:
        """The state as one row of arrays (what a bank holds and what is persisted)."""
        if self._numbers is not None:
            for name, arr in self._row.arrays.items():
                value = self._numbers[name]
                arr[0] = np.frombuffer(value, dtype=arr.dtype) if name in PROFILE_FIELDS else value
            self._numbers = None
        return self._row

    def numbers(self) -> dict:
        """The row as Python numbers for `Engine.advance_one`: scalars, lists, and the float32 and
        uint8 profiles as `array.array`s (their items read and write as Python numbers, rounded
        to the stored type like the bank's rows)."""
        if self._numbers is None:
            self._numbers = {
                name: array(_TYPECODES[arr.dtype.str], arr[0].tobytes()) if name in PROFILE_FIELDS else arr[0].tolist()
                for name, arr in self._row.arrays.items()
            }
        return self._numbers

    @property
    def buckets_seen(self) -> int:
        return int(self.numbers()["n_seen"])

    @property
    def active(self) -> bool:
        """An incident is open (spiked and not yet back to baseline)."""
        return bool(self.numbers()["active"])

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
        return sum(arr[:1].nbytes for arr in self._row.arrays.values())


def update(state: SeriesState, bucket_start: datetime, count: float, distinct_authors: int | None = None) -> SpikeResult:
    """Feed one closed bucket of the series and say whether it spikes.

    Buckets must come in time order, each once. The result uses only this bucket and earlier ones.
    """
    when = utc(bucket_start)
    value = float(count)
    if not math.isfinite(value):
        raise ValueError(f"count must be a finite number, got {count!r}")
    authors = math.nan if distinct_authors is None else float(distinct_authors)
    out = state.engine.advance_one(state.numbers(), when.timestamp(), value, authors)
    return to_result(out, None, when, value, distinct_authors, state.params)


def to_result(
    out: StepOutput, i: int | None, when: datetime, value: float, authors: int | None, params: SpikeParams
) -> SpikeResult:
    """The result of series `i` of a bank's step, or of a one-series step (i None: scalars)."""
    pick = (lambda x: x) if i is None else (lambda x: x[i])
    evidence = float(pick(out.evidence))
    scored = bool(pick(out.scored))
    return SpikeResult(
        bucket_start=when,
        observed=value,
        expected=float(pick(out.expected)) if scored else None,
        anomaly_score=evidence / (evidence + params.threshold),
        is_spike=bool(pick(out.is_spike)),
        back_to_baseline=bool(pick(out.back_to_baseline)),
        active=bool(pick(out.active)),
        p_value=10.0 ** float(pick(out.log10_p)),
        evidence=evidence,
        authors=None if authors is None else int(authors),
        baseline=PREDICTOR_NAMES[int(pick(out.predictor))] if scored else None,
        mode="count" if pick(out.is_count) else "value",
    )
