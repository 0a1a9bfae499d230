"""How fragile is the NAB score? `python -m bench.nab_sensitivity` (section "nab_sensitivity").

Two checks on the dev subset, both with the command line's defaults otherwise:

* **One setting at a time.** Each numeric setting of the detector is moved one step down and one
  step up (roughly x0.5 / x2 for memories and durations, +-10% for levels) and the three NAB
  profiles are scored again. A result that holds only at the chosen values is a knife edge.
* **Leave one file out.** The standard score without each file that has anomaly windows, next to
  ARTime's on the same files: does the comparison hinge on a single file?

    python -m bench.nab_sensitivity [--data DIR] [--jobs N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os

from bench._report import write_section
from bench.nab import DEFAULT_DATA, PUBLISHED, evaluate
from bench.nab_scoring import normalised

# (setting, one step down, one step up); the defaults are those of `monitor spikes`
STEPS: list[tuple[str, str, str]] = [
    ("threshold", "4.5", "5.5"),
    ("cusum_allowance", "1.0", "2.0"),
    ("tail_quantile", "0.98", "0.995"),
    ("tail_prior", "1.25", "1.75"),
    ("tail_halflife", "1008", "4032"),
    ("winsorize", "2.0", "3.0"),
    ("error_halflife", "288", "1152"),
    ("season_rate", "0.2", "0.45"),
    ("level_halflife", "12h", "2d"),
    ("recovery_buckets", "2", "5"),
    ("max_freeze", "12h", "2d"),
    ("warmup", "12h", "2d"),
    ("cooldown", "12h", "2d"),
    ("min_count", "3", "8"),
    ("shift_halflife", "6", "24"),
    ("shift_baseline_halflife", "432", "1728"),
    ("shift_z", "5", "7"),
]
PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def scores(result: dict) -> tuple[float, ...]:
    return tuple(result["totals"][p]["score"] for p in PROFILE_NAMES)


def fmt(values: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def leave_one_out(result: dict) -> list[tuple[str, int, float, float]]:
    """(file, its windows, our standard score without it, ARTime's without it)."""
    art = json.loads(PUBLISHED.read_text())["detectors"]["ARTime"]["profiles"]["standard"]["files"]
    profile = result["profiles"]["standard"]
    per_file = result["per_file"]
    ours_raw = sum(f["standard"]["score"] for f in per_file.values())
    art_raw = sum(art[k] for k in per_file)
    windows = sum(f["standard"]["windows"] for f in per_file.values())
    rows = []
    for key, f in sorted(per_file.items()):
        n = f["standard"]["windows"]
        if n == 0:
            continue
        rows.append((key, n, normalised(ours_raw - f["standard"]["score"], windows - n, profile),
                     normalised(art_raw - art[key], windows - n, profile)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from pathlib import Path

    data = Path(args.data)
    base = evaluate(data, (), args.jobs)
    lines = [
        "Scores on the 18 NAB dev files (standard / reward_low_FP_rate / reward_low_FN_rate) with one "
        "setting of `monitor spikes` moved one step from its default, everything else at the defaults. "
        f"Defaults: **{fmt(scores(base))}**; ARTime on the same files: 65.2 / 53.7 / 71.5.",
        "",
        "Command: `python -m bench.nab_sensitivity`",
        "",
        "| setting | default | one step down | scores | one step up | scores |",
        "|---|---|---|---|---|---|",
    ]
    from monitor.cli.spikes import CLI_DEFAULTS
    from monitor.detect.spike import SpikeParams

    defaults = SpikeParams().model_dump() | CLI_DEFAULTS
    low_std, high_std = [], []
    for name, low, high in STEPS:
        down = scores(evaluate(data, (f"{name}={low}",), args.jobs))
        up = scores(evaluate(data, (f"{name}={high}",), args.jobs))
        low_std.append(down[0])
        high_std.append(up[0])
        print(f"{name}: {low} -> {fmt(down)}; {high} -> {fmt(up)}", flush=True)
        lines.append(f"| `{name}` | {_show(defaults.get(name))} | {low} | {fmt(down)} | {high} | {fmt(up)} |")
    every = low_std + high_std
    lines += [
        "",
        f"Standard score over these {len(every)} one-step changes: median {sorted(every)[len(every) // 2]:.1f}, "
        f"lowest {min(every):.1f}, highest {max(every):.1f}; "
        f"{sum(v > 65.2 for v in every)} of {len(every)} stay above ARTime's 65.2.",
        "",
        "Leave one file out (standard profile, the file's windows removed from both sides):",
        "",
        "| file left out | its windows | spike detector | ARTime |",
        "|---|---:|---:|---:|",
    ]
    for key, n, ours, art in leave_one_out(base):
        lines.append(f"| {key} | {n} | {ours:.1f} | {art:.1f} |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("nab_sensitivity", "Spike detection on NAB: sensitivity", body)


def _show(value) -> str:
    if hasattr(value, "total_seconds"):
        seconds = value.total_seconds()
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"{seconds / size:g}{unit}"
        return f"{seconds:g}s"
    return str(value)


if __name__ == "__main__":
    main()
