"""Versioned schema migrations, one named set per part of the store.

Each part (core posts and pipeline tables, alerting, ...) owns a `sqlite_utils.Migrations`
set; a new column or table is a new function appended to its set, never an edit of an old one.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

core = Migrations("monitor.core")


@core()
def m001_posts(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            source_type TEXT NOT NULL,
            external_id TEXT NOT NULL,
            url TEXT,
            author TEXT,
            title TEXT,
            text TEXT NOT NULL,
            lang_hint TEXT,
            rating INTEGER,
            app_version TEXT,
            created_at TEXT NOT NULL,
            fetched_at TEXT,
            stored_at TEXT NOT NULL,
            updated_at TEXT,
            meta TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            meta_hash TEXT NOT NULL,
            revision INTEGER NOT NULL DEFAULT 0,
            enriched INTEGER NOT NULL DEFAULT 0,
            counted INTEGER NOT NULL DEFAULT 0,
            UNIQUE (source, external_id)
        );
        CREATE INDEX posts_created ON posts (created_at);
        CREATE INDEX posts_source_created ON posts (source, created_at);
        CREATE INDEX posts_pending ON posts (id) WHERE enriched = 0;

        -- the text an edit replaced, newest revision last
        CREATE TABLE post_revisions (
            id INTEGER PRIMARY KEY,
            post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
            revision INTEGER NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            rating INTEGER,
            replaced_at TEXT NOT NULL
        );
        CREATE INDEX post_revisions_post ON post_revisions (post_id);

        CREATE VIRTUAL TABLE posts_fts USING fts5 (body, tokenize = 'porter unicode61 remove_diacritics 2');

        CREATE TABLE enrichments (
            post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
            lang TEXT NOT NULL,
            sentiment TEXT NOT NULL,
            sentiment_score REAL NOT NULL,
            categories TEXT NOT NULL DEFAULT '[]',
            security INTEGER NOT NULL DEFAULT 0,
            sensitive TEXT NOT NULL DEFAULT '[]',
            backend TEXT NOT NULL,
            enriched_at TEXT NOT NULL
        );
        CREATE INDEX enrichments_lang ON enrichments (lang);

        CREATE TABLE post_categories (
            post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
            category TEXT NOT NULL,
            score REAL NOT NULL,
            PRIMARY KEY (post_id, category)
        ) WITHOUT ROWID;
        CREATE INDEX post_categories_category ON post_categories (category, post_id);

        -- work queue between enrichment and detection: detection consumes it in seq order
        CREATE TABLE enrich_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            post_id INTEGER NOT NULL
        );

        CREATE TABLE source_state (
            source TEXT PRIMARY KEY,
            cursor TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT
        );

        CREATE TABLE source_health (
            source TEXT PRIMARY KEY,
            source_type TEXT,
            first_run_at TEXT,
            last_run_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            posts_last_run INTEGER NOT NULL DEFAULT 0,
            posts_total INTEGER NOT NULL DEFAULT 0,
            last_new_post_at TEXT,
            note TEXT
        );

        CREATE TABLE series_counts (
            series TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            authors INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (series, bucket)
        ) WITHOUT ROWID;
        CREATE INDEX series_counts_bucket ON series_counts (bucket);

        CREATE TABLE series_authors (
            series TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            author TEXT NOT NULL,
            PRIMARY KEY (series, bucket, author)
        ) WITHOUT ROWID;

        CREATE TABLE detector_state (
            key TEXT PRIMARY KEY,
            value BLOB,
            updated_at TEXT
        );

        CREATE TABLE pipeline_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );

        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            rule_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            group_key TEXT NOT NULL,
            grp TEXT NOT NULL DEFAULT '{}',
            event_time TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            post_ids TEXT NOT NULL DEFAULT '[]',
            evidence TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            incident_id INTEGER,
            UNIQUE (rule_id, fingerprint)
        );
        CREATE INDEX findings_time ON findings (event_time);
        CREATE INDEX findings_rule_time ON findings (rule_id, event_time);
        CREATE INDEX findings_incident ON findings (incident_id);
        """
    )


@core()
def m002_incidents_outbox(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            grp TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            finding_count INTEGER NOT NULL DEFAULT 0,
            post_count INTEGER NOT NULL DEFAULT 0,
            summary TEXT NOT NULL DEFAULT '{}',
            sample_post_ids TEXT NOT NULL DEFAULT '[]',
            opened_at TEXT,
            acknowledged_at TEXT,
            resolved_at TEXT,
            refs TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT
        );
        -- at most one unresolved incident per key
        CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE state != 'resolved';
        CREATE INDEX incidents_state ON incidents (state, last_seen);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            dedup_key TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_at TEXT,
            lease_until TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            last_error TEXT
        );
        CREATE INDEX outbox_due ON outbox (status, next_try_at);
        CREATE INDEX outbox_incident ON outbox (incident_id);
        """
    )


@core()
def m003_series_posts(db: Database) -> None:
    # the posts behind a rule's count series: evidence for windowed findings without rescanning
    db.executescript(
        """
        CREATE TABLE series_posts (
            series TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            post_id INTEGER NOT NULL,
            PRIMARY KEY (series, bucket, post_id)
        ) WITHOUT ROWID;
        """
    )


alerts = Migrations("monitor.alerts")


@alerts()
def a001_policy_silences(db: Database) -> None:
    db.executescript(
        """
        -- the distinct posts behind an incident (findings of windowed rules overlap)
        CREATE TABLE incident_posts (
            incident_id INTEGER NOT NULL,
            post_id INTEGER NOT NULL,
            PRIMARY KEY (incident_id, post_id)
        ) WITHOUT ROWID;

        -- notification policy state per incident and channel (event time)
        CREATE TABLE incident_channels (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL,
            channel TEXT NOT NULL,
            group_wait INTEGER NOT NULL,
            group_interval INTEGER NOT NULL,
            repeat_interval INTEGER,
            send_resolved INTEGER NOT NULL DEFAULT 1,
            due_at TEXT NOT NULL,
            triggered INTEGER NOT NULL DEFAULT 0,
            notified_at TEXT,
            notified_findings INTEGER NOT NULL DEFAULT 0,
            notified_severity TEXT,
            muted_by TEXT,
            resolved_sent INTEGER NOT NULL DEFAULT 0,
            UNIQUE (incident_id, channel)
        );

        CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            matchers TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            expired_at TEXT
        );
        CREATE INDEX silences_ends ON silences (ends_at);
        """
    )


digest = Migrations("monitor.digest")


@digest()
def m001_digest_runs(db: Database) -> None:
    # One row per digest and period sent: a restart never sends the same period twice.
    db.executescript(
        """
        CREATE TABLE digest_runs (
            name TEXT NOT NULL,
            period_end TEXT NOT NULL,
            period_start TEXT NOT NULL,
            created_at TEXT NOT NULL,
            channels TEXT NOT NULL DEFAULT '[]',
            notification_ids TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (name, period_end)
        ) WITHOUT ROWID;
        CREATE INDEX posts_type_created ON posts (source_type, created_at);
        """
    )


MIGRATION_SETS = [core, alerts, digest]
