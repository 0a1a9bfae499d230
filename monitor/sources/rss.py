"""Any RSS or Atom feed: Discourse `latest.rss`, subreddit or Reddit search `.rss`, news
searches, status pages.

Fetched with our HttpClient (timeouts, retries, conditional GET with the ETag/Last-Modified
kept in the cursor: a 304 costs nothing) and parsed by feedparser from bytes. Broken ("bozo")
feeds are parsed as far as possible and reported in the batch note. HTML becomes clean text.

Feeds are not paginated: one request per URL per run. Each feed's cursor remembers the ids it
has emitted (with a fingerprint of their text, so an edited forum post is emitted again and
updates the stored row), bounded to `max_seen` ids per feed.
"""

from __future__ import annotations

import calendar
import hashlib
import io
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator, Mapping
from urllib.parse import urljoin, urlsplit

import feedparser
from pydantic import Field, field_validator

from ..errors import SourceError, SourceRateLimited
from ..logging import scrub
from ..models import Post
from .base import SOURCES, Batch
from .common import HttpSource, HttpSourceOptions
from .http import rebase
from .text import html_to_text

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"


class RssOptions(HttpSourceOptions):
    url: list[str] = Field(..., min_length=1, description="feed address, or a list of them")
    max_entries: int = Field(500, ge=1, le=10000, description="entries taken from one feed per run")
    max_seen: int = Field(1000, ge=10, le=100000, description="ids remembered per feed")

    @field_validator("url", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _absolute_http(cls, value: list[str]) -> list[str]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"feed address must be an absolute http(s) URL, got {url!r}")
        return list(dict.fromkeys(value))


@SOURCES.register("rss")
class RssSource(HttpSource):
    type: ClassVar[str] = "rss"
    Options = RssOptions
    default_schedule: ClassVar[str] = "15m"
    expected_period: ClassVar[timedelta] = timedelta(days=1)

    options: RssOptions

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[Batch]:
        stored = cursor.get("feeds") or {}
        feeds: dict[str, dict[str, Any]] = {
            url: dict(stored.get(scrub(url)) or {}) for url in self.options.url
        }
        failures: list[SourceError] = []
        for url in self.options.url:
            try:
                posts, note = self._fetch_feed(url, feeds[url])
            except SourceError as exc:
                failures.append(exc)  # one broken feed must not hide the others
                continue
            # Stored addresses have secrets masked (a private feed's key comes from the environment).
            yield Batch(posts, {"feeds": {scrub(u): dict(state) for u, state in feeds.items()}}, note)
        if failures:
            raise _combined(failures)

    # -- one feed -------------------------------------------------------------------------

    def _fetch_feed(self, url: str, state: dict[str, Any]) -> tuple[list[Post], str | None]:
        headers = {"Accept": FEED_ACCEPT}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        response = self._client.get(rebase(url, self.options.base_url), headers=headers)
        if response.status_code == 304:
            return [], None
        if response.status_code != 200:
            raise SourceError(f"feed {url}: unexpected HTTP {response.status_code}")

        # Parse without content-location: ids stay exactly as the feed wrote them (feedparser
        # would otherwise resolve a relative guid against whatever URL we fetched from).
        parsed = feedparser.parse(
            io.BytesIO(response.content),
            response_headers={"content-type": response.headers.get("content-type", "application/xml")},
        )
        note = None
        if parsed.bozo:
            problem = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
            if not parsed.entries and not parsed.feed.get("title"):
                raise SourceError(f"feed {url}: not a readable RSS/Atom document ({problem[:200]})")
            note = f"feed {url} is malformed, parsed what could be read ({problem[:200]})"

        fetched_at = self.context.clock.now()
        feed_lang = _primary_lang(parsed.feed.get("language"))
        seen: OrderedDict[str, str] = OrderedDict(state.get("seen") or {})
        posts: list[Post] = []
        for entry in parsed.entries[: self.options.max_entries]:
            post = self._post(entry, url, feed_lang, fetched_at)
            if not post.text and not post.title:
                continue  # an empty shell (e.g. the cut-off last item of a truncated feed)
            fingerprint = _fingerprint(post)
            if seen.get(post.external_id) == fingerprint:
                continue
            if any(p.external_id == post.external_id for p in posts):
                continue  # the same entry twice in one document
            seen[post.external_id] = fingerprint
            seen.move_to_end(post.external_id)
            posts.append(post)
        while len(seen) > self.options.max_seen:
            seen.popitem(last=False)

        state.clear()
        state.update(
            {
                "etag": response.headers.get("etag"),
                "modified": response.headers.get("last-modified"),
                "seen": dict(seen),
            }
        )
        return posts, note

    def _post(self, entry: Any, feed_url: str, feed_lang: str | None, fetched_at: datetime) -> Post:
        link = entry.get("link")
        url = urljoin(feed_url, link) if link else None
        text = ""
        if entry.get("content"):
            text = _clean(entry.content[0].get("value"), entry.content[0].get("type"))
        if not text:
            text = _clean(entry.get("summary"), (entry.get("summary_detail") or {}).get("type"))
        title = _clean(entry.get("title"), (entry.get("title_detail") or {}).get("type")) or None
        created_at, estimated = _entry_time(entry, fetched_at)
        meta: dict[str, Any] = {"feed_url": scrub(feed_url)}
        tags = [t.get("label") or t.get("term") for t in entry.get("tags") or []]
        tags = [t for t in tags if t]
        if tags:
            meta["categories"] = tags
        if estimated:
            meta["time_estimated"] = True
        comments = entry.get("comments")
        if comments:
            meta["comments_url"] = urljoin(feed_url, comments)
        return Post(
            source_type=self.type,
            source=self.name,
            external_id=entry_id(entry, feed_url),
            text=text,
            title=title,
            author=(entry.get("author") or "").strip() or None,
            lang=_primary_lang(entry.get("language")) or feed_lang,
            created_at=created_at,
            fetched_at=fetched_at,
            url=url,
            meta=meta,
        )


