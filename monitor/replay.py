"""Replay a file of posts through the whole pipeline in event time.

Posts are stored as if collected, then enriched, detected, grouped and notified exactly as the
daemon would, with the clock driven by the posts' own times: a week of history replays in
seconds and yields the same incidents and notifications. Re-running a replay (after a crash,
or on purpose) stores nothing twice and notifies nothing twice.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Callable

from .app import App
from .clock import ManualClock
from .jsonl import Rejected, read_posts
from .models import DeliveryStatus, IncidentState, Post
from .pipeline import Pipeline
from .sources.base import SOURCES
from .store import IngestResult


@dataclass
class ReplaySummary:
    lines: int = 0
    ingest: IngestResult = field(default_factory=IngestResult)
    rejected: list[Rejected] = field(default_factory=list)
    findings: int = 0
    incidents_opened: int = 0
    incidents_resolved: int = 0
    notifications: int = 0
    seconds: float = 0.0

    @property
    def posts_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def source_type_resolver(app: App) -> Callable[[str], str]:
    configured = {s.name: s.type for s in app.config.settings.sources}
    known = set(SOURCES.names())

    def resolve(source: str) -> str:
        return configured.get(source) or (source if source in known else "file")

    return resolve


def replay(app: App, stream: IO[str], chunk_size: int = 2000,
           progress: Callable[[ReplaySummary], None] | None = None, progress_every: float = 5.0,
           until: datetime | timedelta | None = None) -> ReplaySummary:
    """Replay `stream`; at the end the clock moves past the last post's bucket (so it is judged),
    or to `until` (a time, or a duration after the last post) to let later windows close and
    quiet incidents resolve, as they would if the daemon kept running."""
    if not isinstance(app.clock, ManualClock):
        raise TypeError("replay needs an App driven by a ManualClock")
    clock: ManualClock = app.clock
    pipeline = Pipeline(app)
    store = app.store
    summary = ReplaySummary()
    started = last_report = time.monotonic()
    max_incident_before = store.max_incident_id()
    resolved_before = store.count_incidents(IncidentState.RESOLVED)
    outbox_before = sum(store.outbox_counts().values())
    resolve_type = source_type_resolver(app)
    settings = app.config.settings.detection

    def flush(posts: list[Post]) -> None:
        by_source: dict[str, list[Post]] = defaultdict(list)
        for post in sorted(posts, key=lambda p: p.created_at):
            by_source[post.source].append(post)
        for source, items in by_source.items():
            summary.ingest += store.save_batch(source, items, clock.now())
        pipeline.enrich()
        if posts:
            clock.advance_to(max(p.created_at for p in posts))
        summary.findings += pipeline.detect().findings
        pipeline.deliver()

    pending: list[Post] = []
    for number, item in read_posts(stream, resolve_type, now=None):
        summary.lines = number
        if isinstance(item, Rejected):
            summary.rejected.append(item)
            continue
        pending.append(item)
        if len(pending) >= chunk_size:
            flush(pending)
            pending = []
            if progress and time.monotonic() - last_report >= progress_every:
                summary.seconds = time.monotonic() - started
                progress(summary)
                last_report = time.monotonic()
    flush(pending)
    # let the last bucket close, as it would in live time
    last = clock.now()
    clock.advance_to(last + settings.bucket + settings.lateness + timedelta(seconds=1))
    if until is not None:
        clock.advance_to(last + until if isinstance(until, timedelta) else until)
    summary.findings += pipeline.detect().findings
    pipeline.deliver()
    summary.seconds = time.monotonic() - started
    summary.incidents_opened = store.count_incidents(after_id=max_incident_before)
    summary.incidents_resolved = store.count_incidents(IncidentState.RESOLVED) - resolved_before
    summary.notifications = sum(store.outbox_counts().values()) - outbox_before
    return summary


__all__ = ["replay", "ReplaySummary", "DeliveryStatus"]
