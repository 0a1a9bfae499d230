"""The embedded sentiment model: a linear classifier over hashed n-grams and lexicon cues.

Pure numpy at run time. The weights live in `data/sentiment_model.npz` (built by
`training/train_sentiment.py`, described in docs/models.md). Scoring one post:

    x_text  = log(1 + counts of hashed features), L2-normalised        (see features.py)
    x_dense = lexicon cues (counts of positive/negative words, negated hits, valence sum...) * alpha
    x_lang  = one-hot language group (a bias per training language)
    logits  = W_text[x_text] + W_dense x_dense + W_lang[x_lang] + b + class_bias
"""

from __future__ import annotations

import math
import threading
from itertools import chain
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from .features import Featurizer
from .lexicon import PolarityLexicon
from .text import fold, normalise_tweet

MODEL_FILE = "sentiment_model.npz"
DENSE_NAMES = (
    "log_pos", "log_neg", "log_strong_pos", "log_strong_neg", "negated_hits", "tanh_sum",
    "sum_pos", "sum_neg", "sum_zero", "max_pos", "min_neg",
)  # fmt: skip
LANG_GROUPS = ("en", "zh", "ar", "fr", "de", "hi", "it", "pt", "es")  # languages with training data


def dense_features(lexicon: PolarityLexicon, norm: str) -> list[float]:
    hits = lexicon.hits(norm, fold(norm))
    pos = neg = spos = sneg = negated = 0
    total = 0.0
    max_pos = min_neg = 0.0
    for hit in hits:
        v = hit.valence
        total += v
        if v > 0:
            pos += 1
            spos += v >= 2.5
            max_pos = max(max_pos, v)
        elif v < 0:
            neg += 1
            sneg += v <= -2.5
            min_neg = min(min_neg, v)
        negated += hit.negated
    return [
        math.log1p(pos), math.log1p(neg), math.log1p(spos), math.log1p(sneg), float(negated),
        math.tanh(total / 4), float(total > 0.5), float(total < -0.5), float(abs(total) <= 0.5),
        max_pos / 4, min_neg / 4,
    ]  # fmt: skip


def lang_index(lang: str | None) -> int:
    """Index into LANG_GROUPS, or -1 for a language without training data."""
    try:
        return LANG_GROUPS.index(lang or "")
    except ValueError:
        return -1


@dataclass(frozen=True, slots=True)
class Vector:
    """One post, vectorised: unique hashed indices with their (normalised) values, plus dense cues."""

    indices: np.ndarray  # int64
    values: np.ndarray  # float32, L2-normalised
    dense: list[float]
    lang: int


class Vectorizer:
    def __init__(self, bits: int, lexicon: PolarityLexicon) -> None:
        self.featurizer = Featurizer(bits=bits)
        self.lexicon = lexicon

    def vector(self, text: str, lang: str | None) -> Vector:
        norm = normalise_tweet(text)
        feats = self.featurizer.features_of_normalised(norm)
        idx, counts = np.unique(np.asarray(feats, dtype=np.int64), return_counts=True)
        values = np.log1p(counts.astype(np.float32))
        norm2 = float(np.sqrt(values @ values)) or 1.0
        return Vector(idx, values / norm2, dense_features(self.lexicon, norm), lang_index(lang))


HEADS = ("en", "zh", "multi")


def head_for(lang: str | None) -> str:
    """English and unknown text go to the English head, Chinese to the Chinese one, the rest to multi."""
    if lang in (None, "", "en", "und"):
        return "en"
    return "zh" if lang == "zh" else "multi"


@dataclass(frozen=True, slots=True)
class Head:
    """One linear classifier. A binary head (zh) maps P(positive) near 0.5 to neutral."""

    w_text: np.ndarray  # (2**bits, 3)
    w_dense: np.ndarray  # (len(DENSE_NAMES), 3)
    w_lang: np.ndarray  # (len(LANG_GROUPS), 3)
    bias: np.ndarray  # (3,)
    neutral_band: float  # binary heads only: |P(pos) - 0.5| below this is neutral


