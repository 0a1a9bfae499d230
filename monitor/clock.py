"""The one source of "now" for detectors and alert timers.

Live mode reads the wall clock; replay drives a ManualClock from event time, so a week of
history replays in seconds and produces the same findings, incidents and notifications.
Nothing in detection or alerting calls `datetime.now()` itself.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from .models import utc


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to, and never backwards."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = utc(start) if start else datetime(1970, 1, 1, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, when: datetime) -> None:
        when = utc(when)
        if when > self._now:
            self._now = when
