"""The one HTTP layer every collector (and, later, every channel) goes through.

What it guarantees that the client libraries do not:
- a timeout on every request;
- retries with exponential backoff and full jitter on timeouts, connection errors and 5xx,
  honouring Retry-After (seconds or an HTTP date) when the server sends one;
- a 429 either waits (when the server asks for a short pause) or ends the call with a typed
  "rate limited" error carrying the time to try again, never a tight retry loop;
- a User-Agent naming the project, a per-host politeness delay shared by every client in the
  process, and a cap on the size of a response body;
- typed errors: which exception each kind of failure becomes is a small factory, so the same
  client raises SourceError subclasses for collectors and DeliveryError for channels.

Sleep, clock, random source, pacer and transport are injectable so tests never really wait.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Literal, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from ..clock import Clock, WallClock
from ..errors import (
    DeliveryError,
    PermanentDeliveryError,
    SourceAuthError,
    SourceError,
    SourceRateLimited,
    SourceUnavailable,
)

DEFAULT_USER_AGENT = "feedback-monitor (+https://github.com/feedback-monitor/monitor)"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

ProblemKind = Literal["auth", "rate_limited", "unavailable", "rejected"]


@dataclass(frozen=True)
class HttpProblem:
    """A failed request, described independently of who raises what for it."""

    kind: ProblemKind
    message: str  # names the method and endpoint (never the query string: it may hold keys)
    status: int | None = None
    retry_after: float | None = None  # seconds, when the server said
    retry_at: datetime | None = None  # aware UTC, when known


ErrorFactory = Callable[[HttpProblem], Exception]


def source_error(problem: HttpProblem) -> SourceError:
    """The error a collector raises for `problem`."""
    if problem.kind == "auth":
        return SourceAuthError(problem.message)
    if problem.kind == "rate_limited":
        return SourceRateLimited(problem.message, retry_at=problem.retry_at)
    if problem.kind == "unavailable":
        return SourceUnavailable(problem.message)
    return SourceError(problem.message)


def delivery_error(problem: HttpProblem) -> DeliveryError:
    """The error a channel raises for `problem`: only rate limits and outages are retried."""
    if problem.kind in ("rate_limited", "unavailable"):
        return DeliveryError(problem.message, retry_after=problem.retry_after)
    return PermanentDeliveryError(problem.message)


class HostPacer:
    """Keeps at least `delay` seconds between the starts of two requests to the same host.

    One instance is shared by every client in the process (DEFAULT_PACER), so ten RSS sources
    on reddit.com are spaced out together. Thread-safe: each caller reserves a slot under the
    lock and sleeps outside it.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._next_free: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str, delay: float) -> float:
        """Reserve the next slot for `host`; return how long to wait before using it."""
        if delay <= 0:
            return 0.0
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_free.get(host, now))
            self._next_free[host] = slot + delay
            return slot - now


DEFAULT_PACER = HostPacer()


def endpoint(method: str, url: str) -> str:
    """`GET https://host/path`: how errors name a request (query strings may carry secrets)."""
    parts = urlsplit(url)
    return f"{method.upper()} {parts.scheme}://{parts.netloc}{parts.path}"


def rebase(url: str, base_url: str | None) -> str:
    """Replace the scheme and host of an absolute `url` with `base_url` (keeping its path
    prefix, if any): how a hard-coded service address is pointed at a proxy or a test peer."""
    if not base_url:
        return url
    parts = urlsplit(url)
    base = base_url.rstrip("/")
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return base + rest


