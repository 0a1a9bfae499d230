"""The `enrichment:` section of the config file (every field has a default; see docs/enrichment.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_LANGUAGES = ["en", "zh", "ko", "ja", "ru", "vi", "tr", "es", "pt", "ar", "fr", "de", "hi", "it"]


class SentimentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: str = Field(
        "embedded",
        description="Sentiment backend: embedded (default, shipped model), transformers, vader, snownlp, "
        "or one registered by a plugin",
    )
    model: str | None = Field(
        None,
        description="transformers only: a Hugging Face hub id or a local directory holding a "
        "sequence-classification model (default cardiffnlp/twitter-xlm-roberta-base-sentiment)",
    )
    device: str = Field("auto", description="transformers only: auto (CUDA when present), cpu, cuda, cuda:1...")
    batch_size: int = Field(32, ge=1, le=4096, description="transformers only: texts per forward pass")
    max_length: int = Field(256, ge=8, le=4096, description="transformers only: tokens kept per text (truncation)")
    rating_weight: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="How much a 1-5 star rating decides the sentiment (0 ignores it, 1 uses only the rating)",
    )


class CategorySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lexicons: list[str] = Field(
        default_factory=list,
        description="Extra YAML lexicon files (categories and sentiment words); relative paths are "
        "resolved against the config file's directory",
    )
    builtin: bool = Field(True, description="Load the built-in lexicons shipped with the package")
    min_score: float = Field(
        0.3, ge=0.0, le=1.0, description="A category is kept when its score reaches this value"
    )
    max_categories: int = Field(3, ge=1, le=16, description="At most this many categories per post, best first")
    security_min_score: float = Field(
        0.3, ge=0.0, le=1.0, description="The security flag is raised when the security score reaches this"
    )


class EnrichmentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    languages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES),
        description="ISO 639-1 codes the language detector chooses from (fewer is faster and more accurate)",
    )
    min_detect_chars: int = Field(
        3, ge=1, description="Texts with fewer letters than this (after removing URLs, mentions, emoji) get 'und'"
    )
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
    categories: CategorySettings = Field(default_factory=CategorySettings)
    batch_size: int = Field(256, ge=1, le=100_000, description="Posts enriched per batch by the pipeline")
    max_chars: int = Field(4000, ge=64, description="Only the first max_chars characters of a post are analysed")

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: list[str]) -> list[str]:
        from .language import SUPPORTED  # cheap: a dict of codes, no models

        cleaned = []
        for code in value:
            code = code.strip().lower()
            if code not in SUPPORTED:
                known = ", ".join(sorted(SUPPORTED))
                raise ValueError(f"unknown language code {code!r} (known: {known})")
            if code not in cleaned:
                cleaned.append(code)
        if not cleaned:
            raise ValueError("at least one language is needed")
        return cleaned
