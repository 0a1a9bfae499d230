"""App Store reviews from Apple's public customer-reviews feed (no credentials).

    GET https://itunes.apple.com/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json

Pages of up to 50 reviews, at most 10 pages, newest first. Each country is its own listing
with its own walk in the cursor (see walk.py), so a restart continues at the next page and
reviews are never emitted twice across pages or runs. An edited review comes back with a newer
`updated` time and the same id, so the store updates it in place.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ClassVar, Iterator, Mapping

from pydantic import Field, field_validator

from ..errors import SourceError
from ..models import Post
from .base import SOURCES, Batch
from .common import Duration, HttpSource, HttpSourceOptions, from_iso, page_posts
from .walk import Stream

APPLE_BASE_URL = "https://itunes.apple.com"
APPLE_MAX_PAGES = 10
APPLE_PAGE_SIZE = 50


class AppStoreOptions(HttpSourceOptions):
    app_id: str = Field(..., pattern=r"^(id)?\d+$", description="numeric App Store id, e.g. 1327268470")
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1)
    max_pages: int = Field(APPLE_MAX_PAGES, ge=1, le=APPLE_MAX_PAGES, description="pages per country per run")
    initial_lookback: Duration = Field(timedelta(days=30), description="how far back the first run goes")

    @field_validator("app_id")
    @classmethod
    def _strip_id_prefix(cls, value: str) -> str:
        return value.removeprefix("id")

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, value: list[str]) -> list[str]:
        codes = [c.strip().lower() for c in value]
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"country codes are two letters (ISO 3166-1 alpha-2), got {bad}")
        return list(dict.fromkeys(codes))


@SOURCES.register("app_store")
class AppStoreSource(HttpSource):
    type: ClassVar[str] = "app_store"
    Options = AppStoreOptions
    default_schedule: ClassVar[str] = "1h"
    expected_period: ClassVar[timedelta] = timedelta(days=2)

    default_base_url: ClassVar[str | None] = APPLE_BASE_URL

    options: AppStoreOptions

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[Batch]:
        streams = {c: Stream.load((cursor.get("streams") or {}).get(c)) for c in self.options.countries}
        floor = self.context.clock.now() - self.options.initial_lookback

        def snapshot() -> dict[str, Any]:
            return {"streams": {c: s.dump() for c, s in streams.items()}}

        for country, stream in streams.items():
            walk = stream.begin(floor)
            pages_this_run = 0
            while not walk.done and pages_this_run < self.options.max_pages:
                page = int(walk.page or 1)
                entries, raw_count = self._page(country, page)
                pages_this_run += 1
                fetched_at = self.context.clock.now()
                posts, note = page_posts(entries, lambda entry: self._post(entry, country, fetched_at), walk.accept,
                                         f"App Store {country} page {page}")
                if raw_count < APPLE_PAGE_SIZE or page >= APPLE_MAX_PAGES:
                    walk.done = True  # a short page is the last one; Apple serves 10 at most
                walk.page = page + 1
                if walk.done:
                    stream.complete()
                yield Batch(posts, snapshot(), note)

    # -- one page -------------------------------------------------------------------------

    def _page(self, country: str, page: int) -> tuple[list[dict[str, Any]], int]:
        """The review entries of one page, and how many entries the page had in all."""
        path = f"/{country}/rss/customerreviews/page={page}/id={self.options.app_id}/sortby=mostrecent/json"
        response = self._client.get(path)
        where = f"App Store {country} page {page}"
        if not response.content.strip():
            return [], 0  # Apple answers an empty body past the last page
        try:
            # JSON is UTF-8; a stray invalid byte spoils one character, not the whole page (which
            # would fail again on every run and stall the listing).
            data = json.loads(response.content.decode("utf-8-sig", "replace"))
        except ValueError as exc:
            raise SourceError(f"{where}: malformed JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("feed"), dict):
            raise SourceError(f"{where}: no 'feed' object in the response")
        entries = data["feed"].get("entry") or []
        if isinstance(entries, dict):  # a feed with a single entry is an object, not a list
            entries = [entries]
        if not isinstance(entries, list):
            raise SourceError(f"{where}: 'entry' is neither a list nor an object")
        # The first entry of page 1 used to describe the app itself; reviews carry a rating.
        return [e for e in entries if isinstance(e, dict) and "im:rating" in e], len(entries)

    def _post(self, entry: dict[str, Any], country: str, fetched_at: datetime) -> Post:
        review_id = _label(entry.get("id"))
        updated = from_iso(_label(entry.get("updated")))
        if not review_id or updated is None:
            raise SourceError(f"App Store {country}: review without id or updated time: {str(entry)[:200]}")
        rating = _int(_label(entry.get("im:rating")))
        meta: dict[str, Any] = {"country": country, "app_id": self.options.app_id}
        for key, name in (("im:voteSum", "vote_sum"), ("im:voteCount", "vote_count")):
            value = _int(_label(entry.get(key)))
            if value is not None:
                meta[name] = value
        author = entry.get("author") or {}
        return Post(
            source_type=self.type,
            source=self.name,
            external_id=review_id,
            text=_label(entry.get("content")) or "",
            title=_label(entry.get("title")) or None,
            author=_label(author.get("name")) or None,
            rating=rating if rating and 1 <= rating <= 5 else None,
            app_version=_label(entry.get("im:version")) or None,
            created_at=updated,
            fetched_at=fetched_at,
            url=f"https://apps.apple.com/{country}/app/id{self.options.app_id}?see-all=reviews",
            meta=meta,
        )


def _label(node: Any) -> str:
    if isinstance(node, dict):
        value = node.get("label")
        return value.strip() if isinstance(value, str) else ""
    return ""


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
