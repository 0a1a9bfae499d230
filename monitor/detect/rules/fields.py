"""Every post field a rule can read, in one place.

Collectors keep source-specific details in `post.meta`; the keys a rule depends on are named
here and nowhere else, so a collector renaming a key is a one-line change:
- author followers (X): meta["followers"] (the X collector's "author_followers" is read too);
- a developer's reply (Google Play): meta["reply_text"] (with meta["replied_at"]);
- the search query that found a post (X): meta["query"].
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ...models import EnrichedPost, Post

FOLLOWERS_KEYS = ("followers", "author_followers")
REPLY_TEXT_KEY = "reply_text"
REPLIED_AT_KEY = "replied_at"
QUERY_KEY = "query"

MISSING = "unknown"  # the group value of a field a post does not have


def followers(post: Post) -> int | None:
    for key in FOLLOWERS_KEYS:
        value = post.meta.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return None


def replied(post: Post) -> bool:
    return bool(post.meta.get(REPLY_TEXT_KEY))


def query(post: Post) -> str | None:
    value = post.meta.get(QUERY_KEY)
    return str(value) if value else None


def example_meta(followers: int | None = None, replied: bool | None = None) -> dict[str, Any]:
    """The meta keys an example post in a rule test needs for `followers` and `replied`."""
    meta: dict[str, Any] = {}
    if followers is not None:
        meta[FOLLOWERS_KEYS[0]] = followers
    if replied:
        meta[REPLY_TEXT_KEY] = "(developer reply)"
    return meta


def primary_category(item: EnrichedPost) -> str | None:
    """The best-scored category (enrichment lists them best first)."""
    return item.enrichment.categories[0].name if item.enrichment.categories else None


def _value(value: Any) -> str:
    return MISSING if value is None or value == "" else str(value)


# group_by fields: the values that make an incident key
GROUP_FIELDS: dict[str, Callable[[EnrichedPost], Any]] = {
    "category": primary_category,
    "lang": lambda item: item.enrichment.lang,
    "sentiment": lambda item: item.enrichment.sentiment.value,
    "source": lambda item: item.post.source,
    "source_type": lambda item: item.post.source_type,
    "app_version": lambda item: item.post.app_version,
    "rating": lambda item: item.post.rating,
    "author": lambda item: item.post.author,
    "query": lambda item: query(item.post),
}


def group_of(item: EnrichedPost, fields: tuple[str, ...]) -> dict[str, str]:
    return {name: _value(GROUP_FIELDS[name](item)) for name in fields}


def post_fields(item: EnrichedPost) -> Mapping[str, Any]:
    """The fields `rules explain` and `rules test` show for a post."""
    p, e = item.post, item.enrichment
    return {"key": p.key, "source": p.source, "source_type": p.source_type, "author": p.author,
            "created_at": p.created_at.isoformat(), "rating": p.rating, "app_version": p.app_version,
            "followers": followers(p), "replied": replied(p), "lang": e.lang, "sentiment": e.sentiment.value,
            "score": round(e.sentiment_score, 3), "categories": list(e.category_names), "security": e.security}
