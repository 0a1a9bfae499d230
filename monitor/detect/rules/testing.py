"""Run rules' inline tests: single posts (match / no_match) and timelines (expected findings).

A timeline runs the real pipeline (store, enrichment, detection, grouping) on a private
in-memory database with a clock driven by the posts' times, so what passes here is what the
daemon and replay do. Example posts are enriched by the configured enricher unless the case
pins `enrichment:` fields, which then win (so tests need not depend on the installed model).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ...clock import ManualClock
from ...config.types import format_duration
from ...models import CategoryScore, EnrichedPost, Enrichment, Post, Recovery
from . import fields
from . import model as m
from .compiler import CompiledRule
from .engine import RuleEngine
from .ruleset import RuleSet

if TYPE_CHECKING:
    from ...config import AppConfig

Enrich = Callable[[Sequence[Post]], list[Enrichment]]


@dataclass
class CaseResult:
    rule_id: str
    index: int
    name: str
    kind: str  # "post" or "timeline"
    ok: bool
    expected: str
    actual: str
    details: list[str] = field(default_factory=list)  # the post, the deciding condition, counts...

    @property
    def label(self) -> str:
        return f"{self.rule_id} test #{self.index + 1}" + (f" ({self.name})" if self.name else "")


# --- example posts --------------------------------------------------------------------------

def example_post(ex: m.ExamplePost, external_id: str, created_at: datetime) -> Post:
    meta = {**ex.meta, **fields.example_meta(ex.followers, ex.replied)}
    return Post(source_type=ex.source_type, source=ex.source, external_id=external_id, text=ex.text,
                created_at=created_at, title=ex.title, author=ex.author, lang=ex.lang, rating=ex.rating,
                app_version=ex.app_version, url=ex.url, meta=meta)


def apply_pins(base: Enrichment, pin: m.PinnedEnrichment | None) -> Enrichment:
    if pin is None:
        return base
    out = base
    if pin.lang is not None:
        out = replace(out, lang=pin.lang)
    if pin.score is not None:
        out = replace(out, sentiment_score=pin.score, sentiment=pin.sentiment or m.sentiment_label_for(pin.score))
    elif pin.sentiment is not None:
        out = replace(out, sentiment=pin.sentiment, sentiment_score=m.sentiment_score_for(pin.sentiment))
    if pin.categories is not None:
        cats = pin.categories if isinstance(pin.categories, dict) else {c: 1.0 for c in pin.categories}
        out = replace(out, categories=tuple(CategoryScore(n, s) for n, s in
                                            sorted(cats.items(), key=lambda kv: -kv[1])))
    if pin.security is not None:
        out = replace(out, security=pin.security)
    return out


class PinningEnricher:
    """The configured enricher, with per-post overrides (by post key)."""

    name = "rule-tests"

    def __init__(self, enrich: Enrich, pins: dict[str, m.PinnedEnrichment | None]) -> None:
        self._enrich = enrich
        self.pins = pins

    def enrich(self, posts: Sequence[Post]) -> list[Enrichment]:
        return [apply_pins(e, self.pins.get(p.key)) for p, e in zip(posts, self._enrich(posts))]


# --- running ----------------------------------------------------------------------------------

def run_tests(ruleset: RuleSet, config: "AppConfig", enrich: Enrich, rule_ids: Sequence[str] | None = None
              ) -> list[CaseResult]:
    results: list[CaseResult] = []
    for rule in ruleset.rules:
        if rule_ids and rule.id not in rule_ids:
            continue
        post_cases = [(i, c) for i, c in enumerate(rule.spec.tests) if isinstance(c, m.MatchCase)]
        results.extend(run_post_cases(ruleset, rule, post_cases, enrich))
        for i, case in enumerate(rule.spec.tests):
            if isinstance(case, m.TimelineCase):
                results.append(run_timeline_case(ruleset, rule, i, case, config, enrich))
    results.sort(key=lambda r: (ruleset.rules.index(ruleset.by_id[r.rule_id]), r.index))
    return results


def run_post_cases(ruleset: RuleSet, rule: CompiledRule, cases: list[tuple[int, m.MatchCase]],
                   enrich: Enrich) -> list[CaseResult]:
    if not cases:
        return []
    posts = [example_post(c, f"{rule.id}-{i}", m.DEFAULT_TEST_START) for i, c in cases]
    enrichments = [apply_pins(e, c.enrichment) for e, (_, c) in zip(enrich(posts), cases)]
    out = []
    for (i, case), post, enrichment in zip(cases, posts, enrichments):
        item = EnrichedPost(post, enrichment)
        pc = ruleset.context(item)
        trace = rule.explain(pc)
        got = "match" if trace.ok else "no_match"
        details = [f"text: {post.full_text[:300]!r}", "post: " + _fields_line(item)]
        decider = trace.decider()
        details.append(f"decided by: {decider.what}" + (f" ({decider.why})" if decider.why else ""))
        details.extend(trace.lines())
        out.append(CaseResult(rule.id, i, case.name, "post", got == case.expect, case.expect, got, details))
    return out


def _fields_line(item: EnrichedPost) -> str:
    shown = {k: v for k, v in fields.post_fields(item).items() if v not in (None, [], False) and k != "created_at"}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


@dataclass
class TimelineRun:
    findings: list[tuple[timedelta, dict[str, str]]]
    recoveries: list[tuple[timedelta, dict[str, str]]]
    counts: dict[str, list[tuple[timedelta, int]]]  # series -> (bucket offset, count)
    incidents: int


class _Recorder(RuleEngine):
    """The engine, also keeping the recoveries it emits (findings are read back from the store)."""

    def __init__(self, ruleset: RuleSet) -> None:
        super().__init__(ruleset)
        self.recoveries: list[Recovery] = []

    def tick(self, now, ctx):
        signals = super().tick(now, ctx)
        self.recoveries.extend(s for s in signals if isinstance(s, Recovery))
        return signals


def run_timeline(ruleset: RuleSet, rule: CompiledRule, case: m.TimelineCase, config: "AppConfig",
                 enrich: Enrich) -> TimelineRun:
    from ...app import App
    from ...config.model import DetectionSettings
    from ...pipeline import Pipeline

    single = ruleset.select([rule.id], force_enabled=True, bucket=case.bucket)
    engine = _Recorder(single)
    detection = DetectionSettings(bucket=case.bucket, lateness=case.lateness)
    settings = config.settings.model_copy(update={"detection": detection})
    app = App(replace(config, settings=settings), db_path=":memory:",
              clock=ManualClock(case.start - timedelta(seconds=1)), detectors=[engine])
    try:
        posts, pins = expand_timeline(case)
        app.__dict__["enricher"] = PinningEnricher(enrich, pins)
        app.__dict__["channels"] = {}
        pipeline = Pipeline(app)
        # one detection pass per hour of event time: the engine judges every bucket that closed
        # in between, in order, exactly as it does when the clock ticks through each one
        step = max(case.bucket, timedelta(hours=1)).total_seconds()
        for _, chunk in groupby(posts, key=lambda p: int((p.created_at - case.start).total_seconds() // step)):
            chunk = list(chunk)
            for source, items in groupby(sorted(chunk, key=lambda p: p.source), key=lambda p: p.source):
                app.store.save_batch(source, list(items), app.clock.now())
            pipeline.enrich()
            app.clock.advance_to(max(p.created_at for p in chunk))
            pipeline.detect()
        app.clock.advance_to(case.start + timeline_end(rule, case, posts))
        pipeline.detect()
        findings = [(f.finding.event_time - case.start, dict(f.finding.group))
                    for f in app.store.findings(rule_id=rule.id, limit=100_000)]
        recoveries = [(r.event_time - case.start, dict(r.group)) for r in engine.recoveries]
        counts = {name: [(timedelta(seconds=b.bucket) - timedelta(seconds=case.start.timestamp()), b.count)
                         for b in buckets]
                  for name, buckets in app.store.series_in_range(0, 2**62, f"rule:{rule.id}").items()}
        return TimelineRun(findings, recoveries, counts, app.store.count_incidents())
    finally:
        app.close()


def expand_timeline(case: m.TimelineCase) -> tuple[list[Post], dict[str, m.PinnedEnrichment | None]]:
    posts, pins = [], {}
    for i, tp in enumerate(case.posts):
        for n in range(tp.repeat):
            post = example_post(tp, f"t{i}-{n}", case.start + tp.at + n * tp.every)
            posts.append(post)
            pins[post.key] = tp.enrichment
    posts.sort(key=lambda p: p.created_at)
    return posts, pins


def timeline_end(rule: CompiledRule, case: m.TimelineCase, posts: list[Post]) -> timedelta:
    if case.until is not None:
        return case.until
    last = max((p.created_at - case.start for p in posts), default=timedelta(0))
    window = getattr(rule.spec, "window", case.bucket)
    return last + window + case.bucket + case.lateness


def run_timeline_case(ruleset: RuleSet, rule: CompiledRule, index: int, case: m.TimelineCase,
                      config: "AppConfig", enrich: Enrich) -> CaseResult:
    run = run_timeline(ruleset, rule, case, config, enrich)
    problems = _compare("finding", case.expect_findings, run.findings, case.allow_more)
    if case.expect_recoveries is not None:
        problems += _compare("recovery", case.expect_recoveries, run.recoveries, False)
    expected = "; ".join(e.describe() for e in case.expect_findings) or "no findings"
    if case.allow_more:
        expected += " (more allowed)"
    actual = "; ".join(_show(o, g) for o, g in run.findings) or "no findings"
    details = list(problems)
    if problems:
        details.append(f"recoveries: {'; '.join(_show(o, g) for o, g in run.recoveries) or 'none'}")
        details.extend(_counts_lines(run.counts))
        details.extend(_template_lines(ruleset, rule, case))
    return CaseResult(rule.id, index, case.name, "timeline", not problems, expected, actual, details)


def _show(offset: timedelta, group: dict[str, str]) -> str:
    return f"+{format_duration(offset)}" + (f" {group}" if group else "")


def _compare(what: str, expected: list[m.ExpectedSignal], actual: list[tuple[timedelta, dict]],
             allow_more: bool) -> list[str]:
    unused = list(actual)
    problems = []
    for exp in expected:
        hit = next((a for a in unused if exp.accepts(*a)), None)
        if hit is None:
            problems.append(f"missing {what} {exp.describe()}")
        else:
            unused.remove(hit)
    if unused and not allow_more:
        problems.extend(f"unexpected {what} {_show(o, g)}" for o, g in unused)
    return problems


def _counts_lines(counts: dict[str, list[tuple[timedelta, int]]]) -> list[str]:
    lines = []
    for name, points in sorted(counts.items()):
        shown = ", ".join(f"+{format_duration(o)}:{n}" for o, n in points[:24])
        more = f" ... ({len(points) - 24} more buckets)" if len(points) > 24 else ""
        lines.append(f"counts {name}: {shown or 'none'}{more}")
    return lines or ["counts: the rule counted no posts (does any timeline post match it?)"]


def _template_lines(ruleset: RuleSet, rule: CompiledRule, case: m.TimelineCase) -> list[str]:
    """Whether each timeline post, as written, matches the rule's conditions (without enrichment
    from the model: pinned fields only)."""
    lines = []
    from ...models import Sentiment

    for i, tp in enumerate(case.posts):
        base = Enrichment(lang=tp.lang or "und", sentiment=Sentiment.NEUTRAL, sentiment_score=0.0)
        item = EnrichedPost(example_post(tp, f"t{i}", case.start), apply_pins(base, tp.enrichment))
        trace = rule.explain(ruleset.context(item))
        decider = trace.decider()
        lines.append(f"post #{i + 1} ({tp.repeat}x at +{format_duration(tp.at)}): "
                     f"{'matches' if trace.ok else 'does not match'}, decided by {decider.what}"
                     + (f" ({decider.why})" if decider.why else ""))
    return lines


def summary(results: list[CaseResult]) -> dict[str, Any]:
    failed = [r for r in results if not r.ok]
    return {"cases": len(results), "passed": len(results) - len(failed), "failed": len(failed),
            "rules": len({r.rule_id for r in results})}
