"""`monitor score`: enrichment as a Unix filter, JSON lines in, JSON lines out, in order.

Input is read and scored in batches, so memory stays bounded however long the stream is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import IO, Any, Callable, Iterator, Sequence

from .jsonl import BadLine, post_from_object
from .models import EnrichedPost, Enrichment, Post

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class ScoreStats:
    lines: int = 0
    errors: int = 0


def _parse(line: str, number: int, text_mode: bool) -> tuple[Any, Post | None, str | None]:
    if text_mode:
        text = line.rstrip("\r\n")
        return number, Post(source_type="text", source="stdin", external_id=str(number), text=text,
                            created_at=EPOCH), None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    ident = obj.get("id") if isinstance(obj, dict) else None
    try:
        return ident, post_from_object(obj, lambda s: s, strict=False), None
    except BadLine as exc:
        return ident, None, str(exc)


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
