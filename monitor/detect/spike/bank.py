"""Many series at once: the daemon's detection pass over every live group.

    bank = SpikeBank(params)
    batch = bank.update_many(keys, bucket_start, counts, authors)   # one bucket, N series
    for r in batch.spikes(): ...                                     # SpikeResults that spiked
    blob = bank.to_bytes(); bank = SpikeBank.from_bytes(blob, params)

One numpy pass handles all the keys given, so 10,000 series take milliseconds. Pass every known
series each bucket (a count of 0 where nothing was posted) so that quiet series stay current;
a series left out is caught up on its next update according to `params.gaps`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Sequence

import numpy as np

from ...models import utc
from .engine import StepOutput, engine_for
from .params import SpikeParams
from .result import SpikeResult
from .series import SeriesState, to_result
from .state import Layout, Store


@dataclass
class SpikeBatch:
    """Columnar results of one `update_many` call, aligned with the keys passed in."""

    keys: list[str]
    bucket_start: datetime
    observed: np.ndarray
    authors: np.ndarray  # NaN where not given
    out: StepOutput
    params: SpikeParams

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def is_spike(self) -> np.ndarray:
        return self.out.is_spike

    @property
    def back_to_baseline(self) -> np.ndarray:
        return self.out.back_to_baseline

    @property
    def expected(self) -> np.ndarray:
        return self.out.expected

    @property
    def anomaly_score(self) -> np.ndarray:
        return self.out.evidence / (self.out.evidence + self.params.threshold)

    def result(self, i: int) -> SpikeResult:
        a = self.authors[i]
        return to_result(
            self.out, i, self.bucket_start, float(self.observed[i]), None if np.isnan(a) else int(a), self.params
        )

    def __iter__(self) -> Iterator[tuple[str, SpikeResult]]:
        for i, key in enumerate(self.keys):
            yield key, self.result(i)

    def spikes(self) -> list[tuple[str, SpikeResult]]:
        return [(self.keys[i], self.result(i)) for i in np.flatnonzero(self.out.is_spike)]

    def recoveries(self) -> list[tuple[str, SpikeResult]]:
        return [(self.keys[i], self.result(i)) for i in np.flatnonzero(self.out.back_to_baseline)]


class SpikeBank:
    """Detector state of many series in shared arrays; memory grows with the series, not with time."""

    def __init__(self, params: SpikeParams | None = None, *, _store: Store | None = None, _keys: Sequence[str] = ()) -> None:
        self.params = params or SpikeParams()
        self.engine = engine_for(self.params)
        layout = self.engine.layout
        self._store = _store or Store(layout)
        self._rows: dict[str, int] = {key: i for i, key in enumerate(_keys)}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def keys(self) -> list[str]:
        return list(self._rows)

    def rows_for(self, keys: Sequence[str]) -> np.ndarray:
        missing = [k for k in keys if k not in self._rows]
        if missing:
            new_rows = self._store.add_rows(len(missing))
            for key, row in zip(missing, new_rows):
                self._rows[key] = int(row)
        return np.fromiter((self._rows[k] for k in keys), dtype=np.int64, count=len(keys))

    def update_many(
        self,
        keys: Sequence[str],
        bucket_start: datetime,
        counts: Sequence[float] | np.ndarray,
        authors: Sequence[int | None] | np.ndarray | None = None,
    ) -> SpikeBatch:
        """Feed one closed bucket for each key (new keys start a fresh series)."""
        keys = list(keys)
        if len(set(keys)) != len(keys):
            raise ValueError("update_many got the same key twice")
        y = np.asarray(counts, dtype=float).reshape(-1)
        if len(y) != len(keys):
            raise ValueError(f"{len(keys)} keys but {len(y)} counts")
        if not np.all(np.isfinite(y)):
            raise ValueError("counts must be finite numbers")
        if authors is None:
            a = np.full(len(keys), np.nan)
        else:
            a = np.array([np.nan if x is None else float(x) for x in authors], dtype=float)
            if len(a) != len(keys):
                raise ValueError(f"{len(keys)} keys but {len(a)} author counts")
        when = utc(bucket_start)
        rows = self.rows_for(keys)
        whole = len(rows) == self._store.size == self._store.capacity and np.array_equal(rows, np.arange(len(rows)))
        s = self._store.arrays if whole else self._store.take(rows)
        out = self.engine.advance(s, when.timestamp(), y, a)
        if not whole:
            self._store.put(rows, s)
        return SpikeBatch(keys, when, y, a, out, self.params)

    # --- per-series access --------------------------------------------------------------
    def get_state(self, key: str) -> SeriesState:
        """A copy of one series' state (for inspection or to persist one series)."""
        row = np.array([self._rows[key]])
        store = Store(self._store.layout, capacity=1)
        store.add_rows(1)
        store.put(np.array([0]), self._store.take(row))
        return SeriesState(self.params, _store=store)

    def put_state(self, key: str, state: SeriesState) -> None:
        rows = self.rows_for([key])
        self._store.put(rows, state._store.take(np.array([0])))

    def remove(self, keys: Sequence[str]) -> None:
        """Forget series (e.g. groups that no longer exist); the remaining rows are compacted."""
        drop = set(keys)
        kept = [k for k in self._rows if k not in drop]
        rows = np.array([self._rows[k] for k in kept], dtype=np.int64)
        store = Store(self._store.layout, capacity=max(len(kept), 1))
        new_rows = store.add_rows(len(kept))
        if len(kept):
            store.put(new_rows, self._store.take(rows))
        self._store = store
        self._rows = {k: i for i, k in enumerate(kept)}

    # --- persistence ----------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        keys = sorted(self._rows, key=self._rows.__getitem__)
        return self._store.dump(extra={"keys": keys})

    @classmethod
    def from_bytes(cls, data: bytes, params: SpikeParams | None = None) -> "SpikeBank":
        params = params or SpikeParams()
        store, header = Store.load(data, Layout.for_params(params))
        keys = header.get("keys", [])
        if len(keys) != header["rows"]:
            raise ValueError("spike bank state: keys do not match rows")
        return cls(params, _store=store, _keys=keys)

    @property
    def nbytes(self) -> int:
        return sum(arr[: self._store.size].nbytes for arr in self._store.arrays.values())


def fingerprint(params: SpikeParams) -> str:
    """Stable text of the settings, to store next to persisted state (a change means: rebuild)."""
    return json.dumps(params.model_dump(mode="json"), sort_keys=True)


__all__ = ["SpikeBank", "SpikeBatch", "fingerprint"]
