"""Reference backends for `monitor eval`: VADER (English) and SnowNLP (Chinese).

Optional extra `eval` (pip install 'feedback-monitor[eval]'). Both are lexicon/NB baselines that
the embedded model is measured against; neither is multilingual.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import EnrichmentError
from ..models import Sentiment
from .backends import SentimentBackend, SentimentResult
from .settings import SentimentSettings
from .text import normalise_tweet


class VaderBackend(SentimentBackend):
    """VADER with its documented thresholds (compound >= 0.05 positive, <= -0.05 negative)."""

    name = "vader"

    def __init__(self, settings: SentimentSettings) -> None:
        super().__init__(settings)
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:
            raise EnrichmentError("the vader backend needs vaderSentiment: pip install 'feedback-monitor[eval]'") from exc
        self._analyzer = SentimentIntensityAnalyzer()

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[SentimentResult]:
        out = []
        for text in texts:
            compound = self._analyzer.polarity_scores(normalise_tweet(text))["compound"]
            label = (
                Sentiment.POSITIVE if compound >= 0.05 else Sentiment.NEGATIVE if compound <= -0.05 else Sentiment.NEUTRAL
            )
            out.append(SentimentResult(label, round(float(compound), 4)))
        return out


class SnowNLPBackend(SentimentBackend):
    """SnowNLP's Naive Bayes (P(positive) > 0.5 positive; meaningless outside Chinese)."""

    name = "snownlp"

    def __init__(self, settings: SentimentSettings) -> None:
        super().__init__(settings)
        try:
            from snownlp import SnowNLP  # slow import (about 4 s, 400 MB): only when asked for
        except ImportError as exc:
            raise EnrichmentError("the snownlp backend needs snownlp: pip install 'feedback-monitor[eval]'") from exc
        self._snow = SnowNLP

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[SentimentResult]:
        out = []
        for text in texts:
            try:
                p = float(self._snow(text).sentiments) if text.strip() else 0.5
            except Exception:  # noqa: BLE001 - SnowNLP fails on some inputs; a reference must not stop a run
                p = 0.5
            label = Sentiment.POSITIVE if p > 0.5 else Sentiment.NEGATIVE if p < 0.5 else Sentiment.NEUTRAL
            out.append(SentimentResult(label, round(2 * p - 1, 4)))
        return out
