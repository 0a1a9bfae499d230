"""Enrichment (placeholder until the enrichment package lands: neutral sentiment, no categories)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..models import Enrichment, Post, Sentiment
from .settings import EnrichmentSettings


class Enricher:
    name = "placeholder"

    def enrich(self, posts: Sequence[Post]) -> list[Enrichment]:
        return [Enrichment(lang=p.lang or "und", sentiment=Sentiment.NEUTRAL, sentiment_score=0.0,
                           backend=self.name) for p in posts]


def build_enricher(settings: EnrichmentSettings | None = None, base_dir: Path | None = None) -> Enricher:
    return Enricher()
