"""X (Twitter) recent search through tweepy (API v2, app-only bearer token).

Incremental by `since_id`. Recent search pages newest first, so a walk starts at the top and
follows `next_token` down to `since_id`; the walk's state (next_token, the newest id it met,
its start_time) is in the cursor after every page, and `since_id` only moves up once the whole
walk is done. A run cut short by the page cap, a rate limit or a crash continues the walk;
tweets that arrive meanwhile are picked up by the next walk. Nothing is skipped or refetched.

Rate limits: a 429 whose `x-rate-limit-reset` is near (<= max_wait_s) is waited out with the
injectable sleep; otherwise the run ends with SourceRateLimited(retry_at=reset) and the
scheduler tries again at the next run. tweepy's own wait_on_rate_limit is not used (it spins
without a reset header). Mentions of the brand's accounts are a query: `@MEXC_Official`.
"""

from __future__ import annotations

import html
import logging
import os
import random
import re
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator, Mapping

import requests
import tweepy
from pydantic import Field

from ..errors import SourceAuthError, SourceError, SourceRateLimited, SourceUnavailable
from ..logging import register_secrets
from ..models import Post
from .base import SOURCES, Batch, Source
from .common import Duration, HttpSourceOptions, apply_expected_period, context_sleep
from .http import DEFAULT_PACER, rebase

ENDPOINT = "GET /2/tweets/search/recent"
TWEET_FIELDS = ["author_id", "conversation_id", "created_at", "lang", "public_metrics",
                "referenced_tweets", "in_reply_to_user_id", "note_tweet"]
USER_FIELDS = ["username", "name", "public_metrics", "verified"]
NO_LANGUAGE = {"und", "qme", "qht", "qam", "qct", "zxx", "art"}  # X's codes for "no language"
MAX_RATE_LIMIT_WAITS = 3
# Recent search only accepts a start_time within the last 7 days (HTTP 400 otherwise); keep a
# margin for clock skew between us and X.
RECENT_WINDOW = timedelta(days=7) - timedelta(minutes=10)


