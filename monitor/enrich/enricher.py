"""The Enricher: language, sentiment, categories, security and sensitive-data flags for posts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from ..models import Category, Enrichment, Post, Sentiment
from .backends import SENTIMENT_BACKENDS, EmbeddedBackend, SentimentBackend, SentimentResult
from .categories import Categorizer, LexiconFile, builtin_lexicon, load_lexicon_file
from .language import UNKNOWN, LanguageDetector
from .sensitive import find_sensitive
from .settings import EnrichmentSettings
from .text import fold, safe_text

log = logging.getLogger(__name__)

NEUTRAL = SentimentResult(Sentiment.NEUTRAL, 0.0)
RATING_LABEL_THRESHOLD = 0.25  # blended score beyond +-this is positive/negative for rated posts


class Enricher:
    """Enriches batches of posts. Build once (models and detectors load lazily), call `enrich`."""

    def __init__(
        self,
        settings: EnrichmentSettings,
        backend: SentimentBackend,
        categorizer: Categorizer,
        detector: LanguageDetector,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.categorizer = categorizer
        self.detector = detector

    @property
    def name(self) -> str:
        return self.backend.description

    def enrich(self, posts: Sequence[Post]) -> list[Enrichment]:
        """One Enrichment per post, same order. Never raises because of a post's content."""
        size = self.settings.batch_size
        if len(posts) <= size:
            return self._enrich_batch(posts)
        out: list[Enrichment] = []
        for start in range(0, len(posts), size):
            out.extend(self._enrich_batch(posts[start : start + size]))
        return out

    def _enrich_batch(self, posts: Sequence[Post]) -> list[Enrichment]:
        max_chars = self.settings.max_chars
        texts = [_text_of(p, max_chars) for p in posts]
        langs = [self._lang(text, p) for text, p in zip(texts, posts)]
        sentiments = self._sentiments(texts, langs)
        return [self._one(p, text, lang, s) for p, text, lang, s in zip(posts, texts, langs, sentiments)]

    def _lang(self, text: str, post: Post) -> str:
        try:
            return self.detector.detect(text, getattr(post, "lang", None))
        except Exception:  # noqa: BLE001
            log.exception("language detection failed for %s", getattr(post, "key", "?"))
            return UNKNOWN

    def _sentiments(self, texts: list[str], langs: list[str]) -> list[SentimentResult]:
        try:
            results = self.backend.analyse(texts, langs)
            if len(results) == len(texts):
                return results
            log.error("sentiment backend %s returned %d results for %d texts", self.name, len(results), len(texts))
        except Exception:  # noqa: BLE001 - retry one by one so one bad post cannot sink the batch
            log.exception("sentiment backend %s failed on a batch; retrying post by post", self.name)
        out = []
        for text, lang in zip(texts, langs):
            try:
                out.append(self.backend.analyse([text], [lang])[0])
            except Exception:  # noqa: BLE001
                out.append(NEUTRAL)
        return out

    def _one(self, post: Post, text: str, lang: str, sentiment: SentimentResult) -> Enrichment:
        label, score = _with_rating(sentiment, getattr(post, "rating", None), self.settings.sentiment.rating_weight)
        try:
            folded = fold(text)
            categories = self.categorizer.categorize(text, score, folded)
            scores = {c.name: c.score for c in categories}
            security = scores.get(Category.SECURITY.value, 0.0) >= self.settings.categories.security_min_score
            sensitive = find_sensitive(text)
        except Exception:  # noqa: BLE001
            log.exception("categorisation failed for %s", getattr(post, "key", "?"))
            categories, security, sensitive = (), False, ()
        return Enrichment(
            lang=lang,
            sentiment=label,
            sentiment_score=score,
            categories=categories,
            security=security,
            sensitive=sensitive,
            backend=self.name,
        )


def _text_of(post: Post, max_chars: int) -> str:
    try:
        return safe_text(post.full_text, max_chars)
    except Exception:  # noqa: BLE001 - a malformed object: enrich what can be read
        return safe_text(getattr(post, "text", ""), max_chars)


def _with_rating(result: SentimentResult, rating: object, weight: float) -> tuple[Sentiment, float]:
    """Blend a 1-5 star rating into the text's sentiment (stars are what the user meant)."""
    if not isinstance(rating, (int, float)) or isinstance(rating, bool) or not 1 <= rating <= 5 or weight <= 0:
        return result.label, float(result.score)
    star_score = (float(rating) - 3.0) / 2.0
    score = round(weight * star_score + (1 - weight) * float(result.score), 4)
    if score >= RATING_LABEL_THRESHOLD:
        return Sentiment.POSITIVE, score
    if score <= -RATING_LABEL_THRESHOLD:
        return Sentiment.NEGATIVE, score
    return Sentiment.NEUTRAL, score


def load_lexicons(settings: EnrichmentSettings, base_dir: Path | None) -> list[LexiconFile]:
    lexicons = [builtin_lexicon()] if settings.categories.builtin else []
    for name in settings.categories.lexicons:
        path = Path(name).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        lexicons.append(load_lexicon_file(path))
    return lexicons


def build_enricher(settings: EnrichmentSettings | None = None, base_dir: Path | None = None) -> Enricher:
    """An Enricher for `settings` (defaults when None); relative lexicon paths resolve against base_dir.

    Raises ConfigError for a bad lexicon file and EnrichmentError/LookupError for a backend that
    cannot be built; models themselves load lazily on first use.
    """
    settings = settings or EnrichmentSettings()
    lexicons = load_lexicons(settings, base_dir)
    cats = settings.categories
    categorizer = Categorizer(lexicons, min_score=cats.min_score, max_categories=cats.max_categories)
    user_sentiment = [lex.sentiment for lex in lexicons[1 if cats.builtin else 0 :] if lex.sentiment]
    backend_name = settings.sentiment.backend
    if backend_name == "embedded" and user_sentiment:
        from .lexicon import PolarityLexicon

        backend: SentimentBackend = EmbeddedBackend(settings.sentiment, lexicon=PolarityLexicon(user_sentiment))
    else:
        backend = SENTIMENT_BACKENDS.get(backend_name)(settings.sentiment)
    detector = LanguageDetector(settings.languages, min_chars=settings.min_detect_chars)
    return Enricher(settings, backend, categorizer, detector)
