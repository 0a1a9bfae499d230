"""Readers for the public evaluation and training sets under `../shared/data` (see each SOURCE.md).

Labels are normalised to "negative" / "neutral" / "positive". Nothing here is needed at run time;
`monitor eval`, `bench/enrichment.py` and `training/train_sentiment.py` use it.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

LABELS = ("negative", "neutral", "positive")

XLMT_LANGS = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # a LABELS value, or a category name for banking77
    lang: str = "en"
    group: str = ""  # provenance (origin file, split) for honest splits


def default_data_dir() -> Path:
    """`../shared/data` next to the repository root."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def semeval_train(data_dir: Path, drop_tweeteval_val: bool = True) -> list[Example]:
    """SemEval 2013-2016 (English tweets); rows that are also in TweetEval val dropped by default."""
    folder = data_dir / "semeval-sentiment"
    rows = _csv_rows(folder / "train.csv")
    drop: set[int] = set()
    if drop_tweeteval_val:
        drop = {int(x) for x in (folder / "rows_in_tweeteval_val.txt").read_text().split()}
    return [
        Example(r["text"], LABELS[int(r["label"])], "en", r["origin_file"])
        for i, r in enumerate(rows)
        if i not in drop
    ]


def tweeteval_val(data_dir: Path) -> list[Example]:
    folder = data_dir / "tweeteval-sentiment"
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (folder / "val_labels.txt").read_text(encoding="utf-8").split()
    return [Example(t, LABELS[int(y)], "en", "tweeteval-val") for t, y in zip(texts, labels)]


def xlmt_dev(data_dir: Path) -> list[Example]:
    rows = _csv_rows(data_dir / "xlmt-sentiment" / "dev.csv")
    return [
        Example(r["text"], LABELS[int(r["label"])], XLMT_LANGS[r["lang"]], f"xlmt-{r['orig_split']}")
        for r in rows
    ]


def zh_dev(data_dir: Path) -> list[Example]:
    rows = _csv_rows(data_dir / "zh-sentiment" / "dev.csv")
    return [Example(r["text"], "positive" if r["label"] == "1" else "negative", "zh", "waimai") for r in rows]


def airline(data_dir: Path) -> list[Example]:
    """Evaluation only: the licence is non-commercial, never train on it."""
    rows = _csv_rows(data_dir / "airline-tweets" / "tweets.csv")
    return [Example(r["text"], r["sentiment"], "en", r["tweet_id"]) for r in rows]


def banking77(data_dir: Path) -> list[Example]:
    rows = _csv_rows(data_dir / "banking77" / "train.csv")
    return [Example(r["text"], r["category"], "en", "banking77") for r in rows]


def fold_of(index: int, k: int, seed: int) -> int:
    """Deterministic fold assignment used for the held-out splits of the dev files."""
    return random.Random(seed * 1_000_003 + index).randrange(k)


def split_heldout(items: list[Example], fraction: float = 0.25, seed: int = 13) -> tuple[list[Example], list[Example]]:
    """Fixed held-out split of a dev file: (train part, held-out part), stratified by label and language."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, ex in enumerate(items):
        by_key.setdefault((ex.lang, ex.label), []).append(i)
    held: set[int] = set()
    rng = random.Random(seed)
    for key in sorted(by_key):
        idx = by_key[key]
        rng.shuffle(idx)
        held.update(idx[: round(len(idx) * fraction)])
    train = [ex for i, ex in enumerate(items) if i not in held]
    test = [ex for i, ex in enumerate(items) if i in held]
    return train, test


def load_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))