class TwitterOptions(HttpSourceOptions):
    query: str = Field(..., min_length=1, max_length=4096, description="recent-search query")
    bearer_token_env: str = Field("X_BEARER_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    max_results: int = Field(100, ge=10, le=100, description="tweets per page")
    max_pages: int = Field(5, ge=1, le=500, description="pages per run")
    initial_lookback: Duration = Field(
        timedelta(hours=24), description="how far back the first run goes (recent search keeps 7 days)"
    )
    politeness_delay_s: float = Field(0.0, ge=0, le=60)


@SOURCES.register("twitter")
class TwitterSource(Source):
    type: ClassVar[str] = "twitter"
    Options = TwitterOptions
    default_schedule: ClassVar[str] = "5m"
    expected_period: ClassVar[timedelta] = timedelta(hours=6)

    options: TwitterOptions

    def __init__(self, name, options, context) -> None:
        super().__init__(name, options, context)
        apply_expected_period(self)
        self._sleep = context_sleep(self)
        self._pacer = context.extra.get("pacer") or DEFAULT_PACER
        self._rng = context.extra.get("rng")
        self._client: tweepy.Client | None = None

    # -- the walk ---------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[Batch]:
        client = self._tweepy_client()
        since_id = _id_or_none(cursor.get("since_id"))
        walk = dict(cursor.get("walk") or {})
        if not walk:
            start = None if since_id else self.context.clock.now() - self.options.initial_lookback
            walk = {"next_token": None, "newest_id": None,
                    "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ") if start else None}
        restarted = False
        pages = 0
        while pages < self.options.max_pages:
            try:
                response = self._page(client, since_id, walk)
            except tweepy.BadRequest as exc:
                if walk.get("next_token") and not restarted:
                    # An expired pagination token: walk again from the top down to since_id
                    # (repeats are absorbed by the store, nothing is skipped).
                    walk["next_token"], restarted = None, True
                    continue
                raise SourceError(f"X API {ENDPOINT}: bad request: {_api_message(exc)}") from None
            pages += 1
            posts = self._posts(response)
            meta = response.meta or {}
            newest = _max_id(walk.get("newest_id"), meta.get("newest_id"))
            walk["newest_id"] = newest
            next_token = meta.get("next_token")
            note = "pagination token expired; walked again from the newest tweet" if restarted and pages == 1 else None
            if next_token:
                walk["next_token"] = next_token
                yield Batch(posts, {"since_id": since_id, "walk": dict(walk)}, note)
            else:
                yield Batch(posts, {"since_id": _max_id(since_id, newest)}, note)
                return

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()

    # -- one page, with retries and rate-limit handling -----------------------------------

    def _page(self, client: tweepy.Client, since_id: str | None, walk: dict[str, Any]) -> tweepy.Response:
        params: dict[str, Any] = dict(
            max_results=self.options.max_results,
            expansions=["author_id"],
            tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS,
        )
        if since_id:
            params["since_id"] = since_id
        if walk.get("start_time"):
            params["start_time"] = self._within_window(walk["start_time"])
        if walk.get("next_token"):
            params["next_token"] = walk["next_token"]

        failures = rate_waits = 0
        while True:
            wait = self._pacer.reserve("api.twitter.com", self.options.politeness_delay_s)
            if wait > 0:
                self._sleep(wait)
            try:
                return client.search_recent_tweets(self.options.query, **params)
            except tweepy.TooManyRequests as exc:
                delay = None
                if exc.reset_time is not None:
                    delay = max(0.0, exc.reset_time - self.context.clock.now().timestamp()) + 1
                if delay is not None and delay <= self.options.max_wait_s and rate_waits < MAX_RATE_LIMIT_WAITS:
                    rate_waits += 1
                    self._sleep(delay)
                    continue
                retry_at = (
                    datetime.fromtimestamp(exc.reset_time, tz=timezone.utc) if exc.reset_time is not None else None
                )
                when = f"; resets at {retry_at:%Y-%m-%d %H:%M:%S}Z" if retry_at else "; no reset time given"
                raise SourceRateLimited(f"X API {ENDPOINT}: rate limited (429){when}", retry_at=retry_at) from None
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                raise SourceAuthError(
                    f"X API {ENDPOINT}: {_api_message(exc)} -- a credentials or plan problem: check "
                    f"the bearer token in ${self.options.bearer_token_env} and that the app's access "
                    f"level includes recent search"
                ) from None
            except tweepy.BadRequest:
                raise
            except ValueError as exc:  # a body that is not JSON (requests.JSONDecodeError included)
                raise SourceError(f"X API {ENDPOINT}: malformed response ({str(exc)[:120]})") from None
            except (tweepy.TwitterServerError, requests.RequestException) as exc:
                failures += 1
                if failures > self.options.retries:
                    detail = _api_message(exc) if isinstance(exc, tweepy.HTTPException) else type(exc).__name__
                    raise SourceUnavailable(
                        f"X API {ENDPOINT}: {detail} (after {failures} attempt{'s' if failures > 1 else ''})"
                    ) from None
                self._sleep(self._backoff(failures - 1))
            except tweepy.HTTPException as exc:
                raise SourceError(f"X API {ENDPOINT}: {_api_message(exc)}") from None

    def _within_window(self, start_time: str) -> str:
        """`start_time`, moved up to the oldest time recent search still serves: a walk left
        unfinished for a week (or a lookback over 7 days) would otherwise fail on every run."""
        earliest = self.context.clock.now() - RECENT_WINDOW
        start = datetime.strptime(start_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return max(start, earliest).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _backoff(self, attempt: int) -> float:
        """Full jitter, as in HttpClient: uniform in [0, min(30 s, backoff * 2**attempt)]."""
        rng = self._rng or random
        return rng.uniform(0, min(30.0, self.options.backoff_s * (2**attempt)))

    # -- posts -----------------------------------------------------------------------------

    def _posts(self, response: tweepy.Response) -> list[Post]:
        fetched_at = self.context.clock.now()
        users = {str(u.id): u for u in (response.includes or {}).get("users", [])}
        posts = []
        for tweet in response.data or []:
            author = users.get(str(tweet.author_id)) if tweet.author_id else None
            username = author.username if author else None
            tweet_id = str(tweet.id)
            lang = tweet.lang if tweet.lang and tweet.lang not in NO_LANGUAGE else None
            note = tweet.data.get("note_tweet") or {}
            meta: dict[str, Any] = {
                "author_id": str(tweet.author_id) if tweet.author_id else None,
                "author_username": username,
                "author_name": author.name if author else None,
                "author_followers": ((author.public_metrics or {}).get("followers_count") if author else None),
                "author_verified": author.verified if author else None,
                "public_metrics": dict(tweet.public_metrics or {}),
                "conversation_id": str(tweet.conversation_id) if tweet.conversation_id else None,
                "lang": tweet.lang,
                "in_reply_to_user_id": str(tweet.in_reply_to_user_id) if tweet.in_reply_to_user_id else None,
                "referenced": [r.type for r in tweet.referenced_tweets or []],
                "query": self.options.query,  # which search found it (flatline rules group by it)
            }
            created_at = tweet.created_at
            if created_at is None:
                created_at, meta["time_estimated"] = fetched_at, True
            posts.append(
                Post(
                    source_type=self.type,
                    source=self.name,
                    external_id=tweet_id,
                    # X escapes &, < and > in tweet text; store what the user wrote
                    text=html.unescape(note.get("text") or tweet.text or ""),
                    created_at=created_at.astimezone(timezone.utc),
                    fetched_at=fetched_at,
                    url=f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
                    author=username,
                    lang=lang,
                    meta=meta,
                )
            )
        return posts

    # -- the client ------------------------------------------------------------------------

    def _tweepy_client(self) -> tweepy.Client:
        if self._client is not None:
            return self._client
        token = os.environ.get(self.options.bearer_token_env, "").strip()
        if not token:
            raise SourceAuthError(
                f"X API {ENDPOINT}: no bearer token: environment variable "
                f"{self.options.bearer_token_env} is not set"
            )
        register_secrets({token})  # masked in every log line, whichever library writes it
        client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False)
        client.user_agent = f"{self.options.user_agent or self.context.user_agent} {client.user_agent}"
        original = client.session.request
        base_url = self.options.base_url
        timeout = self.options.timeout_s

        def request(method: str, url: str, **kwargs: Any) -> requests.Response:
            # tweepy hard-codes https://api.twitter.com and sets no timeout.
            kwargs.setdefault("timeout", (min(10.0, timeout), timeout))
            return original(method, rebase(url, base_url), **kwargs)

        client.session.request = request  # type: ignore[method-assign]
        self._client = client
        return client


class _RedactBearer(logging.Filter):
    """tweepy logs request headers (the bearer token included) at DEBUG: mask them."""

    _pattern = re.compile(r"(Bearer\s+)[^'\"\s,}]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "Bearer" in record.msg:
            record.msg = self._pattern.sub(r"\1***", record.msg)
        return True


_tweepy_log = logging.getLogger("tweepy.client")
if not any(isinstance(f, _RedactBearer) for f in _tweepy_log.filters):
    _tweepy_log.addFilter(_RedactBearer())


def _api_message(exc: Exception) -> str:
    """Status and the API's own explanation (title, detail, reason, error messages)."""
    response = getattr(exc, "response", None)
    if response is None:
        return type(exc).__name__
    parts = [f"{response.status_code} {response.reason or ''}".strip()]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("title", "detail", "reason"):
            if isinstance(body.get(key), str) and body[key] not in parts:
                parts.append(body[key])
        for error in body.get("errors") or []:
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                parts.append(error["message"])
    return " ".join(" - ".join(parts).split())[:400]


def _id_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(int(value))


def _max_id(a: Any, b: Any) -> str | None:
    ids = [int(x) for x in (a, b) if x not in (None, "")]
    return str(max(ids)) if ids else None
