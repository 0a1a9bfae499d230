"""How times are written in the database: ISO 8601 UTC to the second, e.g. 2026-11-22T08:15:00Z.

One fixed format keeps text comparison equal to time order and stays readable in any SQLite
tool (SQLite's own date functions accept it). Buckets are integer epoch seconds.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..models import utc

FMT = "%Y-%m-%dT%H:%M:%SZ"


def to_db(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    dt = utc(dt)
    # isoformat is several times faster than strftime; same text as FMT
    return dt.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text)  # reads the trailing Z as UTC (Python 3.11+), far faster than strptime


def epoch(dt: datetime) -> int:
    return int(utc(dt).timestamp())


def from_epoch(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
