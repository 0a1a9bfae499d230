"""What a digest says, as typed records: built from the store (build.py), rendered by render.py.

Text quoted from posts is kept raw here (already masked for sensitive data and cut to length);
escaping for each medium happens only when rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Period:
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive
    timezone: str  # IANA name the digest is shown in

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def previous(self) -> "Period":
        return Period(self.start - self.length, self.start, self.timezone)


@dataclass(frozen=True)
class CountRow:
    key: str  # a source name or a category
    current: int
    previous: int

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None when it had nothing)."""
        if self.previous == 0:
            return None
        return (self.current - self.previous) / self.previous


@dataclass(frozen=True)
class CategoryBucket:
    start: datetime
    counts: dict[str, int]  # category -> posts

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class VolumeSection:
    total: CountRow
    by_source: list[CountRow]
    by_category: list[CountRow]  # each post counted once, in its main category
    buckets: list[CategoryBucket]
    bucket_length: timedelta


@dataclass(frozen=True)
class SentimentShares:
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    score_sum: float = 0.0

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.total if self.total else None

    def share(self, label: str) -> float | None:
        return getattr(self, label) / self.total if self.total else None


@dataclass(frozen=True)
class SentimentBucket:
    start: datetime
    shares: SentimentShares


@dataclass(frozen=True)
class SentimentSection:
    current: SentimentShares
    previous: SentimentShares
    buckets: list[SentimentBucket]
    bucket_length: timedelta

    @property
    def negative_share_change(self) -> float | None:
        """Change of the negative share in percentage points (as a fraction: 0.1 = +10 points)."""
        now, before = self.current.share("negative"), self.previous.share("negative")
        if now is None or before is None:
            return None
        return now - before


@dataclass(frozen=True)
class RatingRow:
    source: str
    source_type: str
    version: str  # "?" when the store did not say
    count: int
    mean: float
    baseline: float | None  # the store's average over the previous period (or its other versions)
    flagged: bool  # a release that sinks ratings


@dataclass(frozen=True)
class StoreRating:
    source: str
    count: int
    mean: float | None
    previous_count: int
    previous_mean: float | None


@dataclass(frozen=True)
class RatingsSection:
    versions: list[RatingRow]  # newest version first within each store
    stores: list[StoreRating]

    @property
    def flagged(self) -> list[RatingRow]:
        return [r for r in self.versions if r.flagged]


@dataclass(frozen=True)
class IncidentRow:
    id: int
    title: str
    severity: str
    state: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    post_count: int

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return self.acknowledged_at - self.opened_at if self.acknowledged_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.opened_at if self.resolved_at else None


@dataclass(frozen=True)
class DurationStats:
    count: int
    median: timedelta | None
    mean: timedelta | None


@dataclass(frozen=True)
class IncidentsSection:
    opened: int  # opened during the period
    acknowledged: int  # acknowledged during the period
    resolved: int  # resolved during the period
    open_at_end: int  # not resolved when the period ended
    time_to_acknowledge: DurationStats  # of those acknowledged during the period
    time_to_resolve: DurationStats  # of those resolved during the period
    rows: list[IncidentRow]  # the most severe first


@dataclass(frozen=True)
class ClusterItem:
    size: int
    category: str
    quote: str  # the representative post, masked and shortened
    links: list[str]  # plain http(s) URLs of a few members, the representative's first
    sources: dict[str, int]
    langs: list[str]
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class ClustersSection:
    posts: int  # complaint posts looked at
    clusters: list[ClusterItem]


@dataclass(frozen=True)
class TermItem:
    term: str
    current: int  # posts with the term in this period
    previous: int  # and in the previous one

    @property
    def growth(self) -> float | None:
        return self.current / self.previous if self.previous else None


@dataclass(frozen=True)
class TermsSection:
    posts: int
    previous_posts: int
    terms: list[TermItem]
    enough_history: bool  # False: the previous period had too few posts to compare


@dataclass(frozen=True)
class SecurityItem:
    created_at: datetime
    source: str
    quote: str  # masked
    url: str
    sensitive: list[str]  # kinds of exposed data (seed_phrase, private_key, otp, email, phone)
    rules: list[str]  # detection rules that fired on it


@dataclass(frozen=True)
class SecuritySection:
    total: int
    exposing: int  # of which expose sensitive data
    items: list[SecurityItem]


@dataclass(frozen=True)
class ReviewItem:
    created_at: datetime
    source: str
    rating: int | None
    version: str | None
    quote: str
    url: str
    age: timedelta  # at the end of the period


@dataclass(frozen=True)
class UnrepliedSection:
    total: int
    items: list[ReviewItem]  # oldest first
    window: timedelta
    blind_sources: list[str]  # store sources whose feed cannot show replies (App Store)


@dataclass(frozen=True)
class Highlight:
    kind: str  # a message id in the translations: highlight.<kind>
    level: str  # "alert" | "warn" | "info"
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class Digest:
    name: str
    title: str | None
    lang: str
    period: Period
    sections: list[str]
    max_items: int = 5  # rows per list; tables show up to twice as many
    highlights: list[Highlight] = field(default_factory=list)
    volume: VolumeSection | None = None
    sentiment: SentimentSection | None = None
    ratings: RatingsSection | None = None
    incidents: IncidentsSection | None = None
    clusters: ClustersSection | None = None
    terms: TermsSection | None = None
    security: SecuritySection | None = None
    unreplied: UnrepliedSection | None = None
