"""Backtest: replay stored history through some rules and report what they would have produced.

The posts (with their stored enrichment) are copied, in event-time order, into a scratch
database in a temporary folder, and the real pipeline runs there with a clock driven by the
posts' times, so a backtest sees exactly the findings and incidents live detection would
have. The real database is only read.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence
from zoneinfo import ZoneInfo

from ...clock import ManualClock
from ...models import Enrichment, Post
from ...store import PostQuery
from .engine import RuleEngine
from .ruleset import RuleSet

if TYPE_CHECKING:
    from ...config import AppConfig
    from ...store import SqliteStore

DAY = timedelta(days=1)


@dataclass
class Sample:
    time: str
    post: str  # source:external_id
    text: str
    group: dict[str, str]


@dataclass
class RuleReport:
    rule_id: str
    type: str
    title: str
    enabled: bool
    findings: int = 0
    incidents: int = 0
    per_day: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> {"findings", "incidents"}
    samples: list[Sample] = field(default_factory=list)


@dataclass
class BacktestReport:
    since: str
    until: str
    posts: int
    rules: list[RuleReport]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


class _StoredEnrichment:
    """Uses each post's stored enrichment; enriches only posts that never were."""

    name = "backtest"

    def __init__(self, fallback: Callable[[Sequence[Post]], list[Enrichment]]) -> None:
        self.fallback = fallback
        self.known: dict[str, Enrichment] = {}

    def enrich(self, posts: Sequence[Post]) -> list[Enrichment]:
        missing = [p for p in posts if p.key not in self.known]
        fresh = dict(zip((p.key for p in missing), self.fallback(missing))) if missing else {}
        return [self.known.get(p.key) or fresh[p.key] for p in posts]


def stored_posts(store: "SqliteStore", since: datetime, until: datetime, day: timedelta = DAY):
    """Stored posts with their enrichment, oldest first, a day at a time (bounded memory)."""
    start = since
    while start < until:
        end = min(start + day, until)
        rows = store.search_posts(PostQuery(since=start, until=end, limit=10**9))
        yield from reversed(rows)
        start = end


def backtest(config: "AppConfig", source: "SqliteStore", ruleset: RuleSet, since: datetime, until: datetime,
             enrich: Callable[[Sequence[Post]], list[Enrichment]], samples: int = 3, chunk: int = 2000,
             progress: Callable[[int], None] | None = None) -> BacktestReport:
    from ...app import App
    from ...pipeline import Pipeline

    selected = ruleset.select(None, force_enabled=True)
    settings = config.settings.detection
    tz = ZoneInfo(config.settings.timezone)
    with tempfile.TemporaryDirectory(prefix="monitor-backtest-") as tmp:
        app = App(config, db_path=Path(tmp) / "backtest.db", clock=ManualClock(since - timedelta(seconds=1)),
                  detectors=[RuleEngine(selected)])
        try:
            enricher = _StoredEnrichment(enrich)
            app.__dict__["enricher"] = enricher
            app.__dict__["channels"] = {}  # nothing is ever sent
            pipeline = Pipeline(app)
            total = 0
            batch: list[tuple[Post, Enrichment | None]] = []

            def flush() -> None:
                for key, items in groupby(sorted(batch, key=lambda pe: pe[0].source), key=lambda pe: pe[0].source):
                    posts = []
                    for post, enrichment in items:
                        if enrichment is not None:
                            enricher.known[post.key] = enrichment
                        posts.append(replace(post, id=None))
                    app.store.save_batch(key, posts, app.clock.now())
                pipeline.enrich()
                app.clock.advance_to(max(p.created_at for p, _ in batch))
                pipeline.detect()
                enricher.known.clear()

            for item in stored_posts(source, since, until):
                batch.append(item)
                if len(batch) >= chunk:
                    flush()
                    total += len(batch)
                    batch = []
                    if progress:
                        progress(total)
            if batch:
                flush()
                total += len(batch)
            app.clock.advance_to(max(app.clock.now(), until) + settings.bucket + settings.lateness)
            pipeline.detect()
            return _report(app.store, selected, since, until, total, tz, samples,
                           enabled={r.id: r.enabled for r in ruleset.rules})
        finally:
            app.close()


def _report(store: "SqliteStore", ruleset: RuleSet, since: datetime, until: datetime, posts: int, tz: ZoneInfo,
            samples: int, enabled: dict[str, bool]) -> BacktestReport:
    reports = {r.id: RuleReport(r.id, r.type, r.spec.title, enabled.get(r.id, True)) for r in ruleset.rules}
    per_day: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    sample_ids: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    for stored in store.findings(limit=10**9):
        f = stored.finding
        rep = reports.get(f.rule_id)
        if rep is None:
            continue
        rep.findings += 1
        per_day[f.rule_id][f.event_time.astimezone(tz).date().isoformat()]["findings"] += 1
        if len(sample_ids[f.rule_id]) < samples:
            sample_ids[f.rule_id].extend((f, pid) for pid in f.post_ids[:1])
    for incident in store.list_incidents(limit=10**9):
        rep = reports.get(incident.rule_id)
        if rep is None:
            continue
        rep.incidents += 1
        per_day[incident.rule_id][incident.first_seen.astimezone(tz).date().isoformat()]["incidents"] += 1
    posts_by_id = store.get_posts(pid for items in sample_ids.values() for _, pid in items)
    for rule_id, items in sample_ids.items():
        for f, pid in items:
            post = posts_by_id.get(pid)
            if post is not None:
                reports[rule_id].samples.append(Sample(f.event_time.astimezone(tz).isoformat(timespec="minutes"),
                                                       post.key, post.full_text[:280], dict(f.group)))
    for rule_id, days in per_day.items():
        reports[rule_id].per_day = {d: {"findings": v.get("findings", 0), "incidents": v.get("incidents", 0)}
                                    for d, v in sorted(days.items())}
    return BacktestReport(since.isoformat(), until.isoformat(), posts, list(reports.values()))
