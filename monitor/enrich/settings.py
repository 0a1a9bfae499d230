"""Enrichment settings (placeholder until the enrichment package lands)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SentimentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: str = "embedded"
    model: str | None = None


class EnrichmentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sentiment: SentimentSettings = SentimentSettings()
    batch_size: int = 500
