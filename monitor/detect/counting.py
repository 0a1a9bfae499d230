"""Which count series a post adds to: all posts, its source, language and categories.

Series names are "all", "source:<name>", "lang:<code>", "category:<name>"; rules add their
own ("rule:<id>"). Buckets come from the post's event time, never from the clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Iterable

from ..models import EnrichedPost
from ..store import SeriesPoint
from ..store.timefmt import epoch


def bucket_of(ts: int, bucket: timedelta) -> int:
    size = int(bucket.total_seconds())
    return ts - ts % size


def author_of(item: EnrichedPost) -> str:
    # an anonymous post counts as its own author
    return item.post.author or f"post:{item.post.key}"


def series_points(items: Iterable[EnrichedPost], bucket: timedelta) -> list[SeriesPoint]:
    points: list[SeriesPoint] = []
    for item in items:
        b = bucket_of(epoch(item.post.created_at), bucket)
        author = author_of(item)
        names = ["all", f"source:{item.post.source}", f"lang:{item.enrichment.lang}"]
        names.extend(f"category:{c.name}" for c in item.enrichment.categories)
        points.extend(SeriesPoint(name, b, author) for name in names)
    return points