class HttpClient:
    """A small synchronous client: `get`/`post`/`request` return an httpx.Response or raise
    the error `errors` makes of the failure (SourceError subclasses by default)."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_wait: float = 60.0,
        politeness_delay: float = 0.0,
        user_agent: str = DEFAULT_USER_AGENT,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        errors: ErrorFactory = source_error,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pacer: HostPacer | None = None,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait  # the longest Retry-After we wait out instead of giving up
        self.politeness_delay = politeness_delay
        self.max_bytes = max_bytes
        self.errors = errors
        self.clock = clock or WallClock()
        self.sleep = sleep
        self.pacer = pacer or DEFAULT_PACER
        self.rng = rng or random.Random()
        self.requests_made = 0
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, **(headers or {})},
            follow_redirects=True,
            transport=transport,
        )

    # -- public ---------------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        """An absolute URL for `path_or_url`, relative ones resolved against base_url."""
        if self.base_url and not urlsplit(path_or_url).scheme:
            return urljoin(self.base_url, path_or_url.lstrip("/"))
        return path_or_url

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send with retries. Returns any response below 400 (304 included); raises for the rest."""
        url = self.url(url)
        name = endpoint(method, url)
        host = urlsplit(url).netloc
        for attempt in range(self.retries + 1):
            self._pace(host)
            try:
                response = self._send(method, url, params, headers, content, json)
            except httpx.TimeoutException:
                problem = HttpProblem("unavailable", f"{name}: timed out after {self.timeout:g}s")
                wait = self._backoff_delay(attempt)
            except httpx.TransportError as exc:
                problem = HttpProblem("unavailable", f"{name}: {type(exc).__name__}: {exc}")
                wait = self._backoff_delay(attempt)
            else:
                status = response.status_code
                if status < 400:
                    return response
                retry_after = self._retry_after(response)
                detail = f"{name}: HTTP {status} {response.reason_phrase}".rstrip()
                if status in (401, 403):
                    raise self.errors(HttpProblem("auth", detail, status))
                if status == 429:
                    if retry_after is not None and retry_after <= self.max_wait and attempt < self.retries:
                        self.sleep(retry_after)
                        continue
                    raise self.errors(self._rate_limited(detail, retry_after))
                if status < 500 and status != 408:
                    raise self.errors(HttpProblem("rejected", f"{detail}{_snippet(response)}", status))
                problem = HttpProblem("unavailable", detail, status, retry_after)
                wait = (
                    retry_after
                    if retry_after is not None and retry_after <= self.max_wait
                    else self._backoff_delay(attempt)
                )
            if attempt >= self.retries:
                break
            self.sleep(wait)
        if self.retries:
            problem = HttpProblem(
                problem.kind, f"{problem.message} (after {self.retries + 1} attempts)",
                problem.status, problem.retry_after,
            )
        raise self.errors(problem)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _pace(self, host: str) -> None:
        wait = self.pacer.reserve(host, self.politeness_delay)
        if wait > 0:
            self.sleep(wait)

    def _send(self, method, url, params, headers, content, json) -> httpx.Response:
        self.requests_made += 1
        request = self._client.build_request(
            method, url, params=params, headers=headers, content=content, json=json
        )
        response = self._client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise self.errors(
                        HttpProblem("rejected", f"{endpoint(method, url)}: response larger than {self.max_bytes} bytes")
                    )
                chunks.append(chunk)
        finally:
            response.close()
        # A fresh response over the already-decoded bytes (so no content-encoding any more).
        headers_out = [
            (k, v) for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers_out,
            content=b"".join(chunks),
            request=request,
            extensions={"reason_phrase": response.reason_phrase.encode("ascii", "replace")},
        )

    def _backoff_delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_backoff, backoff * 2**attempt)]."""
        return self.rng.uniform(0, min(self.max_backoff, self.backoff * (2**attempt)))

    def _retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("retry-after"), self.clock.now())

    def _rate_limited(self, detail: str, retry_after: float | None) -> HttpProblem:
        retry_at = self.clock.now() + timedelta(seconds=retry_after) if retry_after is not None else None
        when = f"; retry after {retry_at:%Y-%m-%d %H:%M:%S}Z" if retry_at else ""
        return HttpProblem("rate_limited", f"{detail}{when}", 429, retry_after, retry_at)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.content[:limit].decode("utf-8", "replace").strip()
    return f": {' '.join(text.split())}" if text else ""
