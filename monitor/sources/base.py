"""The Source interface: a plugin that yields Posts from a stored cursor.

A source is one small class:

    @SOURCES.register("rss")
    class RssSource(Source):
        Options = RssOptions            # pydantic model; unknown keys are errors
        default_schedule = "15m"

        def fetch(self, cursor):
            ...
            yield Batch(posts, new_cursor)

Every Batch is committed to the store in one transaction together with its cursor, so a
restart (or a kill -9) in the middle of pagination continues after the last committed page:
nothing is lost and nothing is fetched twice needlessly. Duplicates that do come back are
absorbed by the store's unique (source, external_id) key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Iterator, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from ..clock import Clock
from ..models import Post
from ..registry import Registry


class SourceOptions(BaseModel):
    """Options every source accepts. Subclasses add their own; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None  # another endpoint: a proxy, a regional API, a loopback test peer


@dataclass(frozen=True)
class Batch:
    posts: Sequence[Post]
    cursor: Mapping[str, Any]  # the cursor to store once these posts are committed
    note: str | None = None  # something worth showing in health (a bozo feed, a short page...)


@dataclass
class SourceContext:
    clock: Clock
    user_agent: str = "feedback-monitor (+https://github.com/feedback-monitor/monitor)"
    extra: dict[str, Any] = field(default_factory=dict)


class Source(ABC):
    type: ClassVar[str] = ""
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    default_schedule: ClassVar[str] = "15m"  # interval ("15m", "1h") or 5-field cron
    # A source silent for longer than this shows as stale in `monitor status` (flatline data).
    expected_period: ClassVar[timedelta] = timedelta(hours=6)

    def __init__(self, name: str, options: SourceOptions, context: SourceContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    @abstractmethod
    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[Batch]:
        """Yield batches of new posts, each with the cursor to commit after it.

        `cursor` is what the last committed batch returned ({} on the first run). Raise a
        SourceError subclass on failure; batches already yielded stay committed.
        """

    def close(self) -> None:
        """Release connections. Called once the run is over."""


SOURCES: Registry[Source] = Registry(
    "source",
    Source,
    builtins={
        "twitter": "monitor.sources.twitter:TwitterSource",
        "google_play": "monitor.sources.google_play:GooglePlaySource",
        "app_store": "monitor.sources.app_store:AppStoreSource",
        "rss": "monitor.sources.rss:RssSource",
    },
)
