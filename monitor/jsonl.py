"""The post JSONL format: one JSON object a line, used by replay, score, tests and fixtures.

Required: `source`, `id` (the source's own id), `created_at` (ISO 8601 with a timezone or Z),
`text`. Optional: `author`, `title`, `url`, `rating` (1-5), `lang`, `app_version`, `meta`
(object), `source_type` (defaults to the configured source's type, else `source` itself when
it names a source type, else "file"). A bad line is reported with its number and reason and
skipped; the rest still goes in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Callable, Iterator, Mapping

from .models import Post, utc

REQUIRED = ("source", "id", "created_at", "text")
OPTIONAL = ("author", "title", "url", "rating", "lang", "app_version", "meta", "source_type")
ALLOWED = frozenset(REQUIRED + OPTIONAL)


class BadLine(ValueError):
    pass


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadLine("created_at must be an ISO 8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise BadLine(f"created_at {value!r} is not an ISO 8601 time") from None
    if dt.tzinfo is None:
        raise BadLine(f"created_at {value!r} has no timezone (add Z or an offset such as +08:00)")
    return utc(dt)


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadLine(f"{key} must be a string")
    return str(value)


def post_from_object(obj: Any, source_type_of: Callable[[str], str], now: datetime | None = None,
                     strict: bool = True) -> Post:
    if not isinstance(obj, dict):
        raise BadLine("each line must be a JSON object")
    missing = [k for k in REQUIRED if k not in obj or obj[k] is None]
    if missing:
        raise BadLine(f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if strict:
        unknown = sorted(set(obj) - ALLOWED)
        if unknown:
            raise BadLine(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                          f"(allowed: {', '.join(REQUIRED + OPTIONAL)})")
    source = obj["source"]
    if not isinstance(source, str) or not source.strip():
        raise BadLine("source must be a non-empty string")
    ext = obj["id"]
    if isinstance(ext, bool) or not isinstance(ext, (str, int)) or str(ext) == "":
        raise BadLine("id must be a non-empty string or integer")
    text = obj["text"]
    if not isinstance(text, str):
        raise BadLine("text must be a string")
    rating = obj.get("rating")
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, (int, float)) or not 1 <= rating <= 5 \
                or int(rating) != rating:
            raise BadLine("rating must be an integer from 1 to 5")
        rating = int(rating)
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise BadLine("meta must be an object")
    source_type = _opt_str(obj, "source_type") or source_type_of(source)
    return Post(source_type=source_type, source=source, external_id=str(ext), text=text,
                created_at=parse_time(obj["created_at"]), fetched_at=now, url=_opt_str(obj, "url"),
                author=_opt_str(obj, "author"), title=_opt_str(obj, "title"), lang=_opt_str(obj, "lang"),
                rating=rating, app_version=_opt_str(obj, "app_version"), meta=meta)


def read_posts(stream: IO[str], source_type_of: Callable[[str], str], now: datetime | None = None,
               strict: bool = True) -> Iterator[tuple[int, Post | Rejected]]:
    """Yield (line number, Post or Rejected) for each non-blank line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Rejected(number, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        try:
            yield number, post_from_object(obj, source_type_of, now, strict)
        except BadLine as exc:
            yield number, Rejected(number, str(exc))


def post_to_object(post: Post) -> dict[str, Any]:
    obj: dict[str, Any] = {"source": post.source, "id": post.external_id,
                           "created_at": utc(post.created_at).strftime("%Y-%m-%dT%H:%M:%SZ"), "text": post.text}
    for key, value in (("source_type", post.source_type), ("author", post.author), ("title", post.title),
                       ("url", post.url), ("rating", post.rating), ("lang", post.lang),
                       ("app_version", post.app_version)):
        if value is not None:
            obj[key] = value
    if post.meta:
        obj["meta"] = dict(post.meta)
    return obj
