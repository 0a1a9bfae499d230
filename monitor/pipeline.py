"""The stages, in the one direction data flows: collect, store, enrich, detect, group, notify.

Each stage is a method that does one unit of work and commits it; the daemon schedules them,
replay calls them in event-time order, `run --once` calls each once. Every unit is safe to run
twice: posts are unique per source, enrichment is an upsert, detection consumes a queue behind
a watermark committed with its results, and findings are unique per rule and fingerprint.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .detect.base import DetectBatch, DetectContext
from .detect.counting import series_points
from .errors import ConfigError, MonitorError
from .logging import scrub
from .models import Finding, Recovery
from .sources.base import SOURCES, Source, SourceContext
from .store import IngestResult

if TYPE_CHECKING:
    from .app import App
    from .config.model import SourceEntry

log = logging.getLogger(__name__)

DETECT_WATERMARK = "detect.seq"


@dataclass
class CollectResult:
    source: str
    ingest: IngestResult = field(default_factory=IngestResult)
    batches: int = 0
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DetectResult:
    posts: int = 0
    findings: int = 0
    recoveries: int = 0


def build_source(app: "App", entry: "SourceEntry") -> Source:
    cls = SOURCES.get(entry.type)
    options = app.config.source_options.get(entry.name) or cls.Options.model_validate(entry.options)
    return cls(entry.name, options, SourceContext(clock=app.clock))


class Pipeline:
    def __init__(self, app: "App") -> None:
        self.app = app
        self.store = app.store

    # --- collect + store ----------------------------------------------------------------

    def collect(self, entry: "SourceEntry") -> CollectResult:
        """Run one source from its stored cursor; never raises (the error goes to its health row)."""
        result = CollectResult(entry.name)
        started = time.monotonic()
        note = None
        source_type = entry.type
        try:
            source = build_source(self.app, entry)
            try:
                cursor = self.store.get_cursor(entry.name)
                for batch in source.fetch(cursor):
                    result.ingest += self.store.save_batch(entry.name, list(batch.posts), self.app.clock.now(),
                                                           batch.cursor)
                    result.batches += 1
                    note = batch.note or note
                    if self.app.stopping.is_set():
                        break
            finally:
                source.close()
        except (MonitorError, LookupError, ImportError) as exc:  # a SourceError, a bad config, a missing plugin
            result.error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug in one source must not stop the others
            log.exception("source %s crashed", entry.name)
            result.error = f"unexpected {type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        # error texts and notes quote URLs, which may carry ${VAR} secrets: never store or print them
        result.error = scrub(result.error) if result.error else None
        note = scrub(note) if note else None
        self.store.record_run(entry.name, source_type, self.app.clock.now(), result.ingest.inserted,
                              error=result.error, note=note)
        if result.error:
            log.error("source %s failed after %d new posts: %s", entry.name, result.ingest.inserted, result.error)
        else:
            log.info("source %s: %d new, %d edited, %d unchanged in %.1fs", entry.name, result.ingest.inserted,
                     result.ingest.edited, result.ingest.unchanged, result.seconds)
        return result

    # --- enrich -------------------------------------------------------------------------

    def enrich(self, limit: int | None = None) -> int:
        """Enrich posts that have no (or a stale) enrichment, a batch per transaction."""
        batch_size = self.app.config.settings.enrichment.batch_size
        done = 0
        while limit is None or done < limit:
            posts = self.store.posts_to_enrich(batch_size if limit is None else min(batch_size, limit - done))
            if not posts:
                break
            enrichments = self.app.enricher.enrich(posts)
            self.store.save_enrichments(list(zip(posts, enrichments)), self.app.clock.now())
            done += len(posts)
        return done

    # --- detect + group -----------------------------------------------------------------

    def detect(self) -> DetectResult:
        """Consume enriched posts, judge closed windows, and turn signals into incidents.

        Each batch is one transaction: watermark, counts, detector state, findings, incidents
        and their outbox rows commit together or not at all. Windows are judged (`tick`) once
        the queue is drained, so every post that arrived so far is counted before a window
        closes on it.
        """
        result = DetectResult()
        settings = self.app.config.settings.detection
        ctx = DetectContext(self.store, self.app.clock, settings.bucket, settings.lateness)
        detectors = self.app.detectors
        while True:
            try:
                with self.store.transaction():
                    seq = int(self.store.get_state(DETECT_WATERMARK, "0") or 0)
                    rows = self.store.enriched_after(seq, settings.batch_size)
                    signals = []
                    if rows:
                        posts = [item for _, item, _ in rows]
                        fresh = frozenset(item.post.id for _, item, counted in rows if not counted)
                        fresh_posts = {item.post.id: item for item in posts if item.post.id in fresh}
                        self.store.add_series_points(series_points(fresh_posts.values(), settings.bucket))
                        self.store.mark_counted(sorted(fresh))
                        batch = DetectBatch(posts, fresh)
                        for detector in detectors:
                            signals.extend(detector.observe(batch, ctx))
                        self.store.set_state(DETECT_WATERMARK, str(rows[-1][0]))
                        result.posts += len(rows)
                    else:
                        now = self.app.clock.now()
                        for detector in detectors:
                            signals.extend(detector.tick(now, ctx))
                    self._group(signals, result, judge_time=not rows)
            except Exception:
                for detector in detectors:
                    detector.reload(ctx)
                raise
            if not rows:
                return result

    def _group(self, signals: list, result: DetectResult, judge_time: bool) -> None:
        """Findings to incidents; time-based incident changes (quiet resolves, reminders) only
        once the detectors have judged every window up to now, or an incident could resolve
        as quiet just before the window that continues it is judged."""
        findings = [s for s in signals if isinstance(s, Finding)]
        recoveries = [s for s in signals if isinstance(s, Recovery)]
        now = self.app.clock.now()
        stored = self.store.save_findings(findings, now)
        result.findings += len(stored)
        result.recoveries += len(recoveries)
        self.app.incidents.apply(stored, recoveries, now)
        if judge_time:
            self.app.incidents.tick(now)

    # --- notify -------------------------------------------------------------------------

    def deliver(self):
        return self.app.dispatcher.run()

    # --- everything once ----------------------------------------------------------------

    def run_once(self, workers: int = 4) -> list[CollectResult]:
        """Every active source once (a few at a time), then enrich, detect and deliver."""
        from concurrent.futures import ThreadPoolExecutor

        entries = self.app.config.active_sources()
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(entries) or 1))) as pool:
            results = list(pool.map(self.collect, entries))
        self.enrich()
        self.detect()
        self.deliver()
        return results


__all__ = ["Pipeline", "CollectResult", "DetectResult", "build_source", "ConfigError"]
