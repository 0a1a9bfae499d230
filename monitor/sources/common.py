"""What every built-in collector shares: HTTP options, durations, the client factory, cursors."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Iterable

from pydantic import Field

from ..config.types import Duration, parse_duration
from ..errors import SourceError
from ..models import Post
from .base import Source, SourceContext, SourceOptions
from .http import DEFAULT_USER_AGENT, HostPacer, HttpClient


class HttpSourceOptions(SourceOptions):
    """Options of every built-in collector (on top of `base_url`)."""

    timeout_s: float = Field(20.0, gt=0, le=300, description="per-request timeout")
    retries: int = Field(3, ge=0, le=10, description="retries on timeouts, connection errors, 5xx")
    backoff_s: float = Field(1.0, ge=0, le=60, description="first backoff step (doubles, full jitter)")
    max_wait_s: float = Field(
        60.0, ge=0, le=900,
        description="longest rate-limit pause waited out within a run; longer ends the run",
    )
    politeness_delay_s: float = Field(1.0, ge=0, le=60, description="minimum gap between requests to one host")
    user_agent: str | None = Field(None, description="overrides the project's User-Agent")
    expected_period: Duration | None = Field(
        None, description="silence longer than this shows the source as stale (default per type)"
    )


def make_client(source: Source, **overrides: Any) -> HttpClient:
    """An HttpClient configured from the source's options and context.

    Tests inject `sleep` (callable), `pacer` (HostPacer), `rng` and `transport` through
    `SourceContext.extra`.
    """
    options: HttpSourceOptions = source.options  # type: ignore[assignment]
    extra = source.context.extra
    kwargs: dict[str, Any] = dict(
        base_url=options.base_url,
        timeout=options.timeout_s,
        retries=options.retries,
        backoff=options.backoff_s,
        max_wait=options.max_wait_s,
        politeness_delay=options.politeness_delay_s,
        user_agent=options.user_agent or source.context.user_agent or DEFAULT_USER_AGENT,
        clock=source.context.clock,
        sleep=context_sleep(source),
        pacer=extra.get("pacer"),
        rng=extra.get("rng"),
        transport=extra.get("transport"),
    )
    kwargs.update(overrides)
    return HttpClient(**kwargs)


class HttpSource(Source):
    """A collector that talks to its service through one HttpClient built from its options."""

    default_base_url: ClassVar[str | None] = None  # used when the options name no base_url

    def __init__(self, name: str, options: HttpSourceOptions, context: SourceContext) -> None:
        super().__init__(name, options, context)
        apply_expected_period(self)
        self._client = make_client(self, base_url=options.base_url or self.default_base_url)

    def close(self) -> None:
        self._client.close()


def context_sleep(source: Source) -> Callable[[float], None]:
    return source.context.extra.get("sleep", time.sleep)


def apply_expected_period(source: Source) -> None:
    """Let `options.expected_period` override the type's default on this instance."""
    period = getattr(source.options, "expected_period", None)
    if period is not None:
        source.expected_period = period  # type: ignore[misc]


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if dt else None


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


class HighWater:
    """The newest (time, ids) a walk reached: anything older, or as old with a known id, is seen.

    Stores that page newest-first with time-ordered items (Play, App Store) stop a walk at the
    first item the previous walk already covered. Several items can share one timestamp, so
    the ids at that exact time are kept too.
    """

    def __init__(self, at: datetime | None = None, ids: set[str] | None = None) -> None:
        self.at = at
        self.ids = set(ids or ())

    @classmethod
    def load(cls, data: Any) -> HighWater:
        if not isinstance(data, dict):
            return cls()
        return cls(from_iso(data.get("at")), set(map(str, data.get("ids") or ())))

    def dump(self) -> dict[str, Any] | None:
        if self.at is None:
            return None
        return {"at": iso(self.at), "ids": sorted(self.ids)}

    def covers(self, at: datetime, item_id: str) -> bool:
        """True when (at, item_id) is no newer than this mark."""
        if self.at is None:
            return False
        return at < self.at or (at == self.at and item_id in self.ids)

    def raise_to(self, at: datetime, item_id: str) -> None:
        if self.at is None or at > self.at:
            self.at, self.ids = at, {item_id}
        elif at == self.at:
            self.ids.add(item_id)

    def reaches(self, at: datetime, item_id: str) -> bool:
        """True when (at, item_id) is no older than this mark (the low end of a walk)."""
        if self.at is None:
            return False
        return at > self.at or (at == self.at and item_id in self.ids)

    def lower_to(self, at: datetime, item_id: str) -> None:
        """Track the oldest item (the low end of a walk)."""
        if self.at is None or at < self.at:
            self.at, self.ids = at, {item_id}
        elif at == self.at:
            self.ids.add(item_id)


__all__ = [
    "Duration",
    "HighWater",
    "HostPacer",
    "HttpSource",
    "HttpSourceOptions",
    "apply_expected_period",
    "context_sleep",
    "from_iso",
    "iso",
    "make_client",
    "parse_duration",
]


def page_posts(items: Iterable[Any], parse: Callable[[Any], Post], accept: Callable[[datetime, str], bool],
               where: str) -> tuple[list[Post], str | None]:
    """The posts of one page that the walk accepts, and a health note for the entries that could
    not be read. Those are skipped, not fatal: one odd entry must not fail its page on every run
    and stall the listing behind it."""
    posts, problems = [], []
    for item in items:
        try:
            post = parse(item)
        except SourceError as exc:
            problems.append(str(exc))
            continue
        if accept(post.created_at, post.external_id):
            posts.append(post)
    note = f"{where}: skipped {len(problems)} unreadable review(s), first: {problems[0]}" if problems else None
    return posts, note
