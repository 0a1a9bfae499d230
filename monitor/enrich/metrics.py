"""Small, dependency-free classification metrics (the official ones of each benchmark)."""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from .text import decode_escapes


def per_class_recall(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    out = {}
    for label in labels:
        total = sum(1 for g in gold if g == label)
        hit = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        out[label] = hit / total if total else 0.0
    return out


def macro_recall(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """TweetEval's sentiment metric: recall averaged over the classes present in `labels`."""
    rec = per_class_recall(gold, pred, labels)
    return sum(rec.values()) / len(rec) if rec else 0.0


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """XLM-T's metric."""
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(1 for g, p in zip(gold, pred) if g == p) / len(gold) if gold else 0.0


_URL = re.compile(r"https?://\S+|\bhttp\b")


def dedup_key(text: str) -> str:
    """The overlap key of shared/data's SOURCE.md: decoded, no URLs, @user, no RT, alphanumerics only."""
    t = decode_escapes(text)
    t = _URL.sub("", t)
    t = re.sub(r"@\S+", "@user", t)
    t = re.sub(r"^\s*RT\b", "", t)
    t = unicodedata.normalize("NFKC", t).casefold()
    return "".join(ch for ch in t if ch.isalnum())
