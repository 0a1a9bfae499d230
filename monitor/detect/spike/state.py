"""Struct-of-arrays storage of detector state: one row per series, a fixed size per row.

Memory grows with the number of series, never with history: a row holds a few dozen scalars,
the daily and weekly profiles and a small histogram (about 3 KB with the default slots).
The same layout backs a single series (one row) and a bank of many.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

import numpy as np

from .params import SpikeParams

FORMAT_VERSION = 2
DAY = 86400.0
WEEK = 7 * DAY
N_PRED = 3  # baselines that compete: 0 = recent level (flat), 1 = daily profile, 2 = weekly profile
FLAT, DAILY, WEEKLY = 0, 1, 2
PREDICTOR_NAMES = ("flat", "daily", "weekly")
CALIB_BINS = 64  # surprise (-log10 p) from 0 to 16 in quarter steps; the last bin takes anything above
CALIB_WIDTH = 0.25
# The histogram starts with the weight of 500 buckets of a calibrated series, P(surprise >= u) =
# 10^-u, so that a young series is not judged on a handful of its own buckets.
_edges = np.arange(CALIB_BINS + 1) * CALIB_WIDTH
CALIB_PRIOR = 500.0 * (10.0 ** -_edges[:-1] - np.append(10.0 ** -_edges[1:-1], 0.0))
MAX_VISITS = 255
# per-series arrays that a one-series update reads and writes one slot of, in place
PROFILE_FIELDS = frozenset({"daily", "daily_visits", "weekly", "weekly_visits"})
_MAGIC = b"SPK1"


@dataclass(frozen=True)
class Layout:
    daily_slots: int
    weekly_slots: int

    @classmethod
    def for_params(cls, params: SpikeParams) -> "Layout":
        return cls(params.slots(DAY, params.daily_slots), params.slots(WEEK, params.weekly_slots))

    def fields(self) -> dict[str, tuple[tuple[int, ...], str, float]]:
        """name -> (shape of one row, dtype, initial value)."""
        nan = float("nan")
        return {
            "n_seen": ((), "i8", 0),
            "t_first": ((), "f8", nan),
            "t_last": ((), "f8", nan),
            "is_count": ((), "?", True),
            "magnitude": ((), "f8", 0.0),  # running mean of |value|: floor for the scale of flat series
            "level": ((N_PRED,), "f8", 0.0),
            # running means (bias-corrected: divide by err_weight) of each baseline's winsorised
            # squared error, and of mu and mu² (for the dispersion of counts)
            "err_weight": ((N_PRED,), "f8", 0.0),
            "sq_err": ((N_PRED,), "f8", 0.0),
            "mean_mu": ((N_PRED,), "f8", 0.0),
            "mean_mu2": ((N_PRED,), "f8", 0.0),
            "tau": ((), "f8", 1.0),  # tail widening learned from the calibration histogram
            # histogram of the series' own surprise: a bucket adds calib_w, which grows by 1/decay per
            # bucket learned instead of every bin shrinking (the same decayed histogram, up to scale)
            "calib": ((CALIB_BINS,), "f8", CALIB_PRIOR),
            "calib_w": ((), "f8", 1.0),
            "calib_total": ((), "f8", float(CALIB_PRIOR.sum())),
            "daily": ((self.daily_slots,), "f4", 0.0),
            "daily_visits": ((self.daily_slots,), "u1", 0),
            "weekly": ((self.weekly_slots,), "f4", 0.0),
            "weekly_visits": ((self.weekly_slots,), "u1", 0),
            "cusum_up": ((), "f8", 0.0),
            "cusum0": ((), "f8", 0.0),  # the same CUSUM without calibration, which the calibration learns from
            "cusum_down": ((), "f8", 0.0),
            "active": ((), "?", False),
            "last_onset": ((), "f8", -np.inf),
            "calm": ((), "i8", 0),
        }


class Store:
    """Named arrays with a leading row axis; rows are added at the end and never move."""

    def __init__(self, layout: Layout, capacity: int = 0) -> None:
        self.layout = layout
        self.size = 0
        self.arrays: dict[str, np.ndarray] = {}
        for name, (shape, dtype, init) in layout.fields().items():
            self.arrays[name] = np.full((max(capacity, 1),) + shape, init, dtype=dtype)

    @property
    def capacity(self) -> int:
        return len(self.arrays["n_seen"])

    def add_rows(self, count: int) -> np.ndarray:
        """Append `count` fresh rows and return their indices."""
        need = self.size + count
        if need > self.capacity:
            new_cap = max(need, 2 * self.capacity)
            for name, (shape, dtype, init) in self.layout.fields().items():
                grown = np.full((new_cap,) + shape, init, dtype=dtype)
                grown[: self.size] = self.arrays[name][: self.size]
                self.arrays[name] = grown
        rows = np.arange(self.size, need)
        self.size = need
        return rows

    def take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {name: arr[rows] for name, arr in self.arrays.items()}

    def put(self, rows: np.ndarray, values: dict[str, np.ndarray]) -> None:
        for name, arr in self.arrays.items():
            arr[rows] = values[name]

    # --- serialisation --------------------------------------------------------------------
    # Format: b"SPK1" + 4-byte header length + JSON header + zlib(raw field bytes in field order).
    def dump(self, rows: np.ndarray | None = None, extra: dict | None = None) -> bytes:
        rows = np.arange(self.size) if rows is None else rows
        header = {
            "version": FORMAT_VERSION,
            "daily_slots": self.layout.daily_slots,
            "weekly_slots": self.layout.weekly_slots,
            "rows": int(len(rows)),
            **(extra or {}),
        }
        raw = b"".join(np.ascontiguousarray(arr[rows]).tobytes() for arr in self.arrays.values())
        head = json.dumps(header, separators=(",", ":")).encode()
        return _MAGIC + len(head).to_bytes(4, "little") + head + zlib.compress(raw, 6)

    @classmethod
    def load(cls, data: bytes, layout: Layout) -> tuple["Store", dict]:
        if not data.startswith(_MAGIC) or len(data) < 8:
            raise ValueError("not a spike detector state")
        size = int.from_bytes(data[4:8], "little")
        try:
            header = json.loads(data[8 : 8 + size].decode())
            raw = zlib.decompress(data[8 + size :])
        except (ValueError, zlib.error) as exc:
            raise ValueError(f"corrupt spike detector state: {exc}") from exc
        if header.get("version") != FORMAT_VERSION:
            raise ValueError(f"spike state version {header.get('version')} is not {FORMAT_VERSION}")
        if (header["daily_slots"], header["weekly_slots"]) != (layout.daily_slots, layout.weekly_slots):
            raise ValueError(
                "spike state was saved with other profile slots "
                f"({header['daily_slots']}/{header['weekly_slots']}, now {layout.daily_slots}/{layout.weekly_slots}); "
                "rebuild it by replaying the series"
            )
        n = int(header["rows"])
        store = cls(layout, capacity=n)
        offset = 0
        for name, (shape, dtype, _init) in layout.fields().items():
            dt = np.dtype(dtype)
            count = n * int(np.prod(shape, dtype=np.int64))
            nbytes = count * dt.itemsize
            if offset + nbytes > len(raw):
                raise ValueError("truncated spike detector state")
            store.arrays[name] = np.frombuffer(raw, dtype=dt, count=count, offset=offset).reshape((n,) + shape).copy()
            offset += nbytes
        if offset != len(raw):
            raise ValueError("spike detector state has trailing bytes")
        if n == 0:  # keep one spare row so that arrays are never empty
            store = cls(layout, capacity=1)
        store.size = n
        return store, header
