"""Struct-of-arrays storage of detector state: one row per series, a fixed size per row.

Memory grows with the number of series, never with history: a row holds a few dozen scalars,
the daily and weekly profiles and a small histogram (about 3 KB with the default slots).
The same layout backs a single series (one row) and a bank of many.
"""

from __future__ import annotations

import functools
import json
import math
import zlib
from dataclasses import dataclass

import numpy as np

from .ops import SCALAR
from .params import SpikeParams
from .stats import norm_logsf, z_of_surprise

FORMAT_VERSION = 3
DAY = 86400.0
WEEK = 7 * DAY
N_PRED = 3  # baselines that compete: 0 = recent level (flat), 1 = daily profile, 2 = weekly profile
FLAT, DAILY, WEEKLY = 0, 1, 2
PREDICTOR_NAMES = ("flat", "daily", "weekly")
# Bins of the calibration histogram, in surprise (-log10 p): quarter steps up to 8, then 32 bins
# growing geometrically up to 1e6 (a series of zeros with occasional jumps reaches p = 1e-1000000
# under its own law, and must still be able to learn that jumping is normal for it).
CALIB_BINS = 64
CALIB_LINEAR = 32
CALIB_WIDTH = 0.25
CALIB_RATIO = (1e6 / (CALIB_LINEAR * CALIB_WIDTH)) ** (1 / (CALIB_BINS - CALIB_LINEAR))
CALIB_EDGES = np.concatenate([
    (np.arange(CALIB_LINEAR) + 1) * CALIB_WIDTH,
    CALIB_LINEAR * CALIB_WIDTH * CALIB_RATIO ** (np.arange(CALIB_BINS - CALIB_LINEAR) + 1),
])  # upper edge of each bin; the last bin also takes anything above
CALIB_PRIOR_WEIGHT = 500.0


@functools.lru_cache(maxsize=16)
def calib_prior(tail_prior: float) -> np.ndarray:
    """The histogram a new series starts with: the weight of 500 buckets of a series whose tails
    are `tail_prior` times wider than its law (1.0: the law is exactly right, P(surprise >= u) =
    10^-u), so that a young series is neither judged on a handful of its own buckets nor taken
    to be better behaved than real series usually are."""
    lower = np.concatenate([[0.0], CALIB_EDGES[:-1]])
    at_least = np.array([1.0] + [math.exp(norm_logsf(z_of_surprise(u) / tail_prior, SCALAR)) for u in lower[1:]])
    return CALIB_PRIOR_WEIGHT * (at_least - np.append(at_least[1:], 0.0))


MAX_VISITS = 255
# per-series arrays that a one-series update reads and writes one slot of, in place
PROFILE_FIELDS = frozenset({"daily", "daily_visits", "weekly", "weekly_visits"})
_MAGIC = b"SPK1"


@dataclass(frozen=True)
class Layout:
    daily_slots: int
    weekly_slots: int
    tail_prior: float = 1.0  # only shapes the calibration of new series, not the layout

    @classmethod
    def for_params(cls, params: SpikeParams) -> "Layout":
        return cls(params.slots(DAY, params.daily_slots), params.slots(WEEK, params.weekly_slots), params.tail_prior)

    def fields(self) -> dict[str, tuple[tuple[int, ...], str, float]]:
        """name -> (shape of one row, dtype, initial value)."""
        nan = float("nan")
        prior = calib_prior(self.tail_prior)
        return {
            "n_seen": ((), "i8", 0),
            "t_first": ((), "f8", nan),
            "t_last": ((), "f8", nan),
            "is_count": ((), "?", True),
            "magnitude": ((), "f8", 0.0),  # running mean of |value|: floor for the scale of flat series
            # per baseline (flat, daily, weekly): its level, and running means (bias-corrected:
            # divide by err_weight) of its winsorised squared error and of mu and mu² (for the
            # dispersion of counts); one scalar field each, so one series is a dict of numbers
            **{
                f"{name}_{baseline}": ((), "f8", 0.0)
                for baseline in PREDICTOR_NAMES
                for name in ("level", "err_weight", "sq_err", "mean_mu", "mean_mu2")
            },
            # per direction (up, down): histogram of the series' own evidence under its law, and the
            # tail widening tau learned from it. A bucket adds calib_w to its bin, and calib_w grows
            # by 1/decay per bucket learned instead of every bin shrinking (the same decayed
            # histogram, up to scale).
            **{
                f"{name}_{side}": spec
                for side in ("up", "down")
                for name, spec in (
                    ("tau", ((), "f8", 1.0)),
                    ("calib", ((CALIB_BINS,), "f8", prior)),
                    ("calib_w", ((), "f8", 1.0)),
                    ("calib_total", ((), "f8", float(prior.sum()))),
                    ("calib_top", ((), "i8", 0)),  # the bin holding the calibrated quantile
                    ("calib_above", ((), "f8", float(prior.sum()))),  # weight at or above it
                    ("cusum0", ((), "f8", 0.0)),  # the CUSUM of the law as is, which the calibration sees
                )
            },
            "daily": ((self.daily_slots,), "f4", 0.0),
            "daily_visits": ((self.daily_slots,), "u1", 0),
            "weekly": ((self.weekly_slots,), "f4", 0.0),
            "weekly_visits": ((self.weekly_slots,), "u1", 0),
            "cusum_up": ((), "f8", 0.0),
            "cusum_down": ((), "f8", 0.0),
            "rate_cusum": ((), "f8", 0.0),  # CUSUM of the rate of extreme buckets (Bernoulli log-likelihood ratio)
            # mean-shift test: recent and long means of the value, and the running mean (bias-corrected:
            # divide by shift_weight) of the squared difference between them
            "shift_recent": ((), "f8", 0.0),
            "shift_long": ((), "f8", 0.0),
            "shift_sq": ((), "f8", 0.0),
            "shift_weight": ((), "f8", 0.0),
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
            count = n * math.prod(shape)
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
