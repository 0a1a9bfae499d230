"""Posts, their revisions, full-text search, source cursors and source health."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from ..models import CategoryScore, EnrichedPost, Enrichment, Post, Sentiment
from .db import Connections, dumps, loads
from .textsearch import fts_query, index_text
from .timefmt import from_db, to_db

_CHUNK = 500  # host parameters per IN (...) query stay well under SQLite's limit

POST_COLUMNS = (
    "id, source, source_type, external_id, url, author, title, text, lang_hint, rating, app_version, "
    "created_at, fetched_at, meta"
)
ENRICH_COLUMNS = "e.lang, e.sentiment, e.sentiment_score, e.categories, e.security, e.sensitive, e.backend"


@dataclass(frozen=True)
class IngestResult:
    inserted: int = 0
    edited: int = 0  # text, title or rating changed: history kept, post re-enriched
    refreshed: int = 0  # only metadata changed (a developer reply, vote counts...)
    unchanged: int = 0
    duplicates: int = 0  # repeated within the batch itself

    @property
    def stored(self) -> int:
        return self.inserted + self.edited

    def __add__(self, other: "IngestResult") -> "IngestResult":
        return IngestResult(*(a + b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[int, ...]:
        return (self.inserted, self.edited, self.refreshed, self.unchanged, self.duplicates)


@dataclass(frozen=True)
class SourceHealth:
    source: str
    source_type: str | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    posts_last_run: int
    posts_total: int
    last_new_post_at: datetime | None
    note: str | None
    first_run_at: datetime | None = None

    @property
    def silent_since(self) -> datetime | None:
        """When the source last brought something new (or started, if it never has)."""
        return self.last_new_post_at or self.first_run_at


@dataclass(frozen=True)
class PostQuery:
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    category: str | None = None
    lang: str | None = None
    limit: int = 50


def _digest(joined: str) -> str:
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _s(part: Any) -> str:
    return "" if part is None else str(part)


# Fields joined by \x1f, None as "". Keep the spelling stable (test_store pins it): under a new
# one every known post's next fetch would read its stored text back to rule out an edit.
# f-strings because ingest hashes every post twice.
def content_hash(post: Post) -> str:
    return _digest(f"{_s(post.title)}\x1f{_s(post.text)}\x1f{_s(post.rating)}")


def meta_hash(post: Post, meta_json: str) -> str:
    return _digest(f"{_s(post.url)}\x1f{_s(post.author)}\x1f{_s(post.app_version)}\x1f{_s(post.lang)}"
                   f"\x1f{_s(post.source_type)}\x1f{meta_json}")


def row_to_post(row: Sequence[Any]) -> Post:
    (pid, source, source_type, external_id, url, author, title, text, lang, rating, app_version,
     created_at, fetched_at, meta) = row[:14]
    return Post(source_type=source_type, source=source, external_id=external_id, text=text,
                created_at=from_db(created_at), fetched_at=from_db(fetched_at), url=url, author=author,
                title=title, lang=lang, rating=rating, app_version=app_version,
                meta=loads(meta, {}), id=pid)


def row_to_enrichment(row: Sequence[Any]) -> Enrichment | None:
    lang, sentiment, score, categories, security, sensitive, backend = row
    if lang is None:
        return None
    return Enrichment(lang=lang, sentiment=Sentiment(sentiment), sentiment_score=score,
                      categories=tuple(CategoryScore(n, s) for n, s in loads(categories, [])),
                      security=bool(security), sensitive=tuple(loads(sensitive, [])), backend=backend)


def _clean(text: str | None) -> str | None:
    # Lone surrogates (from broken upstream encodings) cannot be stored as UTF-8.
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


class PostsMixin:
    _cx: Connections

    # --- ingest -------------------------------------------------------------------------

    def save_batch(self, source: str, posts: Sequence[Post], now: datetime,
                   cursor: Mapping[str, Any] | None = None) -> IngestResult:
        """Store posts from one source and, in the same transaction, the cursor after them.

        New posts are inserted; a known post whose text, title or rating changed is updated in
        place, its old text kept in post_revisions and queued for enrichment again; a change in
        metadata alone just refreshes the row.
        """
        unique: dict[str, Post] = {}
        for post in posts:
            if post.source != source:
                raise ValueError(f"post {post.key} is from source {post.source!r}, not {source!r}")
            unique[post.external_id] = post
        duplicates = len(posts) - len(unique)
        stamp = to_db(now)
        with self._cx.transaction() as conn:
            existing: dict[str, tuple[int, str, str, int]] = {}
            ids = list(unique)
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT external_id, id, content_hash, meta_hash, revision FROM posts "
                    f"WHERE source = ? AND external_id IN ({marks})", [source, *chunk]):
                    existing[row[0]] = (row[1], row[2], row[3], row[4])
            new_rows, fts_rows, edits, refreshes = [], [], [], []
            next_id = None
            unchanged = 0
            for ext_id, post in unique.items():
                text, title = _clean(post.text) or "", _clean(post.title)
                meta_json = dumps(dict(post.meta)) if post.meta else "{}"
                c_hash, m_hash = content_hash(post), meta_hash(post, meta_json)
                old = existing.get(ext_id)
                if old is None:
                    if next_id is None:
                        next_id = (conn.execute("SELECT max(id) FROM posts").fetchone()[0] or 0) + 1
                    new_rows.append((next_id, source, post.source_type, ext_id, post.url, _clean(post.author),
                                     title, text, post.lang, post.rating, post.app_version,
                                     to_db(post.created_at), to_db(post.fetched_at), stamp, meta_json,
                                     c_hash, m_hash))
                    fts_rows.append((next_id, index_text(f"{title}\n{text}" if title else text)))
                    next_id += 1
                elif old[1] != c_hash:
                    edits.append((old[0], old[3], post, text, title, meta_json, c_hash, m_hash))
                elif old[2] != m_hash:
                    refreshes.append((post.url, _clean(post.author), post.app_version, post.lang, meta_json,
                                      m_hash, c_hash, stamp, old[0]))
                else:
                    unchanged += 1
            if edits:
                # A hash only says the content may differ (rows stored under an older hash
                # spelling differ without an edit): the stored text decides, and a false alarm
                # just refreshes the row and its hashes.
                stored = self._stored_content(conn, [e[0] for e in edits])
                really = []
                for edit in edits:
                    pid, _, post, text, title, meta_json, c_hash, m_hash = edit
                    if stored.get(pid) == (title, text, post.rating):
                        refreshes.append((post.url, _clean(post.author), post.app_version, post.lang, meta_json,
                                          m_hash, c_hash, stamp, pid))
                    else:
                        really.append(edit)
                edits = really
            if new_rows:
                conn.executemany(
                    "INSERT INTO posts (id, source, source_type, external_id, url, author, title, text, "
                    "lang_hint, rating, app_version, created_at, fetched_at, stored_at, meta, content_hash, "
                    "meta_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", new_rows)
                conn.executemany("INSERT INTO posts_fts (rowid, body) VALUES (?, ?)", fts_rows)
            for pid, revision, post, text, title, meta_json, c_hash, m_hash in edits:
                conn.execute(
                    "INSERT INTO post_revisions (post_id, revision, title, text, rating, replaced_at) "
                    "SELECT id, revision, title, text, rating, ? FROM posts WHERE id = ?", (stamp, pid))
                conn.execute(
                    "UPDATE posts SET title = ?, text = ?, rating = ?, url = ?, author = ?, app_version = ?, "
                    "lang_hint = ?, meta = ?, content_hash = ?, meta_hash = ?, revision = revision + 1, "
                    "enriched = 0, updated_at = ?, fetched_at = ? WHERE id = ?",
                    (title, text, post.rating, post.url, _clean(post.author), post.app_version, post.lang,
                     meta_json, c_hash, m_hash, stamp, to_db(post.fetched_at), pid))
                conn.execute("DELETE FROM posts_fts WHERE rowid = ?", (pid,))
                conn.execute("INSERT INTO posts_fts (rowid, body) VALUES (?, ?)",
                             (pid, index_text(f"{title}\n{text}" if title else text)))
            if refreshes:
                conn.executemany(
                    "UPDATE posts SET url = ?, author = ?, app_version = ?, lang_hint = ?, meta = ?, "
                    "meta_hash = ?, content_hash = ?, updated_at = ? WHERE id = ?", refreshes)
            if cursor is not None:
                self._set_cursor(conn, source, cursor, stamp)
        return IngestResult(len(new_rows), len(edits), len(refreshes), unchanged, duplicates)

    @staticmethod
    def _stored_content(conn: Any, ids: list[int]) -> dict[int, tuple[str | None, str, int | None]]:
        out = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            for pid, title, text, rating in conn.execute(
                    f"SELECT id, title, text, rating FROM posts WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                out[pid] = (title, text, rating)
        return out

    def get_cursor(self, source: str) -> dict[str, Any]:
        row = self._cx.conn().execute("SELECT cursor FROM source_state WHERE source = ?", (source,)).fetchone()
        return loads(row[0], {}) if row else {}

    def set_cursor(self, source: str, cursor: Mapping[str, Any], now: datetime) -> None:
        with self._cx.transaction() as conn:
            self._set_cursor(conn, source, cursor, to_db(now))

    @staticmethod
    def _set_cursor(conn, source: str, cursor: Mapping[str, Any], stamp: str | None) -> None:
        conn.execute(
            "INSERT INTO source_state (source, cursor, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            (source, dumps(dict(cursor)), stamp))

    # --- source health ------------------------------------------------------------------

    def record_run(self, source: str, source_type: str, now: datetime, new_posts: int,
                   error: str | None = None, note: str | None = None) -> None:
        stamp = to_db(now)
        with self._cx.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO source_health (source, source_type, first_run_at) VALUES (?, ?, ?)",
                         (source, source_type, stamp))
            if error is None:
                conn.execute(
                    "UPDATE source_health SET source_type = ?, last_run_at = ?, last_success_at = ?, "
                    "consecutive_failures = 0, posts_last_run = ?, posts_total = posts_total + ?, "
                    "last_new_post_at = CASE WHEN ? > 0 THEN ? ELSE last_new_post_at END, note = ? "
                    "WHERE source = ?",
                    (source_type, stamp, stamp, new_posts, new_posts, new_posts, stamp, note, source))
            else:
                conn.execute(
                    "UPDATE source_health SET source_type = ?, last_run_at = ?, last_error = ?, last_error_at = ?, "
                    "consecutive_failures = consecutive_failures + 1, posts_last_run = ?, "
                    "posts_total = posts_total + ?, "
                    "last_new_post_at = CASE WHEN ? > 0 THEN ? ELSE last_new_post_at END, note = ? "
                    "WHERE source = ?",
                    (source_type, stamp, error, stamp, new_posts, new_posts, new_posts, stamp, note, source))

    def source_health(self) -> list[SourceHealth]:
        rows = self._cx.conn().execute(
            "SELECT source, source_type, last_run_at, last_success_at, last_error, last_error_at, "
            "consecutive_failures, posts_last_run, posts_total, last_new_post_at, note, first_run_at "
            "FROM source_health ORDER BY source").fetchall()
        return [SourceHealth(r[0], r[1], from_db(r[2]), from_db(r[3]), r[4], from_db(r[5]), r[6], r[7], r[8],
                             from_db(r[9]), r[10], from_db(r[11])) for r in rows]

    # --- reading posts ------------------------------------------------------------------

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]:
        ids = list(dict.fromkeys(ids))
        out: dict[int, Post] = {}
        conn = self._cx.conn()
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT {POST_COLUMNS} FROM posts WHERE id IN ({marks})", chunk):
                out[row[0]] = row_to_post(row)
        return out

    def find_post(self, key: str) -> Post | None:
        """A post by row id, or by `source:external_id`."""
        conn = self._cx.conn()
        if key.isdigit():
            row = conn.execute(f"SELECT {POST_COLUMNS} FROM posts WHERE id = ?", (int(key),)).fetchone()
            if row:
                return row_to_post(row)
        source, sep, external_id = key.partition(":")
        if not sep:
            return None
        row = conn.execute(f"SELECT {POST_COLUMNS} FROM posts WHERE source = ? AND external_id = ?",
                           (source, external_id)).fetchone()
        return row_to_post(row) if row else None

    def get_enrichments(self, ids: Iterable[int]) -> dict[int, Enrichment]:
        ids = list(dict.fromkeys(ids))
        out: dict[int, Enrichment] = {}
        conn = self._cx.conn()
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT e.post_id, {ENRICH_COLUMNS} FROM enrichments e "
                                    f"WHERE e.post_id IN ({marks})", chunk):
                enrichment = row_to_enrichment(row[1:])
                if enrichment:
                    out[row[0]] = enrichment
        return out

    def revisions(self, post_id: int) -> list[dict[str, Any]]:
        rows = self._cx.conn().execute(
            "SELECT revision, title, text, rating, replaced_at FROM post_revisions WHERE post_id = ? "
            "ORDER BY revision", (post_id,)).fetchall()
        return [dict(revision=r[0], title=r[1], text=r[2], rating=r[3], replaced_at=r[4]) for r in rows]

    def search_posts(self, query: PostQuery) -> list[tuple[Post, Enrichment | None]]:
        where, params = [], []
        join = ""
        if query.text:
            match = fts_query(query.text)
            if not match:
                return []
            join = "JOIN posts_fts f ON f.rowid = p.id"
            where.append("posts_fts MATCH ?")
            params.append(match)
        if query.since:
            where.append("p.created_at >= ?")
            params.append(to_db(query.since))
        if query.until:
            where.append("p.created_at < ?")
            params.append(to_db(query.until))
        if query.sources:
            where.append(f"p.source IN ({','.join('?' * len(query.sources))})")
            params.extend(query.sources)
        if query.lang:
            where.append("e.lang = ?")
            params.append(query.lang)
        if query.category:
            where.append("EXISTS (SELECT 1 FROM post_categories c WHERE c.post_id = p.id AND c.category = ?)")
            params.append(query.category)
        cols = ", ".join(f"p.{c.strip()}" for c in POST_COLUMNS.split(","))
        sql = (f"SELECT {cols}, {ENRICH_COLUMNS} FROM posts p {join} LEFT JOIN enrichments e ON e.post_id = p.id "
               f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY p.created_at DESC, p.id DESC LIMIT ?")
        params.append(query.limit)
        rows = self._cx.conn().execute(sql, params).fetchall()
        return [(row_to_post(r[:14]), row_to_enrichment(r[14:])) for r in rows]

    def count_posts(self) -> int:
        return self._cx.conn().execute("SELECT count(*) FROM posts").fetchone()[0]

    # --- enrichment work queue ----------------------------------------------------------

    def posts_to_enrich(self, limit: int) -> list[Post]:
        rows = self._cx.conn().execute(
            f"SELECT {POST_COLUMNS} FROM posts WHERE enriched = 0 ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [row_to_post(r) for r in rows]

    def pending_enrichment(self) -> int:
        return self._cx.conn().execute("SELECT count(*) FROM posts WHERE enriched = 0").fetchone()[0]

    def save_enrichments(self, items: Sequence[tuple[Post, Enrichment]], now: datetime) -> None:
        """Store enrichments and queue the posts for detection, in one transaction (safe to repeat)."""
        stamp = to_db(now)
        rows, cats, ids = [], [], []
        for post, e in items:
            assert post.id is not None
            ids.append((post.id,))
            rows.append((post.id, e.lang, e.sentiment.value, float(e.sentiment_score),
                         dumps([[c.name, round(c.score, 4)] for c in e.categories]), int(e.security),
                         dumps(list(e.sensitive)), e.backend, stamp))
            cats.extend((post.id, c.name, float(c.score)) for c in e.categories)
        with self._cx.transaction() as conn:
            conn.executemany(
                "INSERT INTO enrichments (post_id, lang, sentiment, sentiment_score, categories, security, "
                "sensitive, backend, enriched_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (post_id) DO UPDATE SET "
                "lang = excluded.lang, sentiment = excluded.sentiment, sentiment_score = excluded.sentiment_score, "
                "categories = excluded.categories, security = excluded.security, sensitive = excluded.sensitive, "
                "backend = excluded.backend, enriched_at = excluded.enriched_at", rows)
            conn.executemany("DELETE FROM post_categories WHERE post_id = ?", ids)
            conn.executemany("INSERT INTO post_categories (post_id, category, score) VALUES (?,?,?)", cats)
            conn.executemany("UPDATE posts SET enriched = 1 WHERE id = ?", ids)
            conn.executemany("INSERT INTO enrich_log (post_id) VALUES (?)", ids)

    def enriched_after(self, seq: int, limit: int) -> list[tuple[int, EnrichedPost, bool]]:
        """Posts enriched after `seq`, in order: (seq, post with enrichment, counted before)."""
        cols = ", ".join(f"p.{c.strip()}" for c in POST_COLUMNS.split(","))
        rows = self._cx.conn().execute(
            f"SELECT l.seq, {cols}, {ENRICH_COLUMNS}, p.counted FROM enrich_log l "
            f"JOIN posts p ON p.id = l.post_id JOIN enrichments e ON e.post_id = p.id "
            f"WHERE l.seq > ? ORDER BY l.seq LIMIT ?", (seq, limit)).fetchall()
        out = []
        for r in rows:
            enrichment = row_to_enrichment(r[15:22])
            out.append((r[0], EnrichedPost(row_to_post(r[1:15]), enrichment), bool(r[22])))
        return out

    def last_enrich_seq(self) -> int:
        row = self._cx.conn().execute("SELECT max(seq) FROM enrich_log").fetchone()
        return row[0] or 0
