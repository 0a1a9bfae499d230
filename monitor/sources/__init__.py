"""Collectors: one plugin per service type, registered in `SOURCES` (see base.py).

`create_source` builds a configured source from plain options; `preview` fetches once and
returns what would be stored without storing anything (for `monitor sources test NAME`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Mapping

from .base import SOURCES, Batch, Source, SourceContext, SourceOptions

__all__ = [
    "SOURCES",
    "Batch",
    "Preview",
    "Source",
    "SourceContext",
    "SourceOptions",
    "create_source",
    "example_sources_yaml",
    "preview",
]


def example_sources_yaml() -> str:
    """The commented `sources:` entries `monitor init` writes (a YAML list; see the file)."""
    return files(__package__).joinpath("example_sources.yaml").read_text(encoding="utf-8")


def create_source(type_name: str, name: str, options: Mapping[str, Any], context: SourceContext) -> Source:
    """Look up the plugin for `type_name`, validate `options` with its Options model
    (pydantic ValidationError on unknown keys or bad values) and instantiate it."""
    cls = SOURCES.get(type_name)
    return cls(name, cls.Options.model_validate(dict(options)), context)


@dataclass
class Preview:
    posts: list[Any] = field(default_factory=list)  # list[Post], at most `limit`
    cursor: Mapping[str, Any] = field(default_factory=dict)  # the cursor after the last batch read
    notes: list[str] = field(default_factory=list)
    truncated: bool = False  # stopped at `limit`: the source may have had more


def preview(source: Source, cursor: Mapping[str, Any] | None = None, limit: int = 20) -> Preview:
    """Run `source.fetch` once and collect up to `limit` posts, storing nothing.

    Batches are simply not committed, so the stored cursor is untouched and the next real run
    fetches the same posts. Stops requesting pages as soon as `limit` posts are in hand.
    Errors propagate (SourceError subclasses) so the caller can show them.
    """
    result = Preview(cursor=dict(cursor or {}))
    batches = source.fetch(dict(cursor or {}))
    try:
        for batch in batches:
            result.cursor = batch.cursor
            if batch.note:
                result.notes.append(batch.note)
            room = limit - len(result.posts)
            result.posts.extend(batch.posts[:room])
            if len(batch.posts) > room or len(result.posts) >= limit:
                result.truncated = True
                break
    finally:
        close = getattr(batches, "close", None)
        if close:
            close()
        source.close()
    return result
