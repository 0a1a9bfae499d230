"""`monitor score`: enrichment as a Unix filter, JSON lines in, JSON lines out, in order.

Input is read and scored in batches, so memory stays bounded however long the stream is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import IO, Any, Callable, Iterator, Sequence

from .models import EnrichedPost, Enrichment, Post

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class ScoreStats:
    lines: int = 0
    errors: int = 0


def _parse(line: str, number: int, text_mode: bool) -> tuple[Any, Post | None, str | None]:
    """(id, Post, None) or (id, None, reason). Scoring reads only what scoring needs (text, title,
    language hint, rating): a post missing its time or source still gets scored."""
    if text_mode:
        return number, Post(source_type="text", source="stdin", external_id=str(number),
                            text=line.rstrip("\r\n"), created_at=EPOCH), None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(obj, dict):
        return None, None, "each line must be a JSON object"
    ident = obj.get("id")
    text, title, lang, rating = obj.get("text"), obj.get("title"), obj.get("lang"), obj.get("rating")
    if not isinstance(text, str):
        return ident, None, "text must be a string" if "text" in obj else "missing required field: text"
    if title is not None and not isinstance(title, str):
        return ident, None, "title must be a string"
    if lang is not None and not isinstance(lang, str):
        return ident, None, "lang must be a string"
    if rating is not None and (isinstance(rating, bool) or rating not in (1, 2, 3, 4, 5)):
        return ident, None, "rating must be an integer from 1 to 5"
    return ident, Post(source_type="score", source="stdin", external_id=str(number), text=text,
                       created_at=EPOCH, title=title, lang=lang, rating=rating), None


def result_object(ident: Any, enrichment: Enrichment, rules: Sequence[str]) -> dict[str, Any]:
    return {
        "id": ident,
        "lang": enrichment.lang,
        "sentiment": {"label": enrichment.sentiment.value, "score": round(enrichment.sentiment_score, 4)},
        "categories": [c.name for c in enrichment.categories],
        "security": enrichment.security,
        "rules": list(rules),
    }


def score_stream(stream: IO[str], out: IO[str], enrich: Callable[[Sequence[Post]], list[Enrichment]],
                 match_rules: Callable[[Sequence[EnrichedPost]], list[list[str]]] | None = None,
                 text_mode: bool = False, batch_size: int = 512) -> ScoreStats:
    stats = ScoreStats()
    lines: Iterator[tuple[int, str]] = ((n, l) for n, l in enumerate(stream, start=1)
                                        if text_mode or l.strip())
    while True:
        chunk = list(islice(lines, batch_size))
        if not chunk:
            return stats
        parsed = [_parse(line, number, text_mode) for number, line in chunk]
        posts = [p for _, p, _ in parsed if p is not None]
        enrichments = enrich(posts) if posts else []
        rules = match_rules([EnrichedPost(p, e) for p, e in zip(posts, enrichments)]) if match_rules and posts \
            else [[] for _ in posts]
        results = iter(zip(enrichments, rules))
        buf = []
        for (number, _), (ident, post, error) in zip(chunk, parsed):
            stats.lines += 1
            if post is None:
                stats.errors += 1
                buf.append(json.dumps({"id": ident, "line": number, "error": error}, ensure_ascii=False))
                continue
            enrichment, fired = next(results)
            buf.append(json.dumps(result_object(ident, enrichment, fired), ensure_ascii=False))
        out.write("\n".join(buf) + "\n")
