"""Complaint categories from multilingual keyword lexicons (multi-label, with scores).

Lexicons are YAML (the built-in `lexicons/categories.yaml` plus user files, same format, see
docs/enrichment.md). All keywords of all categories and languages go into one Aho-Corasick
automaton, so a post is scanned once whatever the number of keywords.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import ConfigError, Location
from ..models import Category, CategoryScore
from .matcher import KeywordMatcher
from .text import fold

BUILTIN_FILE = "categories.yaml"


@dataclass(frozen=True, slots=True)
class Keyword:
    category: str
    weight: float


@dataclass(frozen=True, slots=True)
class LexiconFile:
    """A parsed lexicon file: category keywords and optional sentiment words."""

    categories: Mapping[str, Mapping[str, list[tuple[str, float]]]]  # category -> lang -> [(kw, w)]
    sentiment: Mapping[str, Mapping[str, list[str]]]  # lang -> {positive: [...], negative: [...]}


def parse_lexicon(data: Any, source: str) -> LexiconFile:
    """Validate a lexicon document; errors name the file and the key."""
    problems: list[tuple[Location, str]] = []
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([(Location(file=source), "a lexicon file must be a mapping")])
    unknown = set(data) - {"categories", "sentiment"}
    for key in sorted(unknown):
        problems.append((Location(file=source, key=key), "unknown key (expected categories, sentiment)"))
    categories: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for cat, langs in (data.get("categories") or {}).items():
        where = f"categories.{cat}"
        if not isinstance(langs, dict):
            problems.append((Location(file=source, key=where), "expected a mapping of language -> keywords"))
            continue
        for lang, words in langs.items():
            if not isinstance(words, list):
                problems.append((Location(file=source, key=f"{where}.{lang}"), "expected a list of keywords"))
                continue
            out = categories.setdefault(str(cat), {}).setdefault(str(lang), [])
            for i, item in enumerate(words):
                entry = _keyword(item)
                if entry is None:
                    problems.append(
                        (Location(file=source, key=f"{where}.{lang}[{i}]"), "expected a keyword or {keyword: weight}")
                    )
                else:
                    out.append(entry)
    sentiment: dict[str, dict[str, list[str]]] = {}
    for lang, polar in (data.get("sentiment") or {}).items():
        if not isinstance(polar, dict) or set(polar) - {"positive", "negative"}:
            problems.append((Location(file=source, key=f"sentiment.{lang}"), "expected {positive: [...], negative: [...]}"))
            continue
        sentiment[str(lang)] = {k: [str(w) for w in (v or [])] for k, v in polar.items()}
    if problems:
        raise ConfigError(problems)
    return LexiconFile(categories, sentiment)


def _keyword(item: Any) -> tuple[str, float] | None:
    if isinstance(item, (str, int)) and str(item).strip():
        return str(item), 1.0
    if isinstance(item, dict) and len(item) == 1:
        (word, weight), = item.items()
        if isinstance(weight, (int, float)) and weight > 0 and str(word).strip():
            return str(word), float(weight)
    return None


def load_lexicon_file(path: Path) -> LexiconFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([(Location(file=str(path)), f"cannot read lexicon file: {exc.strerror or exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([(Location(file=str(path), line=line), f"invalid YAML: {exc}")]) from exc
    return parse_lexicon(data, str(path))


def builtin_lexicon() -> LexiconFile:
    ref = resources.files("monitor.enrich") / "lexicons" / BUILTIN_FILE
    return parse_lexicon(yaml.safe_load(ref.read_text(encoding="utf-8")), f"monitor/enrich/lexicons/{BUILTIN_FILE}")


class Categorizer:
    """Scores every category for a text; keeps those at or above `min_score`, best first."""

    def __init__(self, lexicons: Iterable[LexiconFile], min_score: float = 0.3, max_categories: int = 3) -> None:
        self.min_score = min_score
        self.max_categories = max_categories
        self._matcher: KeywordMatcher[Keyword] = KeywordMatcher()
        names: list[str] = []
        for lex in lexicons:
            for cat, langs in lex.categories.items():
                if cat not in names:
                    names.append(cat)
                for words in langs.values():
                    for word, weight in words:
                        self._matcher.add(word, Keyword(cat, weight))
        self.names = tuple(names)
        self._matcher.build()

    def scores(self, text: str, folded: str | None = None) -> dict[str, float]:
        """Raw score per category that has at least one hit."""
        folded = fold(text) if folded is None else folded
        best: dict[tuple[str, str], float] = {}  # a keyword counts once per category
        for hit in self._matcher.iter_hits(folded):
            key = (hit.payload.category, hit.keyword)
            best[key] = max(best.get(key, 0.0), hit.payload.weight)
        totals: dict[str, float] = {}
        for (cat, _kw), weight in best.items():
            totals[cat] = totals.get(cat, 0.0) + weight
        return {cat: 1.0 - math.exp(-total) for cat, total in totals.items()}

    def categorize(self, text: str, sentiment_score: float = 0.0, folded: str | None = None) -> tuple[CategoryScore, ...]:
        scores = self.scores(text, folded)
        complaint = any(
            scores.get(c, 0.0) >= self.min_score
            for c in (Category.OUTAGE, Category.ACCOUNT, Category.FUNDS, Category.SECURITY)
        )
        praise = scores.get(Category.PRAISE, 0.0)
        if sentiment_score > 0.3 and not complaint:
            # clearly positive text with no complaint is praise even without a praise keyword
            praise = max(praise, min(1.0, 0.3 + 0.6 * sentiment_score))
        elif sentiment_score < -0.3:
            praise *= 0.3  # "thanks for nothing", "great, another outage"
        if praise:
            scores[Category.PRAISE.value] = praise
        kept = sorted(
            ((name, s) for name, s in scores.items() if s >= self.min_score),
            key=lambda item: (-item[1], item[0]),
        )[: self.max_categories]
        if not kept:
            return (CategoryScore(Category.OTHER.value, 1.0),)
        return tuple(CategoryScore(name, round(score, 4)) for name, score in kept)
