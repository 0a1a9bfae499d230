"""Emerging terms: words, hashtags and cashtags much more frequent than in the previous period.

Terms are counted once per post (document frequency). Spaced scripts split into words;
Chinese and Japanese, which have no spaces, give character n-grams of 2 to 4. Overlapping
n-grams of one phrase are joined back into it, and an n-gram inside a longer kept term that
covers (nearly) all of its posts is dropped, so "提币失败" shows once instead of as "提币",
"币失" and "失败".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_HASHTAG = re.compile(r"(?<!\w)#(\w{2,40})")
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{1,9})\b")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7af]")

# Frequent words that say nothing on their own (English and a few common ones elsewhere); the
# comparison with the previous period filters the rest.
STOPWORDS = frozenset("""
a about after again all also am an and any app are as at be been before but by can cannot could did do does
doing don't dont for from get got had has have having he her here him his how i i'm im if in into is it it's
its just me more most my no not now of off on one only or other our out over so some still such than that
the their them then there these they this those to too until up us very was we were what when where which
while who why will with would you your yours que de la el en los las por para con una un es no se del lo
le les des et est pas pour qui dans une ne il je und der die das ist nicht ich zu mit den sie es ein eine
на не и в что я с по это как но у за из от так для все уже мне ve bir bu da de ile için çok ama và của
có không là được cho tôi với này một những
""".split())

MAX_NGRAM = 4


def _terms(text: str) -> set[str]:
    text = unicodedata.normalize("NFKC", text)
    text = _EMAIL.sub(" ", _URL.sub(" ", text))
    found: set[str] = set()
    found.update("#" + tag.casefold() for tag in _HASHTAG.findall(text))
    found.update("$" + tag.upper() for tag in _CASHTAG.findall(text))
    text = _CASHTAG.sub(" ", _HASHTAG.sub(" ", _MENTION.sub(" ", text)))
    for run in _CJK_RUN.findall(text):
        for n in range(2, MAX_NGRAM + 1):
            found.update(run[i : i + n] for i in range(len(run) - n + 1))
    spaced = _CJK_RUN.sub(" ", text).casefold()
    for word in _WORD.findall(spaced):
        word = word.strip("'’-")
        min_len = 2 if _HANGUL.search(word) else 3
        if len(word) >= min_len and word not in STOPWORDS:
            found.add(word)
    return found


def document_frequencies(texts: Iterable[str]) -> tuple[Counter[str], int]:
    """(posts per term, number of posts)."""
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        counts.update(_terms(text))
    return counts, n


@dataclass(frozen=True)
class EmergingTerm:
    term: str
    current: int
    previous: int
    excess: float  # posts above what the previous period's rate predicts


def emerging_terms(current: Counter[str], n_current: int, previous: Counter[str], n_previous: int,
                   min_posts: int = 3, min_growth: float = 3.0, limit: int = 10) -> list[EmergingTerm]:
    """Terms whose share of posts grew at least `min_growth` times, biggest excess first."""
    if n_current == 0:
        return []
    min_posts = max(min_posts, int(0.002 * n_current))
    candidates: list[EmergingTerm] = []
    for term, now in current.items():
        if now < min_posts:
            continue
        before = previous.get(term, 0)
        rate_now = now / n_current
        rate_before = (before + 1) / (n_previous + 1)  # add-one: a term never seen before is not infinite
        if rate_now < min_growth * rate_before:
            continue
        candidates.append(EmergingTerm(term, now, before, now - rate_before * n_current))
    candidates = _merge_cjk_chains(candidates)
    candidates.sort(key=lambda t: (-t.excess, -len(t.term), t.term))
    return _drop_contained(candidates)[:limit]


def _is_cjk(term: str) -> bool:
    return _CJK_RUN.fullmatch(term) is not None


def _similar(a: int, b: int) -> bool:
    return min(a, b) >= 0.8 * max(a, b)


def _merge_cjk_chains(terms: list[EmergingTerm], max_len: int = 12) -> list[EmergingTerm]:
    """Join overlapping CJK 4-grams of about the same count back into the phrase they came from.

    "为什么提币失败" yields the 4-grams 为什么提, 什么提币, 么提币失, 提币失败: the same phrase
    four times over. Each chain of 4-grams overlapping by three characters becomes one term.
    """
    grams = {t.term: t for t in terms if len(t.term) == MAX_NGRAM and _is_cjk(t.term)}
    if not grams:
        return terms
    by_prefix: dict[str, list[EmergingTerm]] = {}
    by_suffix: dict[str, list[EmergingTerm]] = {}
    for t in grams.values():
        by_prefix.setdefault(t.term[:-1], []).append(t)
        by_suffix.setdefault(t.term[1:], []).append(t)
    used: set[str] = set()
    merged: list[EmergingTerm] = []
    for seed in sorted(grams.values(), key=lambda t: (-t.current, t.term)):
        if seed.term in used:
            continue
        used.add(seed.term)
        phrase, count, previous, excess = seed.term, seed.current, seed.previous, seed.excess
        for direction in ("right", "left"):
            while len(phrase) < max_len:
                key = phrase[-(MAX_NGRAM - 1):] if direction == "right" else phrase[: MAX_NGRAM - 1]
                pool = by_prefix.get(key, []) if direction == "right" else by_suffix.get(key, [])
                # a more frequent gram (a shorter phrase's core) is passed through, not consumed
                options = [t for t in pool if (t.term not in used and _similar(t.current, count))
                           or (t.term in used and t.current >= count)]
                if not options:
                    break
                step = max(options, key=lambda t: (t.current, t.term))
                if step.term not in used:
                    used.add(step.term)
                    previous, excess = max(previous, step.previous), min(excess, step.excess)
                count = min(count, step.current)
                phrase = phrase + step.term[-1] if direction == "right" else step.term[0] + phrase
        merged.append(EmergingTerm(phrase, count, previous, excess))
    return [t for t in terms if t.term not in grams] + merged


def _drop_contained(terms: list[EmergingTerm]) -> list[EmergingTerm]:
    """Drop a CJK n-gram when a longer kept term contains it and covers most of its posts."""
    by_length = sorted(terms, key=lambda t: -len(t.term))
    kept: list[EmergingTerm] = []
    for t in by_length:
        if _is_cjk(t.term) and any(t.term in k.term and k.current >= 0.9 * t.current for k in kept):
            continue
        kept.append(t)
    keep = {id(t) for t in kept}
    return [t for t in terms if id(t) in keep]
