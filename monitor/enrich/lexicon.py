"""Polarity lexicon: multilingual positive/negative words with valences, negation-aware.

Sources: `lexicons/sentiment.yaml` (hand-written, every supported language plus emoji) and the
VADER lexicon for English (`data/vader_lexicon.txt.gz`, MIT licence). Users add words through a
`sentiment:` section in their lexicon files. The embedded model turns the hits into features, so
one learned weight per cue carries over to languages without training data.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Mapping

import yaml

from .matcher import KeywordMatcher
from .text import fold

HAND_VALENCE = 2.0  # valence given to hand-written words (VADER's scale is -4..4)
_SPACED_NEGATORS = frozenset(
    """not no never nothing nobody without cannot cant can't dont don't doesnt doesn't didnt didn't isnt
    isn't wasnt wasn't arent aren't wont won't wouldnt wouldn't aint ain't hardly nicht kein keine nie ne
    pas jamais non nunca nada nem não nao mai не нет ни değil hiç không chẳng chưa""".split()
)
_CJK_NEGATORS = frozenset("不没沒无無非别別未안못")


@dataclass(frozen=True, slots=True)
class PolarityHit:
    valence: float  # after negation
    negated: bool


def _read_vader() -> dict[str, float]:
    ref = resources.files("monitor.enrich") / "data" / "vader_lexicon.txt.gz"
    out: dict[str, float] = {}
    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            word, _, val = line.rstrip("\n").partition("\t")
            if word and val:
                out[word] = float(val)
    return out


def _read_builtin_yaml() -> Mapping[str, Mapping[str, list[str]]]:
    ref = resources.files("monitor.enrich") / "lexicons" / "sentiment.yaml"
    return yaml.safe_load(ref.read_text(encoding="utf-8")) or {}


class PolarityLexicon:
    def __init__(self, sections: Iterable[Mapping[str, Mapping[str, list[str]]]] = (), vader: bool = True) -> None:
        self._matcher: KeywordMatcher[float] = KeywordMatcher()
        valences: dict[str, float] = {}
        if vader:
            for word, val in _read_vader().items():
                # VADER's emoticons with punctuation inside would match inside words; keep letters only
                if any(c.isalpha() for c in word) and all(c.isalpha() or c in "'-" for c in word):
                    valences[fold(word)] = val
        for section in (_read_builtin_yaml(), *sections):
            for _lang, polar in (section or {}).items():
                for sign, key in ((1.0, "positive"), (-1.0, "negative")):
                    for word in (polar or {}).get(key, []) or []:
                        valences[fold(str(word))] = sign * HAND_VALENCE
        for word, val in valences.items():
            self._matcher.add(word, val)
        self._matcher.build()

    def __len__(self) -> int:
        return len(self._matcher)

    def hits(self, text: str, folded: str | None = None) -> list[PolarityHit]:
        folded = fold(text) if folded is None else folded
        out = []
        for hit in self._matcher.iter_hits(folded):
            negated = _negated(folded, hit.start)
            out.append(PolarityHit(-hit.payload if negated else hit.payload, negated))
        return out

    def score(self, text: str) -> float:
        """A crude polarity in [-1, 1] (used only where no model applies)."""
        total = sum(h.valence for h in self.hits(text))
        return max(-1.0, min(1.0, total / 4.0))


def _negated(folded: str, start: int) -> bool:
    if start == 0:
        return False
    before = folded[max(0, start - 2) : start]
    if any(c in _CJK_NEGATORS for c in before):
        return True
    words = folded[max(0, start - 40) : start].replace("’", "'").split()[-3:]
    return any(w.strip(".,!?;:\"()") in _SPACED_NEGATORS for w in words)
