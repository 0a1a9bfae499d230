"""NAB benchmark of the spike detector: `python -m bench.nab` (writes the "nab" section of docs/benchmarks.md).

Runs exactly what `monitor spikes --input FILE.csv` runs (its defaults, no per-file setting) on
every file of ../shared/data/nab-dev, scores the binary `is_spike` column with the NAB rules
(bench/nab_scoring.py) for the three profiles, and puts the result next to NAB's published
detectors scored on the same 18 files (bench/data/nab_published.json, from numenta/NAB).

    python -m bench.nab [--data DIR] [--set KEY=VALUE ...] [--no-write] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

from bench._report import write_section
from bench.nab_scoring import PROFILES, best_threshold, normalised, profiles_from_config, row_weights, score_detections
from monitor.cli.spikes import CLI_DEFAULTS, build_params, detect_rows, read_rows

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nab-dev"
PUBLISHED = Path(__file__).resolve().parent / "data" / "nab_published.json"
# full-corpus (58 files, 116 windows) normalised scores of the published detectors, from the
# corpus totals of their result files (see nab_published.json)
CORPUS_WINDOWS = 116


def run_file(args: tuple[str, str, dict]) -> dict:
    data_dir, key, settings = args
    path = Path(data_dir) / "data" / key
    started = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        results = list(detect_rows(read_rows(fh, str(path), "timestamp", "value", None), settings))
    seconds = time.perf_counter() - started
    return {
        "key": key,
        "timestamps": [row.time_text for row, _ in results],
        "is_spike": [bool(r is not None and r.is_spike) for _, r in results],
        "score": [0.0 if r is None else r.anomaly_score for _, r in results],
        "seconds": seconds,
    }


def evaluate(data_dir: Path, overrides: tuple[str, ...] = (), jobs: int = 2) -> dict:
    windows = json.loads((data_dir / "labels" / "combined_windows.json").read_text())
    profiles_path = data_dir / "config" / "profiles.json"
    profiles = profiles_from_config(json.loads(profiles_path.read_text())) if profiles_path.exists() else PROFILES
    settings = build_params(None, "auto", CLI_DEFAULTS["direction"], CLI_DEFAULTS["gaps"], CLI_DEFAULTS["cooldown"], overrides)
    keys = sorted(windows)
    with mp.get_context("fork").Pool(jobs) as pool:
        runs = pool.map(run_file, [(str(data_dir), k, settings) for k in keys])
    per_file: dict[str, dict[str, dict]] = {}
    totals: dict[str, dict] = {}
    for name, profile in profiles.items():
        raw = 0.0
        n_windows = 0
        sweep = []
        for run in runs:
            wins = [(a[:19], b[:19]) for a, b in windows[run["key"]]]
            weights = row_weights([t[:19] for t in run["timestamps"]], wins, profile)
            fs = score_detections(weights, np.array(run["is_spike"]), profile)
            per_file.setdefault(run["key"], {})[name] = {
                "score": fs.score, "tp": fs.tp_windows, "fn": fs.fn_windows, "fp": fs.fp_rows,
                "detections": len(fs.detections), "windows": weights.n_windows,
            }
            raw += fs.score
            n_windows += weights.n_windows
            sweep.append((weights, np.array(run["score"])))
        threshold, swept_raw = best_threshold(sweep, profile)
        totals[name] = {
            "raw": raw, "windows": n_windows, "score": normalised(raw, n_windows, profile),
            "swept_threshold": threshold, "swept_score": normalised(swept_raw, n_windows, profile),
        }
    rows = sum(len(r["timestamps"]) for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    return {"totals": totals, "per_file": per_file, "rows": rows, "seconds": seconds, "settings": settings,
            "profiles": profiles}


def published_on_subset(keys: list[str], n_windows: int, profiles: dict) -> dict:
    pub = json.loads(PUBLISHED.read_text())
    table = {}
    for det, body in pub["detectors"].items():
        table[det] = {"name": body["name"], "subset": {}, "corpus": {}}
        for prof, entry in body["profiles"].items():
            missing = [k for k in keys if k not in entry["files"]]
            if missing:
                raise SystemExit(f"{PUBLISHED}: {det}/{prof} lacks {missing}")
            raw = sum(entry["files"][k] for k in keys)
            table[det]["subset"][prof] = normalised(raw, n_windows, profiles[prof])
            table[det]["corpus"][prof] = normalised(entry["corpus_raw_score"], CORPUS_WINDOWS, profiles[prof])
    return table


def report(result: dict, overrides: tuple[str, ...]) -> str:
    totals, per_file, profiles = result["totals"], result["per_file"], result["profiles"]
    names = list(profiles)
    keys = sorted(per_file)
    n_windows = totals["standard"]["windows"]
    pub = published_on_subset(keys, n_windows, profiles)
    lines = [
        "Spike detector (`monitor spikes` with its defaults: "
        + ", ".join(f"{k}={v}" for k, v in sorted(result["settings"].items()))
        + (f"; overrides {' '.join(overrides)}" if overrides else "")
        + ") on the 18 NAB dev files (realKnownCause, artificialWithAnomaly, artificialNoAnomaly; "
        f"{n_windows} windows), scored with bench/nab_scoring.py on its binary `is_spike` column. "
        "The published detectors are NAB's own result files scored by NAB at their corpus-optimised "
        "thresholds, restricted to the same 18 files (bench/data/nab_published.json, from numenta/NAB).",
        "",
        "Command: `python -m bench.nab`",
        "",
        "| detector | " + " | ".join(f"{p} (18 dev files)" for p in names) + " | standard, full corpus (58 files) |",
        "|---|" + "---:|" * (len(names) + 1),
        "| **spike detector (this project), is_spike** | "
        + " | ".join(f"**{totals[p]['score']:.1f}**" for p in names) + " | not run (held out) |",
        "| spike detector, anomaly_score with NAB's threshold sweep | "
        + " | ".join(f"{totals[p]['swept_score']:.1f}" for p in names) + " | |",
    ]
    for det in ("ARTime", "numenta", "contextOSE", "twitterADVec"):
        d = pub[det]
        lines.append(f"| {d['name']} (published) | " + " | ".join(f"{d['subset'][p]:.1f}" for p in names)
                     + f" | {d['corpus']['standard']:.1f} |")
    lines += [
        "| null detector (no detections) | " + " | ".join("0.0" for _ in names) + " | 0.0 |",
        "",
        "Per file, standard profile (raw NAB score; windows detected / missed; false-positive detections):",
        "",
        "| file | windows | raw score | TP | FN | FP | ARTime raw |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    art = json.loads(PUBLISHED.read_text())["detectors"]["ARTime"]["profiles"]["standard"]["files"]
    for key in keys:
        s = per_file[key]["standard"]
        lines.append(f"| {key} | {s['windows']} | {s['score']:.3f} | {s['tp']} | {s['fn']} | {s['fp']} | {art[key]:.3f} |")
    lines += [
        "",
        f"Throughput of the single-series path (CLI): {result['rows']:,} rows in {result['seconds']:.1f} s of "
        f"detector time, {result['rows'] / result['seconds']:,.0f} rows/s.",
        "",
        "Notes: the published numbers on the full corpus are the NAB scoreboard's; on 18 files a single window is "
        f"worth {100 / n_windows:.0f} points of the standard score, so differences of a few points are noise. "
        "The detector's settings were chosen on these dev files (see docs/spikes.md, 'Evaluation'); the held-out "
        "Twitter-volume files were never seen.",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = ap.parse_args()
    if not (args.data / "labels" / "combined_windows.json").exists():
        raise SystemExit(f"NAB data not found under {args.data}")
    result = evaluate(args.data, tuple(args.overrides), args.jobs)
    body = report(result, tuple(args.overrides))
    print(body)
    if not args.no_write and not args.overrides:
        write_section("nab", "Spike detection on NAB (dev subset)", body)


if __name__ == "__main__":
    main()

