"""Google Play reviews of one app, newest first, for each configured (lang, country) pair.

Paging uses Play's continuation token; each (lang, country) listing has its own walk in the
cursor (see walk.py), so a restart continues from the stored token and nothing already
collected is fetched again. An edited review moves to the top with a newer time and the same
review id: it is emitted again and the store updates the row in place.

google-play-scraper supplies the request format, response regex and field map; the request
itself goes through our HttpClient (timeouts, retries, typed errors) against `base_url`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field

from ..errors import SourceError, SourceRateLimited
from ..models import Post
from . import play_scraper
from .base import SOURCES, Batch
from .common import Duration, HttpSource, HttpSourceOptions, iso, page_posts
from .http import rebase
from .walk import Stream

PLAY_BASE_URL = "https://play.google.com"
THROTTLED_MARKER = "com.google.play.gateway.proto.PlayGatewayError"


class Locale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: str = Field("en", pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4})?$")
    country: str = Field("us", pattern=r"^[A-Za-z]{2}$")

    @property
    def key(self) -> str:
        return f"{self.lang.lower()}-{self.country.lower()}"


class GooglePlayOptions(HttpSourceOptions):
    app_id: str = Field(..., pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$", description="package name")
    locales: list[Locale] = Field(default_factory=lambda: [Locale()], min_length=1)
    page_size: int = Field(100, ge=1, le=199, description="reviews per request")
    max_pages: int = Field(10, ge=1, le=1000, description="pages per (lang, country) per run")
    initial_lookback: Duration = Field(timedelta(days=7), description="how far back the first run goes")


@SOURCES.register("google_play")
class GooglePlaySource(HttpSource):
    type: ClassVar[str] = "google_play"
    Options = GooglePlayOptions
    default_schedule: ClassVar[str] = "30m"
    expected_period: ClassVar[timedelta] = timedelta(days=1)

    options: GooglePlayOptions

    def __init__(self, name, options, context) -> None:
        super().__init__(name, options, context)
        self._gps = play_scraper.load()

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[Batch]:
        stored = cursor.get("streams") or {}
        streams = {loc.key: Stream.load(stored.get(loc.key)) for loc in self.options.locales}
        floor = self.context.clock.now() - self.options.initial_lookback

        def snapshot() -> dict[str, Any]:
            return {"streams": {key: s.dump() for key, s in streams.items()}}

        for locale in self.options.locales:
            stream = streams[locale.key]
            walk = stream.begin(floor)
            pages = 0
            while not walk.done and pages < self.options.max_pages:
                items, token, note = self._page(locale, walk.page)
                pages += 1
                fetched_at = self.context.clock.now()
                posts, skipped = page_posts(items, lambda item: self._post(item, locale, fetched_at), walk.accept,
                                            f"Google Play {self.options.app_id} {locale.key}")
                walk.page = token
                if token is None:
                    walk.done = True
                if walk.done:
                    stream.complete()
                yield Batch(posts, snapshot(), note or skipped)

    # -- one page -------------------------------------------------------------------------

    def _page(self, locale: Locale, token: str | None) -> tuple[list[Any], str | None, str | None]:
        """One page: (review items, next continuation token or None, a note for health)."""
        gps = self._gps
        url = rebase(gps.Formats.Reviews.build(lang=locale.lang, country=locale.country),
                     self.options.base_url or PLAY_BASE_URL)
        body = gps.Formats.Reviews.build_body(
            self.options.app_id, gps.Sort.NEWEST.value, self.options.page_size, "null", "null", token
        )
        where = f"Google Play {self.options.app_id} {locale.key}"
        response = self._client.post(
            url, content=body, headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"}
        )
        text = response.text
        if THROTTLED_MARKER in text:
            raise SourceRateLimited(f"{where}: Play gateway throttled the request")
        match = gps.Regex.REVIEWS.findall(text)
        try:
            envelope = json.loads(match[0])
            payload = envelope[0][2]
            if payload is None:  # Play's answer for an unknown app id, or a listing with no reviews
                return [], None, f"{where}: no review data (unknown app id, or no reviews in this listing)"
            data = json.loads(payload)
        except (IndexError, TypeError, ValueError) as exc:
            raise SourceError(f"{where}: unexpected response ({type(exc).__name__}: {str(exc)[:120]})") from None
        items = data[0] if isinstance(data, list) and data and isinstance(data[0], list) else []
        next_token = None
        try:
            candidate = data[-2][-1]
            next_token = candidate if isinstance(candidate, str) and candidate else None
        except (IndexError, TypeError, KeyError):
            pass
        return items, next_token, None

    def _post(self, item: Any, locale: Locale, fetched_at: datetime) -> Post:
        fields = {k: spec.extract_content(item) for k, spec in self._gps.ElementSpecs.Review.items()}
        review_id = fields.get("reviewId")
        at = fields.get("at")
        if not isinstance(review_id, str) or not review_id or not isinstance(at, datetime):
            raise SourceError(
                f"Google Play {self.options.app_id} {locale.key}: review without id or time: {str(item)[:200]}"
            )
        score = fields.get("score")
        replied_at = fields.get("repliedAt")
        meta: dict[str, Any] = {
            "app_id": self.options.app_id,
            "country": locale.country.lower(),
            "lang_requested": locale.lang,
            "thumbs_up": fields.get("thumbsUpCount") or 0,
            "reply_text": fields.get("replyContent"),
            "replied_at": iso(local_to_utc(replied_at)) if isinstance(replied_at, datetime) else None,
        }
        return Post(
            source_type=self.type,
            source=self.name,
            external_id=review_id,
            text=fields.get("content") or "",
            author=fields.get("userName") or None,
            rating=score if isinstance(score, int) and 1 <= score <= 5 else None,
            app_version=fields.get("appVersion") or None,
            created_at=local_to_utc(at),
            fetched_at=fetched_at,
            url=f"https://play.google.com/store/apps/details?id={self.options.app_id}&reviewId={review_id}",
            meta=meta,
        )


def local_to_utc(dt: datetime) -> datetime:
    """google-play-scraper builds datetimes with `datetime.fromtimestamp(ts)`: naive local
    time (with `fold` set for the repeated hour). `astimezone` reads naive as local: exact."""
    return dt.astimezone(timezone.utc)
