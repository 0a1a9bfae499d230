"""The Detector interface: reads enriched posts, emits Findings (and Recoveries).

A detection pass runs in one store transaction: the detector sees the posts enriched since the
last pass (`observe`), then the clock's current time (`tick`) to judge windows that have
closed. Whatever state a detector keeps between passes lives in the store (count series,
blobs), written inside that same transaction, so a crash at any moment replays identically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence, Union

from ..clock import Clock
from ..models import EnrichedPost, Finding, Recovery

if TYPE_CHECKING:
    from ..store import SqliteStore

Signal = Union[Finding, Recovery]


@dataclass
class DetectContext:
    store: "SqliteStore"
    clock: Clock
    bucket: timedelta  # count-series bucket length
    lateness: timedelta  # a bucket is judged once now >= its end + lateness


@dataclass(frozen=True)
class DetectBatch:
    posts: Sequence[EnrichedPost]  # in enrichment order; an edited post comes again
    fresh: frozenset[int]  # ids of posts seen for the first time (count them once)


class Detector(ABC):
    name: str = "detector"

    @abstractmethod
    def observe(self, batch: DetectBatch, ctx: DetectContext) -> list[Signal]:
        """Findings that single posts cause (match rules), and bookkeeping for windows."""

    def tick(self, now: datetime, ctx: DetectContext) -> list[Signal]:
        """Findings from windows that closed by `now` (thresholds, spikes, flatlines)."""
        return []

    def reload(self, ctx: DetectContext) -> None:
        """Drop in-memory state after a failed pass; the store holds the truth."""
