"""The two kinds of numbers the engine's one step function runs on.

`ArrayOps`: every quantity is a numpy array with one entry per series (a bank of series, one
vectorised pass). `SCALAR`: every quantity is a plain Python float, int or bool (one series,
where numpy's per-call overhead on one-element arrays would cost far more than the arithmetic).
The step (engine.py) and the tail probabilities (stats.py) are written once against this small
interface, so both paths run the same algorithm and cannot drift apart.

Rules for code written against it: arithmetic and comparisons use the operators; anything else
goes through `xp` (never `~` on a mask, never `if` on a per-series value except via `xp.any`).
Per-series vectors (profiles, histograms) are rows of 2-D arrays for `ArrayOps` and Python
sequences (lists, or `array.array` for the float32 and uint8 profiles) for `SCALAR`.
"""

from __future__ import annotations

import math

import numpy as np


class ArrayOps:
    """Quantities are 1-D numpy arrays aligned with the series of a step."""

    scalar = False
    where = staticmethod(np.where)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    sqrt = staticmethod(np.sqrt)
    cbrt = staticmethod(np.cbrt)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    exp = staticmethod(np.exp)
    floor = staticmethod(np.floor)
    fabs = staticmethod(np.abs)
    isfinite = staticmethod(np.isfinite)

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows = np.arange(n)

    @staticmethod
    def not_(mask):
        return ~mask

    @staticmethod
    def any(mask) -> bool:
        return bool(np.any(mask))

    @staticmethod
    def to_int(x):
        return np.asarray(x).astype(np.int64)

    def full(self, value):
        return np.full(self.n, value)

    # one entry per series of a (series, slots) matrix: a profile slot, a histogram bin
    def gather(self, matrix, slot):
        return matrix[self.rows, slot].astype(float)

    def scatter(self, matrix, slot, value) -> None:
        matrix[self.rows, slot] = value

    @staticmethod
    def take(table, index):
        return table.array[index]

    @staticmethod
    def scale_rows(matrix, factor) -> None:
        matrix *= factor[:, None]

    @staticmethod
    def zero_rows(matrix, mask) -> None:
        matrix[mask] = 0

    @staticmethod
    def branch(mask, if_true, if_false, *args):
        """if_true(*args) where mask holds, if_false(*args) elsewhere; each only on its own rows."""
        if mask.all():
            return _full(if_true(*args), mask.shape)
        if not mask.any():
            return _full(if_false(*args), mask.shape)
        out = np.empty(len(mask))
        rest = ~mask
        out[mask] = if_true(*(_rows(a, mask) for a in args))
        out[rest] = if_false(*(_rows(a, rest) for a in args))
        return out


def _full(result, shape):
    result = np.asarray(result, dtype=float)
    return result if result.shape == shape else np.full(shape, result)


def _rows(a, mask):
    return a[mask] if isinstance(a, np.ndarray) and a.ndim else a


class ScalarOps:
    """Quantities are Python floats (ints, bools) of one series."""

    scalar = True
    sqrt = staticmethod(math.sqrt)
    cbrt = staticmethod(math.cbrt)
    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    exp = staticmethod(math.exp)
    fabs = staticmethod(math.fabs)
    isfinite = staticmethod(math.isfinite)

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    @staticmethod
    def maximum(a, b):
        return a if a >= b else b

    @staticmethod
    def minimum(a, b):
        return a if a <= b else b

    @staticmethod
    def floor(x):
        return float(math.floor(x))

    @staticmethod
    def not_(mask):
        return not mask

    @staticmethod
    def any(mask) -> bool:
        return bool(mask)

    @staticmethod
    def to_int(x):
        return int(x)


    @staticmethod
    def full(value):
        return value


    @staticmethod
    def gather(vector, slot):
        return vector[slot]

    @staticmethod
    def scatter(vector, slot, value) -> None:
        vector[slot] = value

    @staticmethod
    def take(table, index):
        return table.values[index]

    @staticmethod
    def scale_rows(vector, factor) -> None:
        vector[:] = [x * factor for x in vector]

    @staticmethod
    def zero_rows(vector, mask) -> None:
        if mask:
            for i in range(len(vector)):
                vector[i] = 0

    @staticmethod
    def branch(mask, if_true, if_false, *args):
        return if_true(*args) if mask else if_false(*args)


SCALAR = ScalarOps()


class Table:
    """A small lookup table (indexed by a per-series integer) in both forms."""

    def __init__(self, values) -> None:
        self.array = np.asarray(values, dtype=float)
        self.values = [float(v) for v in self.array]
