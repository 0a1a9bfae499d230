"""NAB scoring rules (bench/nab_scoring.py) and the detector on NAB dev files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from bench.nab_scoring import (
    PROFILES,
    best_threshold,
    normalised,
    probation_rows,
    row_weights,
    scaled_sigmoid,
    score_detections,
)

NAB = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "nab-dev"
needs_nab = pytest.mark.skipif(
    not (NAB / "labels" / "combined_windows.json").exists(), reason=f"NAB dev data not found at {NAB}"
)
STD = PROFILES["standard"]


def stamps(n: int) -> list[str]:
    return [f"row{i:05d}" for i in range(n)]


def test_sigmoid_and_probation():
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0
    assert probation_rows(1882) == 282 and probation_rows(22695) == 750


def test_detections_inside_before_and_after_a_window():
    ts = stamps(2000)  # probation: 300 rows
    windows = [(ts[1000], ts[1099])]  # 100 rows
    w = row_weights(ts, windows, STD)
    assert w.first_row == 300 and w.n_windows == 1

    def score(rows: list[int]) -> float:
        det = np.zeros(2000, dtype=bool)
        det[rows] = True
        return score_detections(w, det, STD).score

    assert score([]) == -1.0  # a missed window
    assert score([1000]) == pytest.approx(1.0)  # the earliest detection is worth A_TP exactly
    assert score([1000, 1050]) == pytest.approx(1.0)  # only the best detection of a window counts
    assert 0 < score([1099]) < 0.03  # the last row of the window is worth almost nothing
    assert score([500, 1000]) == pytest.approx(1.0 - 0.11)  # before the first window: -A_FP
    assert score([100, 1000]) == pytest.approx(1.0)  # in the probationary period: not scored
    after = score([1000, 1100]) - 1.0
    assert -0.11 < after < 0  # just after a window: a milder penalty
    assert score([1000, 1999]) - 1.0 == pytest.approx(-0.11)  # far after: -A_FP


def test_normalisation_and_threshold_sweep():
    assert normalised(-4.0, 4, STD) == 0.0 and normalised(4.0, 4, STD) == 100.0
    low_fn = PROFILES["reward_low_FN_rate"]
    assert normalised(-8.0, 4, low_fn) == 0.0
    ts = stamps(1000)
    w = row_weights(ts, [(ts[500], ts[549])], STD)
    scores = np.zeros(1000)
    scores[500] = 0.9  # the ideal detection
    scores[800] = 0.7  # a false positive with a lower score
    thr, raw = best_threshold([(w, scores)], STD)
    assert thr == 0.9 and raw == pytest.approx(1.0)


@needs_nab
def test_row_weights_match_nab_published_results():
    """S(t) values of NAB's results/ARTime/realKnownCause/ARTime_rogue_agent_key_hold.csv (numenta/NAB)."""
    key = "realKnownCause/rogue_agent_key_hold.csv"
    with open(NAB / "data" / key, newline="") as fh:
        ts = [r[0] for r in list(csv.reader(fh))[1:]]
    windows = [(a[:19], b[:19]) for a, b in json.loads((NAB / "labels" / "combined_windows.json").read_text())[key]]
    published = {  # timestamp: (standard, reward_low_FP_rate)
        "2014-07-11 03:00:00": (-0.11, -0.22),
        "2014-07-15 04:35:00": (1.0, 1.0),
        "2014-07-15 04:40:00": (0.999271976198034, 0.999271976198034),
        "2014-07-15 13:25:00": (0.02666666848596921, 0.02666666848596921),
        "2014-07-15 13:30:00": (-0.0029248423342903623, -0.005849684668580725),
        "2014-07-15 16:45:00": (-0.08426284841474874, -0.16852569682949747),
    }
    for col, name in enumerate(("standard", "reward_low_FP_rate")):
        w = row_weights(ts, windows, PROFILES[name])
        for stamp, values in published.items():
            assert w.weight[ts.index(stamp) - w.first_row] == pytest.approx(values[col], abs=1e-12)


def test_published_subset_numbers_are_consistent():
    from bench.nab import PUBLISHED, published_on_subset

    pub = json.loads(PUBLISHED.read_text())
    keys = sorted(pub["detectors"]["ARTime"]["profiles"]["standard"]["files"])
    assert len(keys) == 18
    table = published_on_subset(keys, 25, PROFILES)
    # the scoreboard's full-corpus numbers come back from the corpus totals
    assert table["ARTime"]["corpus"]["standard"] == pytest.approx(74.9, abs=0.05)
    assert table["contextOSE"]["corpus"]["standard"] == pytest.approx(69.9, abs=0.05)
    assert table["twitterADVec"]["corpus"]["standard"] == pytest.approx(47.1, abs=0.05)
    assert table["ARTime"]["subset"]["standard"] == pytest.approx(65.2, abs=0.05)


@needs_nab
@pytest.mark.parametrize(
    "key, windows",
    [("artificialWithAnomaly/art_daily_jumpsup.csv", 1), ("artificialNoAnomaly/art_daily_small_noise.csv", 0)],
)
def test_detector_on_nab_dev_files(key, windows):
    """The CLI's code path on two dev files: the jump is found in its window, the quiet file stays quiet."""
    from monitor.cli.spikes import CLI_DEFAULTS, build_params, detect_rows, read_rows

    settings = build_params(None, "auto", CLI_DEFAULTS["direction"], CLI_DEFAULTS["gaps"], CLI_DEFAULTS["cooldown"], ())
    with open(NAB / "data" / key, newline="") as fh:
        results = list(detect_rows(read_rows(fh, key, "timestamp", "value", None), settings))
    ts = [row.time_text for row, _ in results]
    detected = np.array([bool(r and r.is_spike) for _, r in results])
    labels = json.loads((NAB / "labels" / "combined_windows.json").read_text())[key]
    w = row_weights(ts, [(a[:19], b[:19]) for a, b in labels], STD)
    fs = score_detections(w, detected, STD)
    assert fs.tp_windows == windows and fs.fn_windows == 0 and fs.fp_rows == 0
    assert all(0.0 <= (r.anomaly_score if r else 0.0) <= 1.0 for _, r in results)


@needs_nab
def test_dense_ordinary_spikes_are_found_by_the_mean_shift_test():
    """`art_load_balancer_spikes`: spikes of the usual size come densely in the window. Only the
    mean-shift test sees that (with it off, the window is missed)."""
    from monitor.cli.spikes import CLI_DEFAULTS, build_params, detect_rows, read_rows

    key = "artificialWithAnomaly/art_load_balancer_spikes.csv"
    labels = json.loads((NAB / "labels" / "combined_windows.json").read_text())[key]
    found = {}
    for overrides in ((), ("shift_z=0",)):
        settings = build_params(None, "auto", CLI_DEFAULTS["direction"], CLI_DEFAULTS["gaps"], CLI_DEFAULTS["cooldown"],
                                overrides)
        with open(NAB / "data" / key, newline="") as fh:
            results = list(detect_rows(read_rows(fh, key, "timestamp", "value", None), settings))
        w = row_weights([row.time_text for row, _ in results], [(a[:19], b[:19]) for a, b in labels], STD)
        found[overrides] = score_detections(w, np.array([bool(r and r.is_spike) for _, r in results]), STD)
    assert found[()].tp_windows == 1 and found[()].score > 0.5
    assert found[("shift_z=0",)].tp_windows == 0
