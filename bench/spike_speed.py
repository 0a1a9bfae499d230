"""Speed and memory of the spike detector: `python -m bench.spike_speed` (section "spike_speed").

Target (issue 5): one detection pass over 10,000 live series in at most 1 second on one core,
memory bounded by the number of series. The bench simulates 10,000 count series (rates from
sparse to busy, a daily cycle, distinct authors, a few bursts), warms them up for two days of
5-minute buckets, then times `SpikeBank.update_many` on each bucket of a third day. It also
times the single-series path (`update`) and the state's serialised size.

It also times `monitor spikes` (the single-series path, one row after another) on a generated
file of 20,000 five-minute rows: in process (parse, detect, write), and end to end as a command
(including the interpreter's start).

    python -m bench.spike_speed [--series 10000] [--days 3] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
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


def write_series(path: Path, rows: int) -> None:
    """A metric with a daily cycle, noise and a few jumps, one row per 5 minutes (what NAB files look like)."""
    rng = np.random.default_rng(11)
    j = np.arange(rows)
    values = 50 + 10 * np.sin(2 * np.pi * j / PER_DAY) + rng.normal(0, 2, rows)
    values[rng.random(rows) < 0.002] += 40
    with open(path, "w") as fh:
        fh.write("timestamp,value\n")
        for k, v in zip(j, values):
            fh.write(f"{(T0 + int(k) * STEP).strftime('%Y-%m-%d %H:%M:%S')},{v:.3f}\n")


def cli_speed(rows: int = 20_000) -> tuple[float, float]:
    """(rows/s of `monitor spikes`'s loop in process, seconds of the whole command), best of three."""
    from monitor.cli.spikes import CLI_DEFAULTS, _run, build_params

    settings = build_params(None, "auto", CLI_DEFAULTS["direction"], CLI_DEFAULTS["gaps"], CLI_DEFAULTS["cooldown"], ())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.csv"
        write_series(path, rows)
        loop = []
        for _ in range(3):
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), open(path, newline="") as fh:
                started = time.perf_counter()
                _run(fh, str(path), "timestamp", "value", None, dict(settings), False)
                loop.append(time.perf_counter() - started)
        command = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "monitor", "spikes", "--input", str(path)], check=True,
                           stdout=subprocess.DEVNULL)
            command.append(time.perf_counter() - started)
    return rows / min(loop), min(command)


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

    m = 5 * PER_DAY
    series = [int(x) for x in rng.poisson(5.0, m)]
    times = [T0 + j * STEP for j in range(m)]
    single = float("inf")
    for _ in range(3):
        state = SeriesState(params)
        started = time.perf_counter()
        for j in range(m):
            update(state, times[j], series[j])
        single = min(single, (time.perf_counter() - started) / m)
    cli_rows_per_s, cli_seconds = cli_speed()

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
        f"| single-series `update` (count series, best of 3) | {single * 1e6:.0f} µs per bucket | |",
        f"| `monitor spikes` on 20,000 rows, in process (parse, detect, write; best of 3) | {cli_rows_per_s:,.0f} rows/s "
        "| ≥ 10,000 rows/s |",
        f"| `monitor spikes --input` on the same file, whole command incl. interpreter start (best of 3) | "
        f"{cli_seconds:.2f} s | |",
        f"| injected bursts (+Poisson(30) posts) raised as spikes on the timed day | {hits} of {bursts} | |",
        f"| other spikes on the timed day (no burst injected) | {others} in {n * len(t):,} series-buckets | |",
    ])
    print(body)
    if not args.no_write:
        write_section("spike_speed", "Spike detection speed", body)


if __name__ == "__main__":
    main()
