"""The SQLite implementation of the Store: one class composed of one mixin per concern."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from .alerting import AlertingMixin
from .db import Connections, WriterLock
from .detection import DetectionMixin
from .incidents import IncidentsMixin
from .posts import PostsMixin
from .reports import DigestLogMixin, ReportsMixin
from .schema import MIGRATION_SETS
from .timefmt import epoch, to_db


class SqliteStore(PostsMixin, DetectionMixin, IncidentsMixin, AlertingMixin, ReportsMixin, DigestLogMixin):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._cx = Connections(self.path)
        self.migrate()

    def migrate(self) -> None:
        db = self._cx.db()
        for migrations in MIGRATION_SETS:
            migrations.apply(db)

    def transaction(self):
        """Group several store calls into one atomic unit (nested calls become savepoints)."""
        return self._cx.transaction()

    def writer_lock(self) -> WriterLock:
        return WriterLock(self.path)

    @property
    def db(self):
        """The sqlite-utils Database for this thread (ad-hoc queries, tooling)."""
        return self._cx.db()

    def close(self) -> None:
        self._cx.close()

    # --- housekeeping -------------------------------------------------------------------

    def apply_retention(self, now: datetime, keep: timedelta, author_window: timedelta = timedelta(days=2)) -> int:
        """Delete posts older than `keep` and bookkeeping rows nobody reads any more."""
        cutoff = to_db(now - keep)
        with self._cx.transaction() as conn:
            conn.execute("DELETE FROM posts_fts WHERE rowid IN (SELECT id FROM posts WHERE created_at < ?)", (cutoff,))
            conn.execute("DELETE FROM incident_posts WHERE post_id IN (SELECT id FROM posts WHERE created_at < ?)",
                         (cutoff,))
            deleted = conn.execute("DELETE FROM posts WHERE created_at < ?", (cutoff,)).rowcount
            conn.execute("DELETE FROM series_counts WHERE bucket < ?", (epoch(now - keep),))
            conn.execute("DELETE FROM series_authors WHERE bucket < ?", (epoch(now - author_window),))
            conn.execute("DELETE FROM series_posts WHERE bucket < ?", (epoch(now - keep),))
            done = int(self.get_state("detect.seq", "0") or 0)
            conn.execute("DELETE FROM enrich_log WHERE seq <= ?", (done,))  # consumed by detection
        return deleted

    def vacuum(self) -> None:
        self._cx.conn().execute("VACUUM")
