"""Incremental walks over feeds that page newest-first (Google Play, the App Store).

A walk starts at the newest page and pages back until it meets an item an earlier walk already
collected (or the first-run lookback floor, or the last page). Its state lives in the cursor
after every page, so a run cut short by a cap, an error or a kill continues the same walk from
the next page; only when a walk is complete does its newest item become the new stop mark.
Items that arrive while a walk is in progress are picked up by the next walk.

Pages can shift while we walk (new reviews push older ones down), so an item no older than the
oldest one this walk already emitted is a repeat and is skipped: nothing is emitted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .common import HighWater


@dataclass
class Walk:
    stop: HighWater  # items covered by this mark were collected by an earlier walk
    top: HighWater = field(default_factory=HighWater)  # newest item met in this walk
    low: HighWater = field(default_factory=HighWater)  # oldest item emitted in this walk
    page: Any = None  # where to continue: a continuation token or a page number
    done: bool = False  # met the stop mark, or ran out of pages

    def accept(self, at: datetime, item_id: str) -> bool:
        """Record an item met on the current page; True when it is new and should be emitted."""
        self.top.raise_to(at, item_id)
        if self.stop.covers(at, item_id):
            self.done = True  # newest-first: everything after this is older still
            return False
        if self.low.reaches(at, item_id):
            return False  # emitted earlier in this walk; the page shifted under us
        self.low.lower_to(at, item_id)
        return True

    def finished_mark(self) -> HighWater:
        """The stop mark for the next walk, once this one is complete."""
        if self.top.at is None:
            return self.stop
        if self.stop.at is not None and self.stop.at > self.top.at:
            return self.stop
        return self.top

    def dump(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "stop": self.stop.dump(),
            "top": self.top.dump(),
            "low": self.low.dump(),
        }

    @classmethod
    def load(cls, data: Any) -> Walk | None:
        if not isinstance(data, dict) or "stop" not in data:
            return None
        return cls(
            stop=HighWater.load(data.get("stop")),
            top=HighWater.load(data.get("top")),
            low=HighWater.load(data.get("low")),
            page=data.get("page"),
        )


@dataclass
class Stream:
    """One newest-first listing (an app in one country/language): its stop mark and open walk."""

    seen: HighWater
    walk: Walk | None = None

    @classmethod
    def load(cls, data: Any) -> Stream:
        data = data if isinstance(data, dict) else {}
        return cls(seen=HighWater.load(data.get("seen")), walk=Walk.load(data.get("walk")))

    def begin(self, floor: datetime | None) -> Walk:
        """The walk to run now: the unfinished one, or a new one down to `seen` (or `floor`)."""
        if self.walk is None:
            stop = self.seen if self.seen.at is not None else HighWater(floor)
            self.walk = Walk(stop=HighWater(stop.at, set(stop.ids)))
        return self.walk

    def complete(self) -> None:
        assert self.walk is not None
        self.seen = self.walk.finished_mark()
        self.walk = None

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seen": self.seen.dump()}
        if self.walk is not None:
            out["walk"] = self.walk.dump()
        return out
