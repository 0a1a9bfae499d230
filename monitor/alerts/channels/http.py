"""HTTP for channels: httpx with timeouts always, and receivers' answers sorted into
retry-later (429 with its Retry-After, 408, 5xx, timeouts, network errors) and give-up
(any other 4xx, and 3xx: redirects are not followed, so nothing was delivered)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Iterable

import httpx

from ... import __version__
from ...errors import DeliveryError, PermanentDeliveryError
from ...sources.http import parse_retry_after

USER_AGENT = f"feedback-monitor/{__version__}"
MAX_RETRY_AFTER = 24 * 3600.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait, from Retry-After (seconds or an HTTP date) or a rate-limit reset header."""
    # the clock only turns an HTTP date into a delay; the dispatcher schedules on its own Clock
    wait = parse_retry_after(response.headers.get("retry-after"), datetime.now(timezone.utc))
    if wait is None:
        reset = response.headers.get("x-ratelimit-reset")
        if not (reset and reset.isdigit()):
            return None
        wait = max(0.0, int(reset) - time.time())
    return min(MAX_RETRY_AFTER, wait)


def check_response(response: httpx.Response, what: str, rate_limit_403: bool = False) -> None:
    """Raise the right DeliveryError for a failed response; return quietly on success."""
    code = response.status_code
    if code < 300:
        return
    if code < 400:
        # redirects are not followed (secrets would go to another host), so nothing was delivered:
        # never take it for success, and retrying the same URL cannot help
        where = response.headers.get("location", "").split("?")[0][:200] or "an unnamed location"
        raise PermanentDeliveryError(f"{what}: HTTP {code} redirect to {where}: configure the final URL "
                                     "(redirects are not followed)")
    body = " ".join(response.text[:300].split())
    detail = f"{what}: HTTP {code}" + (f": {body}" if body else "")
    limited = code == 429 or (rate_limit_403 and code == 403 and (
        "retry-after" in response.headers or response.headers.get("x-ratelimit-remaining") == "0"))
    if limited:
        raise DeliveryError(f"{what}: rate limited (HTTP {code})", retry_after=retry_after_seconds(response))
    if code >= 500 or code == 408:
        raise DeliveryError(detail)
    raise PermanentDeliveryError(detail)


class Http:
    """One httpx client per channel, with the channel's base URL, timeout and auth headers."""

    def __init__(self, base_url: str, timeout: float, what: str, headers: dict[str, str] | None = None,
                 auth: Any = None) -> None:
        self.what = what
        self.timeout = timeout
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout), auth=auth,
                                   headers={"User-Agent": USER_AGENT, **(headers or {})}, follow_redirects=False)

    def request(self, method: str, url: str, *, expect: Iterable[int] = (), rate_limit_403: bool = False,
                **kwargs: Any) -> httpx.Response:
        """Send; statuses in `expect` are returned to the caller instead of raising (e.g. 404)."""
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise DeliveryError(f"{self.what}: no answer within {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.what}: {type(exc).__name__}: {exc}") from None
        if response.status_code not in set(expect):
            check_response(response, self.what, rate_limit_403)
        return response

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise DeliveryError(f"{self.what}: the answer was not JSON (HTTP {response.status_code})") from None

    def close(self) -> None:
        self.client.close()
