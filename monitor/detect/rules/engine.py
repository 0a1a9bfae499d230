"""The rule engine: a Detector that runs a RuleSet in event time.

`observe` evaluates every active rule on each post: a `match` rule turns a matching post into
a finding at once; a windowed rule counts its fresh matching posts into its own count series.
`tick` judges, for each windowed rule, every bucket that has closed (bucket end + lateness <=
now) since its watermark, in order and exactly once, however far the clock jumped. Windows are
judged only once every enriched post has been observed, so a replay that delivers a chunk of
posts in several batches never judges a bucket before its posts are counted.

Hot reload hands a new RuleSet to `swap`; the detection thread picks it up at the start of its
next call, so one pass never mixes two rule sets.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from ...alerts.grouping import RuleMeta
from ...models import EnrichedPost, Finding
from ...store import SeriesPoint
from ...store.timefmt import epoch
from ..base import DetectBatch, DetectContext, Detector, Signal
from ..counting import author_of, bucket_of
from . import model as m
from .compiler import CompiledRule
from .conditions import PostContext, keyword_terms
from .ruleset import RuleSet
from .state import RuleState, group_suffix, series_name, term_series
from .terms import extract
from .windows import Judge


class RuleEngine(Detector):
    name = "rules"

    def __init__(self, ruleset: RuleSet) -> None:
        self._ruleset = ruleset
        self._pending: RuleSet | None = None
        self._lock = threading.Lock()
        self.state = RuleState()

    # --- the rule set ---------------------------------------------------------------------

    @property
    def ruleset(self) -> RuleSet:
        return self._pending or self._ruleset

    def swap(self, ruleset: RuleSet) -> None:
        """Replace the whole rule set; takes effect at the detection thread's next call."""
        with self._lock:
            self._pending = ruleset

    def _current(self) -> RuleSet:
        with self._lock:
            if self._pending is not None:
                self._ruleset, self._pending = self._pending, None
                self.state.clear()
            return self._ruleset

    def rule_meta(self, rule_id: str) -> RuleMeta | None:
        rule = self.ruleset.get(rule_id)
        return rule.meta() if rule else None

    def reload(self, ctx: DetectContext) -> None:
        self.state.clear()

    # --- posts ----------------------------------------------------------------------------

    def observe(self, batch: DetectBatch, ctx: DetectContext) -> list[Signal]:
        rs = self._current()
        now = ctx.clock.now()
        items = sorted(batch.posts, key=lambda i: (i.post.created_at, i.post.id or 0))
        signals: list[Signal] = []
        points: list[SeriesPoint] = []
        first: dict[str, int] = {}  # rule id -> earliest bucket counted in this batch
        judge = Judge(rs, ctx, self.state, now)
        for item, pc, fired in rs.evaluate(items):
            fresh = item.post.id in batch.fresh
            where = None
            for rule in fired:
                if rule.type == "match":
                    finding = self._match_finding(rule, item, pc, judge)
                    if finding:
                        signals.append(finding)
                elif fresh:
                    if where is None:
                        where = (bucket_of(epoch(item.post.created_at), ctx.bucket), author_of(item))
                    points.extend(series_points(rule, item, pc, *where))
                    first[rule.id] = min(first.get(rule.id, where[0]), where[0])
        ctx.store.add_series_points(points)
        for rule_id, bucket in first.items():
            self.state.counted(ctx.store, rule_id, bucket)
        self.state.flush(ctx.store, now)
        return signals

    def _match_finding(self, rule: CompiledRule, item: EnrichedPost, pc: PostContext, judge: Judge) -> Finding | None:
        group = rule.group(item)
        suffix = group_suffix(group)
        allowed, held_back = judge.allow(rule, suffix, epoch(item.post.created_at))
        if not allowed:
            return None
        evidence: dict[str, Any] = {"post": item.post.key}
        terms = keyword_terms(rule.node, pc)
        if terms:
            evidence["matched"] = terms
        if held_back:
            evidence["suppressed"] = held_back
        return Finding(rule_id=rule.id, event_time=item.post.created_at, severity=rule.spec.severity, group=group,
                       post_ids=(item.post.id,) if item.post.id is not None else (), evidence=evidence,
                       fingerprint=f"post:{item.post.id}", title=rule.title_for(group))

    # --- closed windows -------------------------------------------------------------------

    def tick(self, now: datetime, ctx: DetectContext) -> list[Signal]:
        rs = self._current()
        if not _queue_drained(ctx):
            return []
        size = int(ctx.bucket.total_seconds())
        end = (epoch(now - ctx.lateness) // size) * size  # buckets starting before this have closed
        judge = Judge(rs, ctx, self.state, now)
        signals: list[Signal] = []
        for rule in rs.active:
            if rule.type == "match":
                continue
            start = RuleState.next_bucket(ctx.store, rule.id)
            if start is None:
                start = judge.first_bucket(rule)
                if start is None:
                    continue  # nothing counted yet
            start -= start % size
            if start >= end:
                continue
            signals.extend(judge.judge(rule, start, end))
            RuleState.set_next_bucket(ctx.store, rule.id, end)
        self.state.flush(ctx.store, now)
        return signals


def series_points(rule: CompiledRule, item: EnrichedPost, pc: PostContext, b: int, author: str) -> list[SeriesPoint]:
    """The count series a fresh matching post (in bucket `b`) adds to for one windowed rule.

    The rule's own series (per group) remembers the post id too: the evidence of its findings."""
    spec = rule.spec
    names: list[str] = []
    if isinstance(spec, m.NewTermRule):
        if rule.term_literals and not any(lit in pc.text for lit in rule.term_literals):
            return []  # no term of this post can pass term_filter
        for term in sorted(extract(pc.text, spec.extract, spec.min_length)):
            bare = term.lstrip("#$@")
            if bare in rule.ignore_terms or (rule.term_filter and not rule.term_filter.search(term)):
                continue
            names.append(term_series(rule.id, term))
        return [SeriesPoint(n, b, author) for n in names]
    group = rule.group(item) if rule.group_by else None
    points = [SeriesPoint(series_name(rule.id, group), b, author, item.post.id)]  # per group, or the rule's one
    if isinstance(spec, m.ThresholdRule) and spec.average_rating and item.post.rating:
        if group:
            names.append(series_name(rule.id, group, item.post.rating))
        names.append(series_name(rule.id, None, item.post.rating))  # all groups: the baseline
    return points + [SeriesPoint(n, b, author) for n in names]


def _queue_drained(ctx: DetectContext) -> bool:
    """True when detection has observed every enriched post (see the module docstring)."""
    from ...pipeline import DETECT_WATERMARK

    done = int(ctx.store.get_state(DETECT_WATERMARK, "0") or 0)
    return done >= ctx.store.last_enrich_seq()
