"""Run the enrichment measurements and render them as a Markdown report (CLI and benchmark)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from . import datasets as ds
from .evaluation import (
    CategoryScoreResult,
    SentimentScore,
    Throughput,
    build_backend,
    enrichment_throughput,
    sample_posts,
    score_categories,
    score_sentiment,
    sentiment_sets,
    time_it,
)
from .backends import SentimentBackend
from .language import LanguageDetector
from .settings import DEFAULT_LANGUAGES

_XLMT = tuple(f"xlmt_heldout:{lang}" for lang in ("en", "ar", "de", "es", "fr", "hi", "it", "pt"))
_ALL_SETS = ("tweeteval_val", "airline", *_XLMT, "zh_heldout")
# which sets each backend is measured on (VADER is English-only, SnowNLP Chinese-only)
BACKEND_SETS = {
    "embedded": _ALL_SETS,
    "transformers": _ALL_SETS,
    "vader": ("tweeteval_val", "airline", "xlmt_heldout:en"),
    "snownlp": ("zh_heldout",),
}
SHIPPED = "embedded"  # the notes about training data concern the shipped model only


@dataclass
class EvalReport:
    data_dir: str
    sentiment: list[SentimentScore] = field(default_factory=list)
    categories: CategoryScoreResult | None = None
    language_accuracy: dict[str, float] = field(default_factory=dict)
    throughput: list[Throughput] = field(default_factory=list)
    heldout_training: dict | None = None  # training/heldout_results.json, when present
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        data = asdict(self)
        for t, row in zip(self.throughput, data["throughput"]):
            row["per_second"] = round(t.per_second, 1)
        return json.dumps(data, indent=1, ensure_ascii=False)

    def to_markdown(self) -> str:
        out = []
        out.append("### Sentiment\n")
        out.append("| dataset | backend | n | macro recall | macro F1 | accuracy | note |")
        out.append("|---|---|---:|---:|---:|---:|---|")
        for s in self.sentiment:
            out.append(
                f"| {s.dataset} | {s.backend} | {s.n} | {s.macro_recall:.3f} | {s.macro_f1:.3f} | {s.accuracy:.3f} | {s.note} |"
            )
        if self.heldout_training:
            out.append("\n### Held-out scores of the model trained without the evaluation rows\n")
            out.append("From `training/heldout_results.json` (written by `python training/train_sentiment.py --heldout`).\n")
            out.append("| dataset | macro recall | macro F1 | accuracy |")
            out.append("|---|---:|---:|---:|")
            for name, res in self.heldout_training.items():
                if name == "xlmt_heldout":
                    for lang, r in res.items():
                        out.append(f"| xlmt {lang} (n={r['n']}) | {r['macro_recall']:.3f} | {r['macro_f1']:.3f} | |")
                elif "accuracy" in res:
                    out.append(f"| {name} (n={res['n']}) | | | {res['accuracy']:.3f} |")
                else:
                    out.append(f"| {name} (n={res['n']}) | {res['macro_recall']:.3f} | | |")
        if self.categories:
            c = self.categories
            out.append("\n### Categories on banking77 (mapped intents, see docs/enrichment.md)\n")
            out.append(f"n = {c.n}; top-1 accuracy **{c.top1_accuracy:.3f}**; mapped category among the post's "
                       f"categories {c.hit_rate:.3f}; left as other {c.other_rate:.3f}.\n")
            out.append("| category | hit rate |")
            out.append("|---|---:|")
            out += [f"| {k} | {v:.3f} |" for k, v in c.per_category.items()]
        if self.language_accuracy:
            out.append("\n### Language detection (XLM-T dev + Chinese reviews, 14 configured languages)\n")
            out.append("| language | accuracy |")
            out.append("|---|---:|")
            out += [f"| {k} | {v:.3f} |" for k, v in self.language_accuracy.items()]
        if self.throughput:
            out.append("\n### Throughput (one process, best of 3)\n")
            out.append("Sentiment-only rows score TweetEval val texts (SnowNLP: Chinese reviews); the enrich row "
                       "runs language, sentiment, categories, security and sensitive-data checks on a mix of "
                       "TweetEval val, XLM-T and Chinese posts.\n")
            out.append("| what | posts | seconds | posts/s |")
            out.append("|---|---:|---:|---:|")
            out += [f"| {t.what} | {t.posts} | {t.seconds:.2f} | {t.per_second:,.0f} |" for t in self.throughput]
        if self.skipped:
            out.append("\nSkipped: " + "; ".join(self.skipped))
        return "\n".join(out) + "\n"


def _select(sets: dict, spec: str, limit: int | None) -> tuple[str, list[ds.Example], str] | None:
    name, _, lang = spec.partition(":")
    if name not in sets:
        return None
    rows, note = sets[name]
    if lang:
        rows = [r for r in rows if r.lang == lang]
        name = f"{name}:{lang}"
    return name, rows[:limit] if limit else rows, note


def run_eval(
    data_dir: Path,
    backends: Sequence[str] = ("embedded", "vader", "snownlp"),
    model: str | None = None,
    limit: int | None = None,
    throughput_posts: int = 5000,
) -> EvalReport:
    report = EvalReport(str(data_dir))
    sets = sentiment_sets(data_dir)
    throughput_texts = [e.text for e in ds.tweeteval_val(data_dir)]
    for name in backends:
        try:
            backend = build_backend(name, model=model) if name == "transformers" else build_backend(name)
        except Exception as exc:  # noqa: BLE001 - an optional backend that is not installed is reported, not fatal
            report.skipped.append(f"{name}: {exc}")
            continue
        for spec in BACKEND_SETS.get(name, BACKEND_SETS["embedded"]):
            chosen = _select(sets, spec, limit)
            if chosen is None:
                continue
            set_name, rows, note = chosen
            note = note if name == SHIPPED else ""
            report.sentiment.append(score_sentiment(backend, set_name, rows, note, binary=set_name.startswith("zh")))
        n = min(throughput_posts, 1000) if name in ("snownlp", "transformers") else throughput_posts
        texts = [throughput_texts[i % len(throughput_texts)] for i in range(n)]
        if name == "snownlp":
            zh_rows = sets["zh_heldout"][0]
            texts = [zh_rows[i % len(zh_rows)].text for i in range(n)]
        langs = ["zh" if name == "snownlp" else "en"] * n
        def run(backend: SentimentBackend = backend, texts: list[str] = texts, langs: list[str] = langs) -> None:
            backend.analyse(texts, langs)

        report.throughput.append(time_it(f"sentiment only: {backend.description}", n, run))
    report.categories = score_categories(data_dir)
    report.language_accuracy = language_accuracy(data_dir, limit)
    mixed = ds.tweeteval_val(data_dir) + sets["xlmt_heldout"][0] + sets["zh_heldout"][0]
    posts = sample_posts(mixed, throughput_posts)
    report.throughput.append(enrichment_throughput(posts))
    heldout = Path(__file__).resolve().parents[2] / "training" / "heldout_results.json"
    if heldout.exists():
        report.heldout_training = json.loads(heldout.read_text(encoding="utf-8"))
    return report


def language_accuracy(data_dir: Path, limit: int | None = None) -> dict[str, float]:
    detector = LanguageDetector(DEFAULT_LANGUAGES)
    rows = ds.xlmt_dev(data_dir) + ds.zh_dev(data_dir)
    by_lang: dict[str, list[int]] = {}
    for ex in rows:
        stats = by_lang.setdefault(ex.lang, [0, 0])
        if limit and stats[1] >= limit:
            continue
        stats[0] += detector.detect(ex.text) == ex.lang
        stats[1] += 1
    return {lang: ok / n for lang, (ok, n) in sorted(by_lang.items()) if n}
