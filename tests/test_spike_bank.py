"""SpikeBank: many series in one pass give the same answers as one series at a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from monitor.detect.spike import SeriesState, SpikeBank, SpikeParams, update

T0 = datetime(2024, 3, 4, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)


def simulate(n_series: int = 7, n_buckets: int = 2 * 288 + 60, seed: int = 1):
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.2, 12.0, n_series)
    counts = rng.poisson(rates[:, None], (n_series, n_buckets)).astype(float)
    authors = np.minimum(counts, rng.poisson(rates[:, None], counts.shape) + 1)
    if n_buckets > 2 * 288 + 20:
        counts[1, 2 * 288 + 10] += 50  # a crowd
        authors[1, 2 * 288 + 10] += 45
        counts[2, 2 * 288 + 20] += 50  # one account
        authors[2, 2 * 288 + 20] = 1
    if n_series > 4:
        counts[4] = np.round(counts[4] + rng.normal(0, 0.3, n_buckets), 2)  # a series of real values
    return counts, authors


@pytest.mark.parametrize("params", [SpikeParams(), SpikeParams(direction="both", tail_prior=1.5, cooldown="1d")])
def test_bank_matches_series_one_by_one(params):
    """The bank (numpy) and one series at a time (plain floats) run the same step: same answers."""
    counts, authors = simulate()
    counts[5, 300:] = np.round(counts[5, 300:] * 1.5 + 0.25, 2)  # counts that turn into values midway
    keys = [f"s{i}" for i in range(len(counts))]
    bank = SpikeBank(params)
    states = [SeriesState(params) for _ in keys]
    spikes = set()
    for j in range(counts.shape[1]):
        batch = bank.update_many(keys, T0 + j * STEP, counts[:, j], authors[:, j].astype(int).tolist())
        for i, key in enumerate(keys):
            alone = update(states[i], T0 + j * STEP, counts[i, j], int(authors[i, j]))
            together = batch.result(i)
            assert together.is_spike == alone.is_spike and together.back_to_baseline == alone.back_to_baseline
            assert together.mode == alone.mode and together.baseline == alone.baseline
            if alone.expected is None:
                assert together.expected is None
            else:
                assert together.expected == pytest.approx(alone.expected, rel=1e-9, abs=1e-12)
                assert together.evidence == pytest.approx(alone.evidence, rel=1e-9, abs=1e-12)
        spikes |= {(key, j) for key, _ in batch.spikes()}
    assert ("s1", 2 * 288 + 10) in spikes
    assert not any(key == "s2" and j == 2 * 288 + 20 for key, j in spikes)  # one author: no incident


def test_subsets_new_keys_and_gaps():
    bank = SpikeBank()
    bank.update_many(["a", "b"], T0, [3, 4])
    bank.update_many(["b"], T0 + STEP, [4])  # "a" is quiet this bucket
    batch = bank.update_many(["c", "a"], T0 + 2 * STEP, [1, 3])  # "c" is new, "a" has a gap of one bucket
    assert batch.keys == ["c", "a"] and len(bank) == 3 and "c" in bank
    assert bank.get_state("a").buckets_seen == 3  # the missed bucket was filled with a zero count
    assert bank.get_state("c").buckets_seen == 1


def test_round_trip_and_per_series_state():
    counts, authors = simulate(n_series=3, n_buckets=400)
    keys = ["x", "y", "z"]
    params = SpikeParams()
    bank = SpikeBank(params)
    for j in range(300):
        bank.update_many(keys, T0 + j * STEP, counts[:, j])
    copy = SpikeBank.from_bytes(bank.to_bytes(), params)
    assert copy.keys() == keys
    single = bank.get_state("y")
    for j in range(300, 400):
        a = bank.update_many(keys, T0 + j * STEP, counts[:, j])
        b = copy.update_many(keys, T0 + j * STEP, counts[:, j])
        np.testing.assert_array_equal(a.out.evidence, b.out.evidence)
        assert update(single, T0 + j * STEP, counts[1, j]).evidence == pytest.approx(a.result(1).evidence, rel=1e-9)
    other = SpikeBank(params)
    other.put_state("y", bank.get_state("y"))
    assert other.get_state("y").to_bytes() == bank.get_state("y").to_bytes()


def test_remove_compacts_and_keeps_the_rest():
    bank = SpikeBank()
    for j in range(5):
        bank.update_many(["a", "b", "c"], T0 + j * STEP, [1, 2, 3])
    before = bank.get_state("c").to_bytes()
    bank.remove(["a"])
    assert bank.keys() == ["b", "c"] and bank.get_state("c").to_bytes() == before


def test_bad_calls_are_refused():
    bank = SpikeBank()
    with pytest.raises(ValueError, match="same key"):
        bank.update_many(["a", "a"], T0, [1, 2])
    with pytest.raises(ValueError, match="2 keys but 1"):
        bank.update_many(["a", "b"], T0, [1])
    with pytest.raises(ValueError, match="finite"):
        bank.update_many(["a"], T0, [float("inf")])


def test_memory_is_bounded_by_series():
    bank = SpikeBank()
    keys = [f"k{i}" for i in range(200)]
    bank.update_many(keys, T0, np.zeros(200))
    size = bank.nbytes
    for j in range(1, 300):
        bank.update_many(keys, T0 + j * STEP, np.ones(200))
    assert bank.nbytes == size
    assert size / 200 < 8_000
