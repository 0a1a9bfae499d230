"""The Numenta Anomaly Benchmark (NAB v1.1) scoring rules, written from NAB's published description.

See ../shared/data/nab-dev/SOURCE.md (and Lavin & Ahmad 2015, arXiv:1510.03336). In short:

* each labelled anomaly has a window (10% of the file shared among its anomalies);
* the first `min(floor(0.15 n), 750)` rows of a file are a probationary period and are not scored;
* a detection inside a window is worth a sigmoid of its position (A_TP at the left edge, about 0 at
  the right edge); only the best detection of each window counts; a window without one costs A_FN;
* a detection outside every window costs A_FP, less when it falls just after a window (the same
  sigmoid continued past the right edge, floored at -1 beyond three window widths), the full A_FP
  before the first window;
* a corpus score S is normalised with the null detector (no detections: -A_FN per window) and the
  perfect one (A_TP per window): 100 (S - S_null) / (S_perfect - S_null).

No NAB code is copied here. `tests/test_spike_nab.py` checks the row weights against values from
NAB's published result files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

PROBATION_PERCENT = 0.15
PROBATION_CAP_ROWS = 5000  # NAB caps the probationary period at 15% of 5000 rows


@dataclass(frozen=True)
class Profile:
    name: str
    tp: float
    fn: float
    fp: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", tp=1.0, fn=1.0, fp=0.11),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", tp=1.0, fn=1.0, fp=0.22),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", tp=1.0, fn=2.0, fp=0.11),
}


def profiles_from_config(config: dict) -> dict[str, Profile]:
    """Read NAB's `config/profiles.json` shape: {name: {"CostMatrix": {tpWeight, fnWeight, fpWeight}}}."""
    out = {}
    for name, body in config.items():
        cost = body["CostMatrix"]
        out[name] = Profile(name, tp=cost["tpWeight"], fn=cost["fnWeight"], fp=cost["fpWeight"])
    return out


def probation_rows(n_rows: int) -> int:
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * PROBATION_CAP_ROWS))


def scaled_sigmoid(y: float) -> float:
    """NAB's position weight: +0.987 at y=-1 (left edge), 0 at y=0 (right edge), -1 beyond y=3."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


@dataclass
class RowWeights:
    """Per scored row (after probation): its weight if detected, and the window it belongs to (-1: none)."""

    weight: np.ndarray  # float, already multiplied by A_TP/σ(-1) or A_FP
    window: np.ndarray  # int, index into the file's window list, -1 outside windows
    first_row: int  # index of the first scored row in the file
    n_windows: int  # windows with at least one scored row


def row_weights(timestamps: Sequence[str], windows: Sequence[tuple[str, str]], profile: Profile) -> RowWeights:
    """Walk the rows in file order like NAB does (windows open and close on exact timestamp matches)."""
    n = len(timestamps)
    probation = probation_rows(n)
    index_of: dict[str, int] = {}
    for i, ts in enumerate(timestamps):
        index_of.setdefault(ts, i)  # first occurrence, as a list.index() lookup would find
    pending = [(index_of[a], index_of[b]) for a, b in windows]
    max_tp = scaled_sigmoid(-1.0)

    weight = np.zeros(n)
    window = np.full(n, -1)
    next_window = 0
    cur: tuple[int, int] | None = None
    cur_id = -1
    prev_right: int | None = None
    prev_width = 0.0
    for i, ts in enumerate(timestamps):
        if cur is None and next_window < len(pending) and timestamps[pending[next_window][0]] == ts:
            cur = pending[next_window]
            cur_id = next_window
            next_window += 1
        if cur is not None:
            left, right = cur
            width = float(right - left + 1)
            y = -(right - i + 1) / width
            weight[i] = scaled_sigmoid(y) * profile.tp / max_tp
            window[i] = cur_id
        else:
            if prev_right is None:
                unweighted = -1.0
            else:
                y = abs(prev_right - i) / (prev_width - 1.0)
                unweighted = scaled_sigmoid(y)
            weight[i] = unweighted * profile.fp
        if cur is not None and ts == timestamps[cur[1]]:
            prev_right = cur[1]
            prev_width = float(cur[1] - cur[0] + 1)
            cur = None
            cur_id = -1
    scored_windows = set(window[probation:].tolist()) - {-1}
    return RowWeights(weight[probation:], window[probation:], probation, len(scored_windows))


@dataclass
class FileScore:
    score: float
    tp_windows: int
    fn_windows: int
    fp_rows: int
    detections: list[int] = field(default_factory=list)  # scored row indices that were detections


def score_detections(weights: RowWeights, detected: np.ndarray, profile: Profile) -> FileScore:
    """Raw NAB score of one file for boolean detections over *all* rows of the file."""
    det = np.asarray(detected, dtype=bool)[weights.first_row :]
    best: dict[int, float] = {}
    fp_total = 0.0
    fp_rows = 0
    for i in np.flatnonzero(det):
        w = int(weights.window[i])
        if w < 0:
            fp_total += weights.weight[i]
            fp_rows += 1
        elif w not in best or weights.weight[i] > best[w]:
            best[w] = weights.weight[i]
    fn = weights.n_windows - len(best)
    score = sum(best.values()) + fp_total - profile.fn * fn
    hits = [int(i) + weights.first_row for i in np.flatnonzero(det)]
    return FileScore(score, len(best), fn, fp_rows, hits)


def normalised(raw: float, n_windows: int, profile: Profile) -> float:
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def best_threshold(per_file: list[tuple[RowWeights, np.ndarray]], profile: Profile) -> tuple[float, float]:
    """NAB's threshold optimisation for real-valued scores: try every distinct score, keep the best corpus sum.

    Returns (threshold, raw corpus score). Ties keep the highest threshold, like a descending sweep.
    """
    scores, weights, keys = [], [], []
    start = 0
    n_windows = 0
    for rw, s in per_file:
        s = np.asarray(s, dtype=float)[rw.first_row :]
        scores.append(s)
        weights.append(rw.weight)
        keys.append(np.where(rw.window >= 0, rw.window + start, -1))
        start += int(rw.window.max(initial=-1)) + 1
        n_windows += rw.n_windows
    s = np.concatenate(scores)
    w = np.concatenate(weights)
    k = np.concatenate(keys)
    order = np.argsort(-s, kind="stable")
    best_raw = -profile.fn * n_windows  # no detections at all
    best_thr = float(s.max()) + 1.0 if len(s) else 1.0
    current = best_raw
    window_best: dict[int, float] = {}
    i = 0
    while i < len(order):
        thr = s[order[i]]
        while i < len(order) and s[order[i]] == thr:
            j = order[i]
            if k[j] < 0:
                current += w[j]
            else:
                old = window_best.get(int(k[j]))
                if old is None:
                    current += w[j] + profile.fn
                    window_best[int(k[j])] = w[j]
                elif w[j] > old:
                    current += w[j] - old
                    window_best[int(k[j])] = w[j]
            i += 1
        if current > best_raw:
            best_raw, best_thr = current, float(thr)
    return best_thr, best_raw
