"""Enrichment: language, sentiment, complaint categories, security and sensitive-data flags.

    from monitor.enrich import build_enricher
    enricher = build_enricher(settings)          # EnrichmentSettings or None for the defaults
    enrichments = enricher.enrich(posts)         # one Enrichment per Post, same order

Importing this package is cheap: no model, lingua, torch or snownlp loads until first use.
"""

from __future__ import annotations

from .backends import SENTIMENT_BACKENDS, SentimentBackend, SentimentResult
from .enricher import Enricher, build_enricher
from .sensitive import find_sensitive, mask_sensitive
from .settings import CategorySettings, EnrichmentSettings, SentimentSettings

__all__ = [
    "SENTIMENT_BACKENDS",
    "CategorySettings",
    "Enricher",
    "EnrichmentSettings",
    "SentimentBackend",
    "SentimentResult",
    "SentimentSettings",
    "build_enricher",
    "find_sensitive",
    "mask_sensitive",
]
