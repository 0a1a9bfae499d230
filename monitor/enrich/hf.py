"""The `transformers` sentiment backend: any sequence-classification model, hub id or local path.

Optional extra `transformers` (torch + transformers), imported only when this backend is built.
A hub id already in the Hugging Face cache loads with no network (local_files_only, and
HF_HUB_OFFLINE=1 is set for the process when the hub cannot be reached); a model that is neither
a local directory nor cached nor downloadable fails with an error naming it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

from ..errors import EnrichmentError
from ..models import Sentiment
from .backends import SentimentBackend, SentimentResult, from_probabilities
from .settings import SentimentSettings
from .text import safe_text

DEFAULT_MODEL = "cardiffnlp/twitter-xlm-roberta-base-sentiment"

_STARS = re.compile(r"^([1-5])\s*stars?$")


def map_labels(id2label: dict[int, str]) -> dict[str, Sentiment]:
    """Map a model's label names (config.id2label) onto negative/neutral/positive.

    Understands names containing neg/neu/pos (any case, any language prefix like "Negative",
    "NEG", "label_negative"), star ratings ("1 star".."5 stars") and bare LABEL_i for 2- or
    3-class models (ordered negative, [neutral,] positive, the convention of TweetEval models).
    """
    labels = {int(i): str(name) for i, name in id2label.items()}
    out: dict[str, Sentiment] = {}
    for i, name in labels.items():
        low = name.strip().lower()
        stars = _STARS.match(low)
        if "neg" in low:
            out[name] = Sentiment.NEGATIVE
        elif "neu" in low or low in ("mixed", "none", "objective"):
            out[name] = Sentiment.NEUTRAL
        elif "pos" in low:
            out[name] = Sentiment.POSITIVE
        elif stars:
            n = int(stars.group(1))
            out[name] = Sentiment.NEGATIVE if n <= 2 else Sentiment.NEUTRAL if n == 3 else Sentiment.POSITIVE
        elif re.fullmatch(r"label_?\d+|\d+", low):
            order = {2: (Sentiment.NEGATIVE, Sentiment.POSITIVE), 3: (Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE)}
            if len(labels) not in order:
                raise EnrichmentError(f"cannot map generic labels {sorted(labels.values())} of a {len(labels)}-class model")
            out[name] = order[len(labels)][i]
        else:
            raise EnrichmentError(f"cannot map model label {name!r} to negative/neutral/positive")
    return out


def _resolve(model: str) -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path), True
    if path.exists() or model.startswith((".", "/", "~")):
        raise EnrichmentError(f"sentiment model {model!r}: not a model directory")
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return model, False
    cached = try_to_load_from_cache(model, "config.json")
    if isinstance(cached, str):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # cached: never wait on an unreachable hub
        return model, True
    return model, os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "TRUE", "yes")


class TransformersBackend(SentimentBackend):
    name = "transformers"

    def __init__(self, settings: SentimentSettings) -> None:
        super().__init__(settings)
        self.model_name = settings.model or DEFAULT_MODEL
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
        except ImportError as exc:
            raise EnrichmentError(
                "the transformers backend needs torch and transformers: pip install 'feedback-monitor[transformers]'"
            ) from exc
        source, local_only = _resolve(self.model_name)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = AutoModelForSequenceClassification.from_pretrained(source, local_files_only=local_only)
        except (OSError, ValueError) as exc:
            where = "the local cache" if local_only else "the local cache or the Hugging Face hub"
            raise EnrichmentError(f"sentiment model {self.model_name!r} not found in {where}: {exc}") from exc
        self.label_map = map_labels(model.config.id2label)
        device = settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.pipeline = pipeline(
            "text-classification",
            model=model,
            tokenizer=tokenizer,
            device=torch.device(device),
            top_k=None,
        )
        self.call_kwargs = {"batch_size": settings.batch_size, "truncation": True, "max_length": settings.max_length}

    @property
    def description(self) -> str:
        return f"transformers:{self.model_name}"

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[SentimentResult]:
        if not texts:
            return []
        cleaned = [safe_text(t) or " " for t in texts]  # an empty string makes some tokenizers fail
        outputs = self.pipeline(cleaned, **self.call_kwargs)
        results = []
        for scores in outputs:
            p = {Sentiment.NEGATIVE: 0.0, Sentiment.NEUTRAL: 0.0, Sentiment.POSITIVE: 0.0}
            for item in scores:
                p[self.label_map[item["label"]]] += float(item["score"])
            results.append(from_probabilities(p[Sentiment.NEGATIVE], p[Sentiment.NEUTRAL], p[Sentiment.POSITIVE]))
        return results
