"""Read-only queries behind digests and reports, and the log of digests already sent.

Every query takes a half-open window [start, end) of event time (posts' created_at) and an
optional list of source names; none of them writes. Times in the database are ISO strings in
one fixed format, so comparing text compares time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Sequence

from ..models import Enrichment, Incident, Post
from .db import Connections, dumps, loads
from .incidents import INCIDENT_COLUMNS, row_to_incident
from .posts import ENRICH_COLUMNS, POST_COLUMNS, row_to_enrichment, row_to_post
from .timefmt import epoch, to_db

_P_COLUMNS = ", ".join(f"p.{c.strip()}" for c in POST_COLUMNS.split(","))

# The post's main category: its best-scoring one; enriched posts without any are "other",
# posts not enriched yet are "unclassified".
PRIMARY_CATEGORY_SQL = (
    "CASE WHEN e.post_id IS NULL THEN 'unclassified' ELSE coalesce("
    "(SELECT c.category FROM post_categories c WHERE c.post_id = p.id ORDER BY c.score DESC, c.category LIMIT 1), "
    "'other') END"
)


@dataclass(frozen=True)
class BucketCategoryCount:
    bucket: int  # index of the bucket from the window's start
    category: str
    count: int


@dataclass(frozen=True)
class BucketSentiment:
    bucket: int
    sentiment: str  # negative | neutral | positive
    count: int
    score_sum: float


@dataclass(frozen=True)
class VersionRating:
    source: str
    source_type: str
    app_version: str | None
    count: int
    mean: float


def _window(start: datetime, end: datetime, sources: Sequence[str]) -> tuple[str, list[Any]]:
    sql = "p.created_at >= ? AND p.created_at < ?"
    params: list[Any] = [to_db(start), to_db(end)]
    if sources:
        sql += f" AND p.source IN ({','.join('?' * len(sources))})"
        params.extend(sources)
    return sql, params


class ReportsMixin:
    _cx: Connections

    # --- volume -------------------------------------------------------------------------

    def count_by_source(self, start: datetime, end: datetime, sources: Sequence[str] = ()) -> dict[str, int]:
        where, params = _window(start, end, sources)
        rows = self._cx.conn().execute(f"SELECT p.source, count(*) FROM posts p WHERE {where} GROUP BY p.source",
                                       params).fetchall()
        return {source: n for source, n in rows}

    def count_by_category(self, start: datetime, end: datetime, sources: Sequence[str] = ()) -> dict[str, int]:
        """Posts per main category (each post counted once)."""
        where, params = _window(start, end, sources)
        rows = self._cx.conn().execute(
            f"SELECT {PRIMARY_CATEGORY_SQL} AS cat, count(*) FROM posts p LEFT JOIN enrichments e ON e.post_id = p.id "
            f"WHERE {where} GROUP BY cat", params).fetchall()
        return {cat: n for cat, n in rows}

    def category_buckets(self, start: datetime, end: datetime, bucket_seconds: int,
                         sources: Sequence[str] = ()) -> list[BucketCategoryCount]:
        """Posts per main category in buckets of `bucket_seconds` counted from `start`."""
        where, params = _window(start, end, sources)
        rows = self._cx.conn().execute(
            f"SELECT (CAST(strftime('%s', p.created_at) AS INTEGER) - ?) / ? AS b, {PRIMARY_CATEGORY_SQL} AS cat, "
            f"count(*) FROM posts p LEFT JOIN enrichments e ON e.post_id = p.id WHERE {where} "
            "GROUP BY b, cat ORDER BY b, cat", [epoch(start), bucket_seconds, *params]).fetchall()
        return [BucketCategoryCount(*r) for r in rows]

    # --- sentiment ----------------------------------------------------------------------

    def sentiment_buckets(self, start: datetime, end: datetime, bucket_seconds: int,
                          sources: Sequence[str] = ()) -> list[BucketSentiment]:
        """Enriched posts per sentiment label in buckets from `start`, with the sum of their scores."""
        where, params = _window(start, end, sources)
        rows = self._cx.conn().execute(
            "SELECT (CAST(strftime('%s', p.created_at) AS INTEGER) - ?) / ? AS b, e.sentiment, count(*), "
            f"sum(e.sentiment_score) FROM posts p JOIN enrichments e ON e.post_id = p.id WHERE {where} "
            "GROUP BY b, e.sentiment ORDER BY b", [epoch(start), bucket_seconds, *params]).fetchall()
        return [BucketSentiment(b, s, n, total or 0.0) for b, s, n, total in rows]

    # --- store ratings ------------------------------------------------------------------

    def ratings_by_version(self, start: datetime, end: datetime,
                           sources: Sequence[str] = ()) -> list[VersionRating]:
        where, params = _window(start, end, sources)
        rows = self._cx.conn().execute(
            "SELECT p.source, p.source_type, p.app_version, count(*), avg(p.rating) FROM posts p "
            f"WHERE {where} AND p.rating IS NOT NULL GROUP BY p.source, p.source_type, p.app_version",
            params).fetchall()
        return [VersionRating(*r) for r in rows]

    # --- posts --------------------------------------------------------------------------

    def complaint_posts(self, start: datetime, end: datetime, categories: Sequence[str],
                        sources: Sequence[str] = (), limit: int = 5000) -> list[tuple[Post, Enrichment | None]]:
        """Negative posts, or posts in one of `categories`, newest first."""
        where, params = _window(start, end, sources)
        marks = ",".join("?" * len(categories)) or "''"
        rows = self._cx.conn().execute(
            f"SELECT {_P_COLUMNS}, {ENRICH_COLUMNS} FROM posts p JOIN enrichments e ON e.post_id = p.id "
            f"WHERE {where} AND (e.sentiment = 'negative' OR EXISTS (SELECT 1 FROM post_categories c "
            f"WHERE c.post_id = p.id AND c.category IN ({marks}))) ORDER BY p.created_at DESC, p.id DESC LIMIT ?",
            [*params, *categories, limit]).fetchall()
        return [(row_to_post(r[:14]), row_to_enrichment(r[14:])) for r in rows]

    def iter_texts(self, start: datetime, end: datetime, sources: Sequence[str] = ()) -> Iterator[tuple[int, str]]:
        """(post id, title and text) of every post in the window, streamed."""
        where, params = _window(start, end, sources)
        cur = self._cx.conn().execute(
            f"SELECT p.id, coalesce(p.title || char(10), '') || p.text FROM posts p WHERE {where}", params)
        yield from cur

    def security_posts(self, start: datetime, end: datetime, sources: Sequence[str] = (),
                       limit: int = 10) -> tuple[int, int, list[tuple[Post, Enrichment | None]]]:
        """(posts flagged as security reports, of which exposing sensitive data, the newest `limit`)."""
        where, params = _window(start, end, sources)
        flagged = ("(e.security = 1 OR EXISTS (SELECT 1 FROM post_categories c WHERE c.post_id = p.id "
                   "AND c.category = 'security'))")
        conn = self._cx.conn()
        total, exposing = conn.execute(
            f"SELECT count(*), coalesce(sum(e.sensitive != '[]'), 0) FROM posts p JOIN enrichments e "
            f"ON e.post_id = p.id WHERE {where} AND {flagged}", params).fetchone()
        rows = conn.execute(
            f"SELECT {_P_COLUMNS}, {ENRICH_COLUMNS} FROM posts p JOIN enrichments e ON e.post_id = p.id "
            f"WHERE {where} AND {flagged} ORDER BY (e.sensitive != '[]') DESC, p.created_at DESC, p.id DESC LIMIT ?",
            [*params, limit]).fetchall()
        return total, exposing, [(row_to_post(r[:14]), row_to_enrichment(r[14:])) for r in rows]

    def rules_by_post(self, start: datetime, end: datetime) -> dict[int, list[str]]:
        """Which rules fired on which posts, for findings with an event time in the window."""
        rows = self._cx.conn().execute("SELECT rule_id, post_ids FROM findings WHERE event_time >= ? "
                                       "AND event_time < ?", (to_db(start), to_db(end))).fetchall()
        out: dict[int, list[str]] = defaultdict(list)
        for rule_id, post_ids in rows:
            for pid in loads(post_ids, []):
                if rule_id not in out[pid]:
                    out[pid].append(rule_id)
        return dict(out)

    def unreplied_reviews(self, start: datetime, end: datetime, source_types: Sequence[str], reply_key: str,
                          max_rating: int = 5, sources: Sequence[str] = (),
                          limit: int = 10) -> tuple[int, list[Post]]:
        """Reviews from `source_types` whose meta has no `reply_key` text, oldest first: (total, first `limit`)."""
        if not source_types:
            return 0, []
        where, params = _window(start, end, sources)
        path = "$." + dumps(reply_key)  # a quoted JSON path member: safe for any key
        cond = (f"{where} AND p.source_type IN ({','.join('?' * len(source_types))}) "
                "AND coalesce(trim(json_extract(p.meta, ?)), '') = '' AND (p.rating IS NULL OR p.rating <= ?)")
        args = [*params, *source_types, path, max_rating]
        conn = self._cx.conn()
        total = conn.execute(f"SELECT count(*) FROM posts p WHERE {cond}", args).fetchone()[0]
        rows = conn.execute(f"SELECT {_P_COLUMNS} FROM posts p WHERE {cond} ORDER BY p.created_at, p.id LIMIT ?",
                            [*args, limit]).fetchall()
        return total, [row_to_post(r) for r in rows]

    # --- incidents ----------------------------------------------------------------------

    def incidents_active_between(self, start: datetime, end: datetime) -> list[Incident]:
        """Incidents open at any moment of [start, end): opened before its end, not resolved before its start."""
        rows = self._cx.conn().execute(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE coalesce(opened_at, first_seen) < ? "
            "AND (resolved_at IS NULL OR resolved_at >= ?) ORDER BY coalesce(opened_at, first_seen), id",
            (to_db(end), to_db(start))).fetchall()
        return [row_to_incident(r) for r in rows]


class DigestLogMixin:
    """Which digest periods were already sent (the idempotence of scheduled digests)."""

    _cx: Connections

    def digest_sent(self, name: str, period_end: datetime) -> bool:
        row = self._cx.conn().execute("SELECT 1 FROM digest_runs WHERE name = ? AND period_end = ?",
                                      (name, to_db(period_end))).fetchone()
        return row is not None

    def record_digest(self, name: str, period_start: datetime, period_end: datetime, channels: Sequence[str],
                      notification_ids: Sequence[int], now: datetime) -> bool:
        """Log a sent digest; False (and nothing written) when that period was already logged.

        Call it inside the transaction that enqueues the notifications, so both or neither happen.
        """
        with self._cx.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO digest_runs (name, period_end, period_start, created_at, channels, "
                "notification_ids) VALUES (?, ?, ?, ?, ?, ?)",
                (name, to_db(period_end), to_db(period_start), to_db(now), dumps(list(channels)),
                 dumps(list(notification_ids))))
            return cur.rowcount == 1

    def digest_runs(self, name: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, params = ("WHERE name = ?", [name]) if name else ("", [])
        rows = self._cx.conn().execute(
            f"SELECT name, period_start, period_end, created_at, channels, notification_ids FROM digest_runs {where} "
            "ORDER BY period_end DESC LIMIT ?", [*params, limit]).fetchall()
        return [dict(name=r[0], period_start=r[1], period_end=r[2], created_at=r[3], channels=loads(r[4], []),
                     notification_ids=loads(r[5], [])) for r in rows]
