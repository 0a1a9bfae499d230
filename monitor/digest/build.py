"""From the store to a Digest: the numbers and lists each section shows.

Everything reads one period [start, end) and, for comparisons, the period of the same length
just before it. Quotes are masked (mask_sensitive) and cut to length here; escaping is the
renderer's job.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from ..enrich.sensitive import mask_sensitive
from ..models import Category, Enrichment, Incident, Severity
from ..store import SqliteStore
from ..text.clusters import cluster_texts
from ..text.escape import plain_url
from ..text.quote import quote as masked_quote
from .model import (CategoryBucket, ClusterItem, ClustersSection, CountRow, Digest, DurationStats, Highlight,
                    IncidentRow, IncidentsSection, Period, RatingRow, RatingsSection, ReviewItem, SecurityItem,
                    SecuritySection, SentimentBucket, SentimentSection, SentimentShares, StoreRating, TermItem,
                    TermsSection, UnrepliedSection, VolumeSection)
from .replies import REPLY_AWARE_SOURCE_TYPES, REPLY_BLIND_SOURCE_TYPES, REPLY_TEXT_KEY, team_reply
from .settings import DigestSettings, Section
from .terms import document_frequencies, emerging_terms

COMPLAINT_CATEGORIES = (Category.OUTAGE, Category.ACCOUNT, Category.FUNDS, Category.TRADING, Category.SECURITY)
QUIET_CATEGORIES = {Category.PRAISE.value, Category.SUGGESTION.value, Category.OTHER.value, "unclassified"}
BUCKET_CHOICES = [timedelta(minutes=m) for m in (15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080)]
MAX_BUCKETS = 36
QUOTE_CHARS = 240
CLUSTER_POSTS_LIMIT = 3000  # newest complaint posts clustered per digest: bounds the time a digest takes
MIN_PREVIOUS_POSTS_FOR_TERMS = 20
SURGE_MIN_POSTS = 10


def bucket_length(period: timedelta) -> timedelta:
    """The shortest bucket that splits the period into at most MAX_BUCKETS."""
    for choice in BUCKET_CHOICES:
        if period / choice <= MAX_BUCKETS:
            return choice
    return BUCKET_CHOICES[-1]


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """One line of post text, sensitive data masked, at most `limit` characters."""
    return masked_quote(text, limit)


def version_key(version: str) -> tuple:
    """Natural order of app versions ("10.2.0" after "9.12.1"); unknown ones first."""
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def build_digest(store: SqliteStore, settings: DigestSettings, end: datetime, timezone: str) -> Digest:
    period = Period(end - settings.period, end, timezone)
    digest = Digest(name=settings.name, title=settings.title, lang=settings.lang, period=period,
                    sections=[s.value for s in settings.sections], max_items=settings.max_items)
    builder = _Builder(store, settings, period)
    wanted = set(settings.sections)
    # the overview summarises the other sections, so it needs them even when they are not shown
    need = wanted | ({Section.VOLUME, Section.SENTIMENT, Section.RATINGS, Section.INCIDENTS, Section.SECURITY,
                      Section.UNREPLIED} if Section.OVERVIEW in wanted else set())
    parts = {
        Section.VOLUME: builder.volume, Section.SENTIMENT: builder.sentiment, Section.RATINGS: builder.ratings,
        Section.INCIDENTS: builder.incidents, Section.CLUSTERS: builder.clusters, Section.TERMS: builder.terms,
        Section.SECURITY: builder.security, Section.UNREPLIED: builder.unreplied,
    }
    built = {section: make() for section, make in parts.items() if section in need}
    if Section.OVERVIEW in wanted:
        digest.highlights = highlights(built, settings)
    for section, value in built.items():
        if section in wanted:
            setattr(digest, section.value, value)
    return digest


class _Builder:
    def __init__(self, store: SqliteStore, settings: DigestSettings, period: Period) -> None:
        self.store, self.settings, self.period = store, settings, period
        self.previous = period.previous
        self.sources = tuple(settings.sources)
        self.limit = settings.max_items

    # --- volume and sentiment -----------------------------------------------------------

    def volume(self) -> VolumeSection:
        p, q, s = self.period, self.previous, self.sources
        by_source = _rows(self.store.count_by_source(p.start, p.end, s), self.store.count_by_source(q.start, q.end, s))
        by_category = _rows(self.store.count_by_category(p.start, p.end, s),
                            self.store.count_by_category(q.start, q.end, s))
        total = CountRow("all", sum(r.current for r in by_source), sum(r.previous for r in by_source))
        length = bucket_length(p.length)
        counts: dict[int, dict[str, int]] = {}
        for c in self.store.category_buckets(p.start, p.end, int(length.total_seconds()), s):
            counts.setdefault(c.bucket, {})[c.category] = c.count
        buckets = [CategoryBucket(p.start + i * length, counts.get(i, {})) for i in range(_n_buckets(p, length))]
        return VolumeSection(total, by_source, by_category, buckets, length)

    def sentiment(self) -> SentimentSection:
        p, q, s = self.period, self.previous, self.sources
        length = bucket_length(p.length)
        per_bucket: dict[int, SentimentShares] = {}
        for b in self.store.sentiment_buckets(p.start, p.end, int(length.total_seconds()), s):
            per_bucket[b.bucket] = _add(per_bucket.get(b.bucket, SentimentShares()), b.sentiment, b.count, b.score_sum)
        current = SentimentShares()
        for shares in per_bucket.values():
            current = _merge(current, shares)
        previous = SentimentShares()
        for b in self.store.sentiment_buckets(q.start, q.end, int(q.length.total_seconds()), s):
            previous = _add(previous, b.sentiment, b.count, b.score_sum)
        buckets = [SentimentBucket(p.start + i * length, per_bucket.get(i, SentimentShares()))
                   for i in range(_n_buckets(p, length))]
        return SentimentSection(current, previous, buckets, length)

    # --- store ratings ------------------------------------------------------------------

    def ratings(self) -> RatingsSection:
        p, q, s = self.period, self.previous, self.sources
        current = self.store.ratings_by_version(p.start, p.end, s)
        previous = self.store.ratings_by_version(q.start, q.end, s)
        stores = []
        for source in sorted({r.source for r in current} | {r.source for r in previous}):
            now = [(r.count, r.mean) for r in current if r.source == source]
            before = [(r.count, r.mean) for r in previous if r.source == source]
            stores.append(StoreRating(source, sum(n for n, _ in now), _weighted(now),
                                      sum(n for n, _ in before), _weighted(before)))
        by_store = {st.source: st for st in stores}
        rows = []
        for r in current:
            version = r.app_version or "?"
            store_prev = by_store[r.source]
            if store_prev.previous_count >= self.settings.min_reviews:
                baseline = store_prev.previous_mean
            else:  # no history: compare with the store's other versions in this period
                others = [(o.count, o.mean) for o in current if o.source == r.source and o.app_version != r.app_version]
                baseline = _weighted(others) if sum(n for n, _ in others) >= self.settings.min_reviews else None
            flagged = (r.count >= self.settings.min_reviews and baseline is not None
                       and r.mean <= baseline - self.settings.rating_drop)
            rows.append(RatingRow(r.source, r.source_type, version, r.count, r.mean, baseline, flagged))
        rows.sort(key=lambda r: version_key(r.version), reverse=True)  # newest version first...
        rows.sort(key=lambda r: r.source)  # ...within each store (the sort is stable)
        return RatingsSection(rows, [st for st in stores if st.count])

    # --- incidents ----------------------------------------------------------------------

    def incidents(self) -> IncidentsSection:
        p = self.period
        rows = [_incident_row(i) for i in self.store.incidents_active_between(p.start, p.end)]

        def within(dt: datetime | None) -> bool:
            return dt is not None and p.start <= dt < p.end

        acknowledged = [r for r in rows if within(r.acknowledged_at)]
        resolved = [r for r in rows if within(r.resolved_at)]
        open_at_end = [r for r in rows if r.resolved_at is None or r.resolved_at >= p.end]
        shown = [r for r in rows if within(r.opened_at) or r in open_at_end or r in resolved]
        shown.sort(key=lambda r: (-Severity(r.severity).rank, r.state == "resolved", -r.opened_at.timestamp()))
        return IncidentsSection(
            opened=sum(1 for r in rows if within(r.opened_at)), acknowledged=len(acknowledged), resolved=len(resolved),
            open_at_end=len(open_at_end),
            time_to_acknowledge=_stats(r.time_to_acknowledge for r in acknowledged),
            time_to_resolve=_stats(r.time_to_resolve for r in resolved),
            rows=shown[: self.limit * 2])

    # --- complaint clusters and terms ---------------------------------------------------

    def clusters(self) -> ClustersSection:
        p = self.period
        posts = self.store.complaint_posts(p.start, p.end, [c.value for c in COMPLAINT_CATEGORIES], self.sources,
                                           limit=CLUSTER_POSTS_LIMIT)
        items = []
        for cluster in cluster_texts([post.full_text for post, _ in posts]):
            if cluster.size < self.settings.cluster_min_size or len(items) >= self.limit:
                break
            members = [posts[i] for i in cluster.members]
            rep_post, _ = posts[cluster.representative]
            links = list(dict.fromkeys(u for u in (plain_url(m.url) for m, _ in
                                                   [posts[cluster.representative], *members]) if u))[:3]
            categories = Counter(_main_category(e) for _, e in members)
            langs = Counter(e.lang for _, e in members if e and e.lang and e.lang != "und")
            times = [m.created_at for m, _ in members]
            items.append(ClusterItem(size=cluster.size, category=categories.most_common(1)[0][0],
                                     quote=quote(rep_post.full_text), links=links,
                                     sources=dict(Counter(m.source for m, _ in members).most_common()),
                                     langs=[lang for lang, _ in langs.most_common(3)],
                                     first_seen=min(times), last_seen=max(times)))
        return ClustersSection(len(posts), items)

    def terms(self) -> TermsSection:
        p, q, s = self.period, self.previous, self.sources
        current, n_current = document_frequencies(text for _, text in self.store.iter_texts(p.start, p.end, s))
        previous, n_previous = document_frequencies(text for _, text in self.store.iter_texts(q.start, q.end, s))
        enough = n_previous >= MIN_PREVIOUS_POSTS_FOR_TERMS
        terms: list[TermItem] = []
        if enough:
            for t in emerging_terms(current, n_current, previous, n_previous, limit=self.limit * 3):
                if mask_sensitive(t.term) == t.term:  # never surface a piece of an e-mail, key or code
                    terms.append(TermItem(t.term, t.current, t.previous))
        return TermsSection(n_current, n_previous, terms[: self.limit * 2], enough)

    # --- security and replies -----------------------------------------------------------

    def security(self) -> SecuritySection:
        p = self.period
        total, exposing, posts = self.store.security_posts(p.start, p.end, self.sources, limit=self.limit)
        rules = self.store.rules_by_post(p.start, p.end)
        items = [SecurityItem(created_at=post.created_at, source=post.source, quote=quote(post.full_text),
                              url=plain_url(post.url), sensitive=list(e.sensitive) if e else [],
                              rules=rules.get(post.id, []))
                 for post, e in posts]
        return SecuritySection(total, exposing, items)

    def unreplied(self) -> UnrepliedSection:
        p, window = self.period, self.settings.unreplied_window
        since = p.end - window
        total, posts = self.store.unreplied_reviews(since, p.end, REPLY_AWARE_SOURCE_TYPES, REPLY_TEXT_KEY,
                                                    self.settings.unreplied_max_rating, self.sources,
                                                    limit=self.limit)
        items = [ReviewItem(created_at=post.created_at, source=post.source, rating=post.rating,
                            version=post.app_version, quote=quote(post.full_text), url=plain_url(post.url),
                            age=p.end - post.created_at)
                 for post in posts if team_reply(post) is None]
        blind = sorted({r.source for r in self.store.ratings_by_version(since, p.end, self.sources)
                        if r.source_type in REPLY_BLIND_SOURCE_TYPES})
        return UnrepliedSection(total, items, window, blind)


def highlights(built: dict, settings: DigestSettings) -> list[Highlight]:
    """What stands out, most urgent first."""
    out: list[Highlight] = []
    ratings: RatingsSection | None = built.get(Section.RATINGS)
    for row in ratings.flagged if ratings else []:
        out.append(Highlight("rating_drop", "alert", dict(source=row.source, version=row.version, mean=row.mean,
                                                         count=row.count, baseline=row.baseline)))
    security: SecuritySection | None = built.get(Section.SECURITY)
    if security and security.exposing:
        out.append(Highlight("sensitive_exposed", "alert", dict(count=security.exposing)))
    incidents: IncidentsSection | None = built.get(Section.INCIDENTS)
    if incidents and incidents.open_at_end:
        severe = any(Severity(r.severity).rank >= Severity.HIGH.rank and r.state != "resolved" for r in incidents.rows)
        out.append(Highlight("incidents_open", "alert" if severe else "warn", dict(count=incidents.open_at_end)))
    if security and security.total:
        out.append(Highlight("security_reports", "warn", dict(count=security.total)))
    volume: VolumeSection | None = built.get(Section.VOLUME)
    for row in volume.by_category if volume else []:
        if row.key in QUIET_CATEGORIES or row.current < SURGE_MIN_POSTS:
            continue
        if row.previous == 0:
            out.append(Highlight("category_new", "warn", dict(category=row.key, current=row.current)))
        elif row.current >= 2 * row.previous:
            out.append(Highlight("category_surge", "warn", dict(category=row.key, current=row.current,
                                                               change=row.change)))
    sentiment: SentimentSection | None = built.get(Section.SENTIMENT)
    if sentiment and sentiment.current.total >= 20:
        change = sentiment.negative_share_change
        if change is not None and change >= 0.10:
            out.append(Highlight("negative_up", "warn", dict(points=change, share=sentiment.current.share("negative"))))
    unreplied: UnrepliedSection | None = built.get(Section.UNREPLIED)
    if unreplied and unreplied.total and unreplied.items:
        out.append(Highlight("unreplied", "info", dict(count=unreplied.total, age=unreplied.items[0].age)))
    if not out:
        out.append(Highlight("quiet", "info"))
    return out


# --- helpers ---------------------------------------------------------------------------------


def _rows(current: dict[str, int], previous: dict[str, int]) -> list[CountRow]:
    rows = [CountRow(k, current.get(k, 0), previous.get(k, 0)) for k in set(current) | set(previous)]
    return sorted(rows, key=lambda r: (-r.current, -r.previous, r.key))


def _n_buckets(period: Period, length: timedelta) -> int:
    return max(1, math.ceil(period.length / length))


def _add(shares: SentimentShares, label: str, count: int, score_sum: float) -> SentimentShares:
    values = {"negative": shares.negative, "neutral": shares.neutral, "positive": shares.positive}
    if label in values:
        values[label] += count
    return SentimentShares(score_sum=shares.score_sum + score_sum, **values)


def _merge(a: SentimentShares, b: SentimentShares) -> SentimentShares:
    return SentimentShares(a.negative + b.negative, a.neutral + b.neutral, a.positive + b.positive,
                           a.score_sum + b.score_sum)


def _weighted(pairs: Sequence[tuple[int, float]]) -> float | None:
    n = sum(count for count, _ in pairs)
    return sum(count * mean for count, mean in pairs) / n if n else None


def _stats(durations: Iterable[timedelta | None]) -> DurationStats:
    values = sorted(d for d in durations if d is not None)
    if not values:
        return DurationStats(0, None, None)
    seconds = [d.total_seconds() for d in values]
    return DurationStats(len(values), timedelta(seconds=statistics.median(seconds)),
                         timedelta(seconds=statistics.fmean(seconds)))


def _incident_row(incident: Incident) -> IncidentRow:
    return IncidentRow(id=incident.id or 0, title=quote(incident.title or incident.key, 160),
                       severity=incident.severity.value, state=incident.state.value,
                       opened_at=incident.opened_at or incident.first_seen, acknowledged_at=incident.acknowledged_at,
                       resolved_at=incident.resolved_at, post_count=incident.post_count)


def _main_category(enrichment: Enrichment | None) -> str:
    if enrichment is None or not enrichment.categories:
        return Category.OTHER.value
    return max(enrichment.categories, key=lambda c: c.score).name


__all__ = ["build_digest", "bucket_length", "quote", "version_key", "highlights"]
