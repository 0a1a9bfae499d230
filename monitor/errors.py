"""The exception tree. Catch the narrowest one that makes sense.

MonitorError
 ├── ConfigError        bad config or rule file (carries file, line, key)
 ├── StoreError
 │    └── LockedError   another daemon holds the database
 ├── SourceError        a collector failed (recorded in the source's health row)
 │    ├── SourceAuthError       401/403: credentials or plan problem
 │    ├── SourceRateLimited     429: try again after `retry_at`
 │    └── SourceUnavailable     network, timeouts, 5xx after retries
 ├── EnrichmentError
 └── DeliveryError      a channel could not deliver (retried by the outbox)
      └── PermanentDeliveryError   retrying cannot help (4xx other than 429)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class MonitorError(Exception):
    pass


@dataclass
class Location:
    file: str | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.key:
            where += f": {self.key}"
        return where


class ConfigError(MonitorError):
    """A config or rule file is wrong. `problems` lists each (location, message)."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{loc}: {msg}" for loc, msg in problems))


class StoreError(MonitorError):
    pass


class LockedError(StoreError):
    pass


class SourceError(MonitorError):
    pass


class SourceAuthError(SourceError):
    pass


class SourceRateLimited(SourceError):
    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class SourceUnavailable(SourceError):
    pass


class EnrichmentError(MonitorError):
    pass


class DeliveryError(MonitorError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the receiver said (Retry-After)


class PermanentDeliveryError(DeliveryError):
    pass
