"""Enrichment benchmark: quality on the public sets, throughput per backend, transformers overhead.

    python bench/enrichment.py [--data-dir ../shared/data] [--posts 5000]

Writes the `enrichment` section of docs/benchmarks.md. The transformers comparison (our backend
against the bare `pipeline(...)` call on the same tiny local model, same texts, same batch size)
runs when torch and transformers are installed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._report import write_section  # noqa: E402
from monitor.enrich import datasets as ds  # noqa: E402
from monitor.enrich.report import run_eval  # noqa: E402


def transformers_overhead(texts: list[str], batch_size: int = 32, repeat: int = 5) -> str:
    try:
        import torch
        from transformers import pipeline
    except ImportError:
        return "transformers overhead: skipped (torch/transformers not installed; pip install '.[transformers]')\n"
    from monitor.enrich.hf import TransformersBackend
    from monitor.enrich.settings import SentimentSettings
    from monitor.enrich.tiny import build_tiny_classifier

    torch.set_num_threads(1)  # one core for both, so other processes disturb them alike
    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_classifier(Path(tmp) / "tiny")
        backend = TransformersBackend(SentimentSettings(backend="transformers", model=str(path), device="cpu",
                                                        batch_size=batch_size, max_length=128))
        bare = pipeline("text-classification", model=str(path), device=-1, top_k=None)
        langs = ["en"] * len(texts)

        def run_bare() -> None:
            bare(texts, batch_size=batch_size, truncation=True, max_length=128)

        def run_ours() -> None:
            backend.analyse(texts, langs)

        run_bare(), run_ours()  # warm-up
        best = {"bare": float("inf"), "ours": float("inf")}
        for _ in range(repeat):  # interleaved, so background load hits both alike
            for name, fn in (("bare", run_bare), ("ours", run_ours)):
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    n = len(texts)
    overhead = best["ours"] / best["bare"] - 1
    return (
        "| tiny BERT (L2/H32), CPU, 1 thread, batch 32, best of 5 interleaved | posts | seconds | posts/s |\n|---|---:|---:|---:|\n"
        f"| bare `pipeline(...)` call | {n} | {best['bare']:.2f} | {n / best['bare']:,.0f} |\n"
        f"| transformers backend (`analyse`) | {n} | {best['ours']:.2f} | {n / best['ours']:,.0f} |\n\n"
        f"Overhead of the backend over the bare pipeline: **{overhead * 100:+.1f}%** (target: at most +10%).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ds.default_data_dir())
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args()
    report = run_eval(args.data_dir, ("embedded", "vader", "snownlp"), throughput_posts=args.posts)
    texts = [e.text for e in ds.tweeteval_val(args.data_dir)][:2000]
    body = (
        "Command: `python bench/enrichment.py` (also `monitor eval`). Data: `../shared/data` "
        "(TweetEval val, XLM-T dev, Chinese reviews dev, airline tweets, banking77 train). "
        "Throughput runs in one process on one core's worth of Python (numpy single-threaded work).\n\n"
        + report.to_markdown()
        + "\n### transformers backend overhead\n\n"
        + transformers_overhead(texts)
    )
    print(body)
    if not args.no_write:
        write_section("enrichment", "Enrichment: sentiment, categories, language, throughput", body)


if __name__ == "__main__":
    main()
