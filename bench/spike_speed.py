"""Speed and memory of the spike detector: `python -m bench.spike_speed` (section "spike_speed").

Target (issue 5): one detection pass over 10,000 live series in at most 1 second on one core,
memory bounded by the number of series. The bench simulates 10,000 count series (rates from
sparse to busy, a daily cycle, distinct authors, a few bursts), warms them up for two days of
5-minute buckets, then times `SpikeBank.update_many` on each bucket of a third day. It also
times the single-series path (`update`) and the state's serialised size.

    python -m bench.spike_speed [--series 10000] [--days 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from bench._report import write_section
from monitor.detect.spike import SeriesState, SpikeBank, SpikeParams, update

T0 = datetime(2024, 3, 4, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)
PER_DAY = 288


def one_core() -> None:
    """Keep numpy (and BLAS, which the detector does not use) on one thread, as asked."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        except OSError:
            pass


def simulate(n: int, rng: np.random.Generator):
    base = rng.gamma(0.6, 5.0, n)  # from a post a day to dozens per bucket
    phase = rng.uniform(0, 2 * np.pi, n)

    def counts(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cycle = 1 + 0.8 * np.sin(2 * np.pi * (j % PER_DAY) / PER_DAY + phase)
        c = rng.poisson(base * cycle)
        burst = rng.random(n) < 2e-4
        c = c + burst * rng.poisson(30, n)
        a = np.minimum(c, rng.binomial(c, 0.9) + (c > 0))
        return c.astype(float), a, burst

    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    one_core()
    rng = np.random.default_rng(5)
    n = args.series
    keys = [f"rule:outage|source=x|lang={i}" for i in range(n)]
    params = SpikeParams()
    bank = SpikeBank(params)
    counts = simulate(n, rng)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timings = []
    hits = others = bursts = 0
    measured_from = (args.days - 1) * PER_DAY
    for j in range(args.days * PER_DAY):
        c, a, burst = counts(j)
        started = time.perf_counter()
        batch = bank.update_many(keys, T0 + j * STEP, c, a)
        elapsed = time.perf_counter() - started
        if j >= measured_from:
            timings.append(elapsed)
            bursts += int(burst.sum())
            hits += int((batch.is_spike & burst).sum())
            others += int((batch.is_spike & ~burst).sum())
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = np.array(timings)
    blob = bank.to_bytes()

    started = time.perf_counter()
    state = SeriesState(params)
    m = 5 * PER_DAY
    series = rng.poisson(5.0, m)
    for j in range(m):
        update(state, T0 + j * STEP, int(series[j]))
    single = (time.perf_counter() - started) / m

    body = "\n".join([
        f"{n:,} count series (5-minute buckets, daily cycle, distinct authors), {args.days - 1} days of warm-up, "
        f"then every bucket of one day timed ({len(t)} passes of `SpikeBank.update_many` over all series), "
        "pinned to one core.",
        "",
        "Command: `python -m bench.spike_speed`",
        "",
        "| measure | value | target |",
        "|---|---:|---:|",
        f"| one pass over {n:,} series, median | {np.median(t) * 1000:.0f} ms | ≤ 1000 ms |",
        f"| one pass, 99th percentile | {np.percentile(t, 99) * 1000:.0f} ms | |",
        f"| one pass, slowest | {t.max() * 1000:.0f} ms | |",
        f"| detector state in memory | {bank.nbytes / n:,.0f} bytes per series ({bank.nbytes / 1e6:.1f} MB) | bounded by series |",
        f"| serialised bank (`to_bytes`, zlib) | {len(blob) / 1e6:.1f} MB ({len(blob) / n:,.0f} bytes per series) | |",
        f"| peak RSS growth during the run | {(rss_after - rss_before) / 1024:.0f} MB | |",
        f"| single-series `update` | {single * 1e6:.0f} µs per bucket | |",
        f"| injected bursts (+Poisson(30) posts) raised as spikes on the timed day | {hits} of {bursts} | |",
        f"| other spikes on the timed day (no burst injected) | {others} in {n * len(t):,} series-buckets | |",
    ])
    print(body)
    if not args.no_write:
        write_section("spike_speed", "Spike detection speed", body)


if __name__ == "__main__":
    main()
