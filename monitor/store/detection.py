"""Count series, detector state, watermarks and findings: what detection reads and writes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from ..models import Finding, Severity
from .db import Connections, dumps, loads
from .timefmt import from_db, to_db


@dataclass(frozen=True)
class SeriesPoint:
    """One post counted into one series: `series` like "all", "category:security", "rule:ID"."""

    series: str
    bucket: int  # bucket start, epoch seconds
    author: str  # the post's author (or its key when anonymous), for distinct-author counts
    post_id: int | None = None  # remembered (for evidence) when given


@dataclass(frozen=True)
class BucketCount:
    bucket: int
    count: int
    authors: int


@dataclass(frozen=True)
class StoredFinding:
    id: int
    finding: Finding
    incident_id: int | None


class DetectionMixin:
    _cx: Connections

    # --- watermarks and small state -----------------------------------------------------

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self._cx.conn().execute("SELECT value FROM pipeline_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with self._cx.transaction() as conn:
            conn.execute("INSERT INTO pipeline_state (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def set_warnings(self, component: str, warnings: Sequence[str]) -> None:
        """Replace the warnings one component shows in `monitor status` (an empty list clears them)."""
        self.set_state(f"warnings.{component}", dumps(list(warnings)))

    def warnings(self) -> dict[str, list[str]]:
        rows = self._cx.conn().execute("SELECT key, value FROM pipeline_state WHERE key LIKE 'warnings.%'").fetchall()
        return {k.split(".", 1)[1]: loads(v, []) for k, v in rows if loads(v, [])}

    def get_blobs(self, prefix: str) -> dict[str, bytes]:
        rows = self._cx.conn().execute("SELECT key, value FROM detector_state WHERE key >= ? AND key < ?",
                                       (prefix, prefix + "\uffff")).fetchall()
        return {k: v for k, v in rows}

    def put_blobs(self, items: Iterable[tuple[str, bytes]], now: datetime) -> None:
        stamp = to_db(now)
        with self._cx.transaction() as conn:
            conn.executemany("INSERT INTO detector_state (key, value, updated_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                             [(k, v, stamp) for k, v in items])

    # --- count series -------------------------------------------------------------------

    def add_series_points(self, points: Sequence[SeriesPoint]) -> None:
        if not points:
            return
        counts: dict[tuple[str, int], int] = defaultdict(int)
        for p in points:
            counts[(p.series, p.bucket)] += 1
        with self._cx.transaction() as conn:
            conn.executemany(
                "INSERT INTO series_counts (series, bucket, count) VALUES (?, ?, ?) "
                "ON CONFLICT (series, bucket) DO UPDATE SET count = count + excluded.count",
                [(s, b, n) for (s, b), n in counts.items()])
            conn.executemany("INSERT OR IGNORE INTO series_authors (series, bucket, author) VALUES (?, ?, ?)",
                             [(p.series, p.bucket, p.author) for p in points])
            conn.executemany("INSERT OR IGNORE INTO series_posts (series, bucket, post_id) VALUES (?, ?, ?)",
                             [(p.series, p.bucket, p.post_id) for p in points if p.post_id is not None])
            conn.executemany(
                "UPDATE series_counts SET authors = (SELECT count(*) FROM series_authors a "
                "WHERE a.series = series_counts.series AND a.bucket = series_counts.bucket) "
                "WHERE series = ? AND bucket = ?", list(counts))

    def series_post_ids(self, series: str, start: int, end: int, limit: int) -> list[int]:
        """The newest posts remembered for a series in buckets [start, end)."""
        rows = self._cx.conn().execute(
            "SELECT post_id FROM series_posts WHERE series = ? AND bucket >= ? AND bucket < ? "
            "ORDER BY bucket DESC, post_id DESC LIMIT ?", (series, start, end, limit)).fetchall()
        return [r[0] for r in rows]

    def mark_counted(self, post_ids: Sequence[int]) -> None:
        with self._cx.transaction() as conn:
            conn.executemany("UPDATE posts SET counted = 1 WHERE id = ?", [(i,) for i in post_ids])

    def series_buckets(self, series: str, start: int, end: int) -> list[BucketCount]:
        """Non-empty buckets of one series with start <= bucket < end (missing ones are zero)."""
        rows = self._cx.conn().execute(
            "SELECT bucket, count, authors FROM series_counts WHERE series = ? AND bucket >= ? AND bucket < ? "
            "ORDER BY bucket", (series, start, end)).fetchall()
        return [BucketCount(*r) for r in rows]

    def series_distinct_authors(self, series: str, start: int, end: int) -> int:
        """Distinct authors of one series over buckets start <= bucket < end (kept for a few days)."""
        return self._cx.conn().execute(
            "SELECT count(DISTINCT author) FROM series_authors WHERE series = ? AND bucket >= ? AND bucket < ?",
            (series, start, end)).fetchone()[0]

    def series_in_range(self, start: int, end: int, prefix: str = "") -> dict[str, list[BucketCount]]:
        """Every series (optionally those starting with `prefix`) with counts in [start, end)."""
        rows = self._cx.conn().execute(
            "SELECT series, bucket, count, authors FROM series_counts WHERE bucket >= ? AND bucket < ? "
            "AND series >= ? AND series < ? ORDER BY series, bucket",
            (start, end, prefix, prefix + "\uffff")).fetchall()
        out: dict[str, list[BucketCount]] = defaultdict(list)
        for series, bucket, count, authors in rows:
            out[series].append(BucketCount(bucket, count, authors))
        return dict(out)

    def series_names(self, prefix: str = "") -> list[str]:
        rows = self._cx.conn().execute("SELECT DISTINCT series FROM series_counts WHERE series >= ? AND series < ?",
                                       (prefix, prefix + "\uffff")).fetchall()
        return [r[0] for r in rows]

    # --- findings -----------------------------------------------------------------------

    def save_findings(self, findings: Sequence[Finding], now: datetime) -> list[StoredFinding]:
        """Insert findings; ones already stored (same rule and fingerprint) are skipped.

        Returns only the new ones, so running detection twice over the same posts is harmless.
        """
        new: list[StoredFinding] = []
        stamp = to_db(now)
        with self._cx.transaction() as conn:
            for f in findings:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO findings (rule_id, fingerprint, group_key, grp, event_time, severity, "
                    "title, post_ids, evidence, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (f.rule_id, f.fingerprint or _default_fingerprint(f), f.group_key, dumps(dict(f.group)),
                     to_db(f.event_time), f.severity.value, f.title, dumps(list(f.post_ids)),
                     dumps(dict(f.evidence)), stamp))
                if cur.rowcount:
                    new.append(StoredFinding(cur.lastrowid, f, None))
        return new

    def link_findings(self, finding_ids: Sequence[int], incident_id: int) -> None:
        with self._cx.transaction() as conn:
            conn.executemany("UPDATE findings SET incident_id = ? WHERE id = ?",
                             [(incident_id, i) for i in finding_ids])

    def findings(self, rule_id: str | None = None, since: datetime | None = None,
                 incident_id: int | None = None, limit: int = 1000) -> list[StoredFinding]:
        where, params = [], []
        if rule_id:
            where.append("rule_id = ?")
            params.append(rule_id)
        if since:
            where.append("event_time >= ?")
            params.append(to_db(since))
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        sql = ("SELECT id, rule_id, fingerprint, grp, event_time, severity, title, post_ids, evidence, incident_id "
               f"FROM findings {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY event_time, id LIMIT ?")
        rows = self._cx.conn().execute(sql, [*params, limit]).fetchall()
        return [StoredFinding(r[0], Finding(rule_id=r[1], fingerprint=r[2], group=loads(r[3], {}),
                                            event_time=from_db(r[4]), severity=Severity(r[5]), title=r[6],
                                            post_ids=tuple(loads(r[7], [])), evidence=loads(r[8], {})), r[9])
                for r in rows]

    def count_findings(self) -> int:
        return self._cx.conn().execute("SELECT count(*) FROM findings").fetchone()[0]


def _default_fingerprint(f: Finding) -> str:
    return f"{f.group_key}@{to_db(f.event_time)}"
