"""The spike detector on synthetic series where the truth is known."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from pydantic import ValidationError

from monitor.detect.spike import SeriesState, SpikeParams, SpikeResult, update

T0 = datetime(2024, 3, 4, tzinfo=timezone.utc)  # a Monday, midnight UTC
STEP = timedelta(minutes=5)
PER_DAY = 288


def at(i: int) -> datetime:
    return T0 + i * STEP


def daily_rate(i: int, night: float = 1.0, day: float = 20.0) -> float:
    """Posts per bucket: quiet at night, busy in the afternoon (a smooth daily cycle)."""
    hour = (i % PER_DAY) / 12
    return night + (day - night) * 0.5 * (1 - math.cos(2 * math.pi * hour / 24))


def run(counts, params: SpikeParams | None = None, authors=None, start: int = 0) -> list[SpikeResult]:
    state = SeriesState(params or SpikeParams())
    out = []
    for i, c in enumerate(counts):
        a = None if authors is None else authors[i]
        out.append(update(state, at(start + i), c, a))
    return out


def spikes_at(results: list[SpikeResult]) -> list[int]:
    return [i for i, r in enumerate(results) if r.is_spike]


def poisson(rates, seed: int = 7) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(x) for x in rng.poisson(rates)]


def test_flat_poisson_series_raises_no_spike():
    counts = poisson([4.0] * (4 * PER_DAY))
    results = run(counts)
    assert spikes_at(results) == []
    assert abs(results[-1].expected - 4.0) < 1.5


def test_single_burst_is_found_at_once_and_resolves():
    counts = poisson([3.0] * (3 * PER_DAY))
    burst = 2 * PER_DAY + 100
    counts[burst] = 45
    results = run(counts)
    assert spikes_at(results) == [burst]
    r = results[burst]
    assert r.observed == 45 and r.expected is not None and r.expected < 6
    assert r.anomaly_score > 0.5 and r.p_value < 1e-5
    assert "45 posts in 5 minutes, usually" in r.describe(5)
    # hysteresis: back to baseline a few calm buckets later, not at the burst itself
    back = [i for i, x in enumerate(results) if x.back_to_baseline]
    assert back and burst < back[0] <= burst + 6
    assert not results[back[0]].active


def test_step_change_gives_one_spike_within_two_buckets():
    rates = [3.0] * (2 * PER_DAY) + [15.0] * PER_DAY
    results = run(poisson(rates, seed=3))
    found = spikes_at(results)
    assert len(found) == 1
    assert 2 * PER_DAY <= found[0] <= 2 * PER_DAY + 1


def test_ramp_is_found_before_it_peaks():
    start = 2 * PER_DAY
    rates = [3.0] * start + [3.0 + 27.0 * k / 36 for k in range(36)] + [30.0] * 60
    results = run(poisson(rates, seed=5))
    found = spikes_at(results)
    assert found, "a ramp from 3 to 30 posts per bucket must raise a spike"
    assert start < found[0] < start + 36  # during the ramp, before it reaches the top


def test_daily_cycle_alone_is_not_an_incident():
    rates = [daily_rate(i) for i in range(7 * PER_DAY)]
    results = run(poisson(rates, seed=11))
    assert spikes_at(results) == []
    # after a few days the baseline follows the time of day
    day5 = results[5 * PER_DAY : 6 * PER_DAY]
    night = np.mean([r.expected for r in day5[:24]])  # 00:00-02:00
    noon = np.mean([r.expected for r in day5[144:168]])  # 12:00-14:00
    assert noon > 5 * night
    assert {r.baseline for r in day5} & {"daily", "weekly"}


def test_night_surge_that_would_be_normal_by_day_is_a_spike():
    rates = [daily_rate(i) for i in range(6 * PER_DAY)]
    counts = poisson(rates, seed=13)
    night = 5 * PER_DAY + 24  # 02:00 on day 6, usually about one post per bucket
    for k in range(3):
        counts[night + k] += 12  # about 13 posts: an ordinary afternoon, but not at 2 a.m.
    results = run(counts)
    assert night in spikes_at(results) or night + 1 in spikes_at(results)
    assert all(i < 5 * PER_DAY or night <= i <= night + 2 for i in spikes_at(results))


def test_all_zero_series_is_quiet_and_a_single_post_is_not_a_spike():
    counts = [0] * (2 * PER_DAY)
    counts[-10] = 1
    results = run(counts)
    assert spikes_at(results) == []
    assert all(r.p_value == 1.0 for r in results[:-10])
    assert results[-1].expected is not None and results[-1].expected >= 0


def test_burst_from_one_account_is_not_an_incident_but_many_authors_are():
    base = poisson([2.0] * (2 * PER_DAY), seed=17)
    spam = base + [50]
    authors = [c for c in base] + [1]  # fifty posts, one author
    assert spikes_at(run(spam, authors=authors)) == []
    crowd_authors = [c for c in base] + [40]
    assert spikes_at(run(spam, authors=crowd_authors)) == [len(base)]


def test_gap_in_count_series_is_read_as_zero_posts_and_handled():
    params = SpikeParams()
    state = SeriesState(params)
    rng = np.random.default_rng(19)
    i = 0
    for _ in range(2 * PER_DAY):
        update(state, at(i), int(rng.poisson(5.0)))
        i += 1
    i += 72  # six hours without any update: the store had no posts then
    r = update(state, at(i), 5)
    assert not r.is_spike  # an ordinary bucket after a quiet gap
    for _ in range(12):
        i += 1
        update(state, at(i), int(rng.poisson(5.0)))
    i += 1
    assert update(state, at(i), 60).is_spike


def test_gap_in_value_series_is_skipped_not_filled():
    params = SpikeParams(mode="value", gaps="auto")
    rng = np.random.default_rng(23)
    state = SeriesState(params)
    values = 50 + rng.normal(0, 1, 2 * PER_DAY)
    for i, v in enumerate(values):
        update(state, at(i), float(v))
    before = state.buckets_seen
    r = update(state, at(2 * PER_DAY + 300), 50.3)  # a day later: missing data, not zeros
    assert state.buckets_seen == before + 1
    assert not r.is_spike and abs(r.expected - 50) < 1


def test_value_series_level_drop_is_found_both_ways():
    rng = np.random.default_rng(29)
    values = list(70 + 3 * np.sin(np.arange(3 * PER_DAY) * 2 * np.pi / PER_DAY) + rng.normal(0, 0.5, 3 * PER_DAY))
    values += list(55 + rng.normal(0, 0.5, 50))  # a machine cooling down
    results = run([float(v) for v in values])
    assert results[-1].mode == "value"
    found = spikes_at(results)
    assert found and 3 * PER_DAY <= found[0] <= 3 * PER_DAY + 2


def test_counts_switch_to_value_mode_on_the_first_fraction():
    results = run([3, 4, 2, 3.5, 4])
    assert [r.mode for r in results] == ["count", "count", "count", "value", "value"]


def test_warmup_and_cooldown():
    counts = poisson([3.0] * (3 * PER_DAY), seed=31)
    counts[50] = 60  # inside the first day: still learning
    counts[2 * PER_DAY] = 60
    counts[2 * PER_DAY + 6] = 2  # burst over
    counts[2 * PER_DAY + 8] = 60  # second burst 40 minutes after the first: inside the 1h cooldown
    counts[2 * PER_DAY + 30] = 60  # 2.5 h later: a new incident
    found = spikes_at(run(counts))
    assert found == [2 * PER_DAY, 2 * PER_DAY + 30]


def test_min_count_guards_sparse_series():
    counts = [0] * (2 * PER_DAY) + [4]
    assert spikes_at(run(counts)) == []  # 4 < min_count
    assert spikes_at(run(counts, SpikeParams(min_count=3))) == [2 * PER_DAY]


def test_memory_does_not_grow_with_history():
    state = SeriesState()
    size = state.nbytes
    for i in range(3 * PER_DAY):
        update(state, at(i), i % 5)
    assert state.nbytes == size
    assert size < 8_000


def test_state_round_trip_continues_identically():
    counts = poisson([daily_rate(i) for i in range(3 * PER_DAY)], seed=37)
    params = SpikeParams()
    state = SeriesState(params)
    for i, c in enumerate(counts[: 2 * PER_DAY]):
        update(state, at(i), c)
    copy = SeriesState.from_bytes(state.to_bytes(), params)
    for i, c in enumerate(counts[2 * PER_DAY :], start=2 * PER_DAY):
        assert update(copy, at(i), c) == update(state, at(i), c)


def test_state_from_other_settings_is_refused():
    blob = SeriesState(SpikeParams()).to_bytes()
    with pytest.raises(ValueError, match="slots"):
        SeriesState.from_bytes(blob, SpikeParams(daily_slots=24))
    with pytest.raises(ValueError):
        SeriesState.from_bytes(b"not a state", SpikeParams())


def test_replay_is_deterministic():
    counts = poisson([daily_rate(i) for i in range(2 * PER_DAY)], seed=41)
    assert run(counts) == run(counts)


def test_params_validate_and_parse_durations():
    p = SpikeParams(bucket="10m", cooldown="2h", warmup="PT12H", level_halflife=3600)
    assert p.bucket == timedelta(minutes=10) and p.cooldown == timedelta(hours=2)
    assert p.warmup == timedelta(hours=12) and p.level_halflife == timedelta(hours=1)
    with pytest.raises(ValidationError):
        SpikeParams(treshold=3)  # a typo must not pass silently
    with pytest.raises(ValidationError):
        SpikeParams(bucket="0s")
    with pytest.raises(ValidationError):
        SpikeParams(min_author_share=2)


def test_update_rejects_non_finite_counts():
    with pytest.raises(ValueError):
        update(SeriesState(), T0, float("nan"))


def test_a_quiet_day_has_quiet_nights_too():
    """Count profiles are multiplicative: when the whole day is slower, so is the night."""
    rates = [daily_rate(i, night=10.0, day=200.0) for i in range(6 * PER_DAY)]
    rates += [0.5 * daily_rate(i, night=10.0, day=200.0) for i in range(2 * PER_DAY)]
    results = run(poisson(rates, seed=43))
    quiet = results[6 * PER_DAY :]
    assert not any(r.is_spike for r in quiet)
    second_night = [r.expected for r in quiet[PER_DAY : PER_DAY + 24]]  # 00:00-02:00 of the second quiet day
    assert 2.0 < np.mean(second_night) < 10.0  # about half the usual 10, never a negative rhythm


def test_extremes_that_come_too_often_are_an_incident():
    """Bursts that are normal one at a time (2% of buckets) raise a spike when they crowd together."""
    n = 10 * PER_DAY
    counts = [0] * n
    for start in range(0, n, 50):
        counts[start] = 12  # one burst every 50 buckets, as usual
    cluster = 8 * PER_DAY + 10
    for k in (0, 4, 8, 12, 16, 20):  # the same bursts, six in twenty buckets
        counts[cluster + k] = 12
    results = run(counts)
    late = [i for i in spikes_at(results) if i >= 5 * PER_DAY]
    assert late and all(cluster <= i <= cluster + 20 for i in late)


def test_frequent_drops_do_not_dull_surges():
    """Tails are calibrated per direction: a series that often drops still alerts on a rise."""
    rng = np.random.default_rng(53)
    n = 8 * PER_DAY
    values = 50 + rng.normal(0, 1, n)
    drops = rng.random(n) < 0.03
    values[drops] -= 8  # a sensor that often reads low
    jump = 7 * PER_DAY + 100
    values[jump : jump + 3] += 7
    results = run([round(float(v), 3) for v in values], SpikeParams(direction="both"))
    late = [i for i in spikes_at(results) if i >= 6 * PER_DAY]
    assert late and jump <= late[0] <= jump + 2
    assert all(jump <= i <= jump + 2 for i in late)


def test_a_series_of_zeros_and_jumps_learns_that_jumping_is_normal():
    """Calibration reaches p = 1e-1000000: a mostly-zero series with frequent jumps stops alerting."""
    rng = np.random.default_rng(59)
    n = 10 * PER_DAY
    values = np.where(rng.random(n) < 0.04, rng.uniform(0.5, 3.0, n), 0.0)
    results = run([round(float(v), 3) for v in values], SpikeParams(mode="value"))
    assert len([i for i in spikes_at(results) if i >= 7 * PER_DAY]) <= 1


def test_ordinary_spikes_that_come_densely_are_a_shift_of_the_mean():
    """Jumps of the usual size, ten times as often as usual: each one is ordinary for the series,
    their density is not (NAB's load-balancer case). The mean-shift test finds it; without it,
    nothing does."""
    rng = np.random.default_rng(61)
    n = 10 * PER_DAY
    rate = np.full(n, 0.03)
    dense = 8 * PER_DAY
    rate[dense : dense + 150] = 0.3
    values = np.where(rng.random(n) < rate, rng.uniform(2.0, 3.0, n), 0.0)
    values = [round(float(v), 3) for v in values]
    found = [i for i in spikes_at(run(values, SpikeParams(mode="value", direction="up"))) if i >= 5 * PER_DAY]
    assert found and all(dense <= i <= dense + 150 for i in found)
    without = run(values, SpikeParams(mode="value", direction="up", shift_z=0))
    assert not [i for i in spikes_at(without) if i >= 5 * PER_DAY]


def test_a_small_lasting_level_change_is_found_though_no_bucket_is_unusual():
    """A level that moves by 1.5 standard deviations and stays: every bucket is unremarkable for
    the recent baseline (which follows it), the mean over the last hour is not."""
    rng = np.random.default_rng(67)
    n = 6 * PER_DAY
    values = 50 + rng.normal(0, 1, n)
    change = 5 * PER_DAY
    values[change:] += 1.5
    values = [round(float(v), 3) for v in values]
    params = SpikeParams(direction="both", cooldown="1h")
    results = run(values, params)
    late = [i for i in spikes_at(results) if i >= 2 * PER_DAY]
    assert late == [late[0]] and change <= late[0] <= change + 36  # once, within three hours
    assert all(r.p_value > 1e-4 for r in results[change : change + 288])  # no single bucket is the signal
    assert not [i for i in spikes_at(run(values, SpikeParams(direction="both", shift_z=0))) if i >= 2 * PER_DAY]


def test_a_lasting_shift_becomes_the_new_normal_after_max_freeze():
    """The incident of a lasting change stays open while it lasts, then resolves once the change
    has been learned (after max_freeze): no endless incident, no new alerts."""
    rng = np.random.default_rng(71)
    n = 8 * PER_DAY
    values = 50 + rng.normal(0, 1, n)
    change = 3 * PER_DAY
    values[change:] += 3
    results = run([round(float(v), 3) for v in values], SpikeParams(direction="both", cooldown="1h"))
    late = [i for i in spikes_at(results) if i >= 2 * PER_DAY]
    assert len(late) == 1 and change <= late[0] <= change + 3
    backs = [i for i, r in enumerate(results) if r.back_to_baseline and i > late[0]]
    assert backs and backs[0] < change + 3 * PER_DAY
    assert not results[-1].active


def test_a_long_surge_resolves_soon_after_it_ends():
    """Three hours at twice the usual volume on a busy daily series: one incident, back to
    baseline within half an hour of the end (the rate-of-extremes CUSUM, which every bucket of the
    surge feeds, once held incidents open for four and a half hours after)."""
    rates = [daily_rate(i, night=20.0, day=200.0) for i in range(8 * PER_DAY)]
    start = 7 * PER_DAY + 10 * 12  # 10:00 on day 8
    end = start + 36
    for i in range(start, end):
        rates[i] *= 2
    results = run(poisson(rates, seed=5))
    assert [i for i in spikes_at(results) if i >= 6 * PER_DAY] and all(
        start <= i <= start + 3 for i in spikes_at(results) if i >= 6 * PER_DAY)
    backs = [i for i, r in enumerate(results) if r.back_to_baseline and i >= start]
    assert backs and end <= backs[0] <= end + 6