class EmbeddedSentimentModel:
    """Loads the shipped weights once; `predict_proba` gives (n, 3) negative/neutral/positive."""

    def __init__(self, weights: dict[str, np.ndarray], lexicon: PolarityLexicon) -> None:
        self.bits = int(weights["bits"])
        self.alpha = float(weights["alpha"])
        self.heads = {
            name: Head(
                weights[f"{name}_w_text"].astype(np.float32),
                weights[f"{name}_w_dense"].astype(np.float32),
                weights[f"{name}_w_lang"].astype(np.float32),
                weights[f"{name}_bias"].astype(np.float32),
                float(weights[f"{name}_neutral_band"]),
            )
            for name in HEADS
        }
        self.vectorizer = Vectorizer(self.bits, lexicon)

    @classmethod
    def load(cls, path: Path | None = None, lexicon: PolarityLexicon | None = None) -> "EmbeddedSentimentModel":
        if path is None:
            ref = resources.files("monitor.enrich") / "data" / MODEL_FILE
            with ref.open("rb") as f:
                weights = dict(np.load(f))
        else:
            weights = dict(np.load(path))
        return cls(weights, lexicon or PolarityLexicon())

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str | None]) -> np.ndarray:
        """(n, 3) probabilities. Vectorised per head: one sort and a few bincounts per batch."""
        n = len(texts)
        out = np.empty((n, 3), dtype=np.float32)
        by_head: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            by_head.setdefault(head_for(lang), []).append(i)
        for name, rows in by_head.items():
            out[rows] = self._head_proba(self.heads[name], [texts[i] for i in rows], [langs[i] for i in rows])
        return out

    def _head_proba(self, head: Head, texts: list[str], langs: list[str | None]) -> np.ndarray:
        n = len(texts)
        featurizer = self.vectorizer.featurizer
        lexicon = self.vectorizer.lexicon
        feats: list[list[int]] = []
        dense = np.empty((n, head.w_dense.shape[0]), dtype=np.float32)
        for i, text in enumerate(texts):
            norm = normalise_tweet(text)
            feats.append(featurizer.features_of_normalised(norm))
            dense[i] = dense_features(lexicon, norm)
        lengths = np.fromiter((len(f) for f in feats), dtype=np.int64, count=n)
        flat = np.fromiter(chain.from_iterable(feats), dtype=np.int64, count=int(lengths.sum()))
        row_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # unique (row, feature) pairs with counts -> log(1 + tf), L2-normalised per row
        keys, counts = np.unique(row_of << self.bits | flat, return_counts=True)
        rows = keys >> self.bits
        idx = keys & ((1 << self.bits) - 1)
        values = np.log1p(counts.astype(np.float32))
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n))
        norms[norms == 0] = 1.0
        values = values / norms[rows]
        contrib = head.w_text[idx] * values[:, None]
        z = np.stack([np.bincount(rows, weights=contrib[:, k], minlength=n) for k in range(3)], axis=1)
        z = z.astype(np.float32) + head.bias + (dense * self.alpha) @ head.w_dense
        lang_idx = np.fromiter((lang_index(lang) for lang in langs), dtype=np.int64, count=n)
        known = lang_idx >= 0
        z[known] += head.w_lang[lang_idx[known]]
        if head.neutral_band > 0:  # binary head: P(pos) near 0.5 is neutral
            p_pos = 1.0 / (1.0 + np.exp(-(z[:, 2] - z[:, 0])))
            neutral = np.abs(p_pos - 0.5) < head.neutral_band
            proba = np.stack([1 - p_pos, np.zeros(n), p_pos], axis=1)
            proba[neutral] = np.stack([(1 - p_pos) * 0.5, np.full(n, 0.5), p_pos * 0.5], axis=1)[neutral]
            return proba
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


_lock = threading.Lock()
_shared: EmbeddedSentimentModel | None = None


def shared_model() -> EmbeddedSentimentModel:
    """The process-wide model with the built-in lexicon (loaded on first use)."""
    global _shared
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = EmbeddedSentimentModel.load()
    return _shared