def entry_id(entry: Any, feed_url: str) -> str:
    """A stable id for an entry, independent of the address the feed was fetched from.

    An absolute guid/id (a URL, `tag:`, `urn:`) is kept as it is; a path is resolved against the
    configured feed URL; any other opaque guid ("t3_1abcde", "123") is prefixed with the feed's
    host (unless it already names it, as Discourse's do) so two sites' numbering cannot collide.
    Without an id the link is used, and without a link a hash of the title, time and text.
    """
    raw = (entry.get("id") or "").strip()
    if raw:
        if urlsplit(raw).scheme and ":" in raw:
            return raw
        if raw.startswith("/"):
            return urljoin(feed_url, raw)
        host = urlsplit(feed_url).netloc
        return raw if host in raw else f"{host}:{raw}"
    link = (entry.get("link") or "").strip()
    if link:
        return urljoin(feed_url, link)
    digest = hashlib.sha1(
        "\0".join(str(entry.get(k, "")) for k in ("title", "published", "updated", "summary")).encode()
    ).hexdigest()[:16]
    return f"sha1:{digest}"


def _entry_time(entry: Any, fetched_at: datetime) -> tuple[datetime, bool]:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc), False
    return fetched_at, True


def _clean(value: Any, content_type: Any) -> str:
    """Text of a feed field: HTML stripped when the feed says it is HTML, whitespace normalised."""
    if not isinstance(value, str):
        return ""
    if isinstance(content_type, str) and "html" in content_type:
        return html_to_text(value)
    return " ".join(value.split())


def _fingerprint(post: Post) -> str:
    return hashlib.sha1(f"{post.title or ''}\0{post.text}".encode()).hexdigest()[:12]


def _primary_lang(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().replace("_", "-").split("-")[0].lower() or None


def _combined(failures: list[SourceError]) -> SourceError:
    first = failures[0]
    message = "; ".join(str(f) for f in failures)
    if isinstance(first, SourceRateLimited):
        return SourceRateLimited(message, retry_at=first.retry_at)
    return type(first)(message)
