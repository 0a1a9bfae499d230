"""Sentiment backends behind one interface, registered in SENTIMENT_BACKENDS.

A backend takes texts (with their detected languages) and returns one `SentimentResult` per text:
a label and a score in [-1, 1] (P(positive) - P(negative) for probabilistic models). Heavy
libraries (torch, transformers, snownlp, vaderSentiment) are imported only by the backend that
needs them, when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..models import Sentiment
from ..registry import Registry
from .settings import SentimentSettings


@dataclass(frozen=True, slots=True)
class SentimentResult:
    label: Sentiment
    score: float  # -1 .. 1


class SentimentBackend:
    """Interface: build from settings, then `analyse` batches of texts."""

    name = "base"

    def __init__(self, settings: SentimentSettings) -> None:
        self.settings = settings

    @property
    def description(self) -> str:
        return self.name

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[SentimentResult]:
        raise NotImplementedError


SENTIMENT_BACKENDS: Registry[SentimentBackend] = Registry(
    "sentiment_backend",
    SentimentBackend,
    builtins={
        "embedded": "monitor.enrich.backends:EmbeddedBackend",
        "transformers": "monitor.enrich.hf:TransformersBackend",
        "vader": "monitor.enrich.reference:VaderBackend",
        "snownlp": "monitor.enrich.reference:SnowNLPBackend",
    },
)


def label_of(p_neg: float, p_neu: float, p_pos: float) -> Sentiment:
    best = max(p_neg, p_neu, p_pos)
    if best == p_neu:
        return Sentiment.NEUTRAL
    return Sentiment.POSITIVE if best == p_pos else Sentiment.NEGATIVE


def from_probabilities(p_neg: float, p_neu: float, p_pos: float) -> SentimentResult:
    score = max(-1.0, min(1.0, float(p_pos) - float(p_neg)))
    return SentimentResult(label_of(p_neg, p_neu, p_pos), round(score, 4))


class EmbeddedBackend(SentimentBackend):
    """The shipped multilingual model (pure numpy; see docs/models.md)."""

    name = "embedded"

    def __init__(self, settings: SentimentSettings, lexicon=None) -> None:  # noqa: ANN001
        super().__init__(settings)
        from .embedded import EmbeddedSentimentModel, shared_model

        # a user lexicon changes the features, so it gets its own model instance
        self.model = shared_model() if lexicon is None else EmbeddedSentimentModel.load(lexicon=lexicon)

    @property
    def description(self) -> str:
        return "embedded:linear-ngram-lexicon"

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[SentimentResult]:
        proba = self.model.predict_proba(texts, langs)
        return [from_probabilities(*row) for row in proba.tolist()]
