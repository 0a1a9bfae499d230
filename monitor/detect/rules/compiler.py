"""From validated rule models to compiled rules: one shared keyword matcher, regexes compiled
once, conditions turned into nodes, and the semantic checks that need more than the schema
(every problem located by file, line and column)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from ...alerts.grouping import RuleMeta
from ...config.types import format_duration
from ...errors import Location
from ...models import EnrichedPost, group_key
from . import conditions as c
from . import fields
from . import model as m
from .regexlit import required_literals
from .text import Keyword, KeywordMatcher, Mode, normalize, parse_keyword

DEFAULT_RESOLVE_AFTER = timedelta(hours=1)
AUTHOR_MEMORY = timedelta(days=2)  # distinct authors per bucket are kept this long (store retention)

Path_ = tuple[str | int, ...]
Locate = Callable[[Path_], Location]


@dataclass
class RuleSource:
    """A validated rule and where it came from."""

    spec: m.AnyRule
    locate: Locate  # path inside the rule (relative to the rule mapping) -> file location
    file: str


@dataclass
class CompiledRule:
    spec: m.AnyRule
    file: str
    location: Location
    node: c.Node
    anchors: frozenset[int] | None  # the rule can only match a post with one of these keywords
    term_filter: re.Pattern[str] | None = None
    term_literals: frozenset[str] | None = None  # text one of which a post needs for any term to pass the filter
    ignore_terms: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def type(self) -> str:
        return self.spec.type

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @property
    def group_by(self) -> tuple[str, ...]:
        return tuple(sorted(self.spec.group_by))

    @property
    def resolve_after(self) -> timedelta:
        return self.spec.resolve_after or DEFAULT_RESOLVE_AFTER

    def matches(self, pc: c.PostContext) -> bool:
        return self.node.test(pc)

    def explain(self, pc: c.PostContext) -> c.Trace:
        trace = self.node.explain(pc)
        trace.decisive = True
        return trace

    def group(self, item: EnrichedPost) -> dict[str, str]:
        return fields.group_of(item, self.group_by)

    def title_for(self, group: dict[str, str]) -> str:
        if not group:
            return self.spec.title
        return f"{self.spec.title} ({', '.join(f'{k}={v}' for k, v in sorted(group.items()))})"

    def meta(self) -> RuleMeta:
        s = self.spec
        return RuleMeta(title=s.title, description=s.description, severity=s.severity, tags=tuple(s.tags),
                        owner=s.owner, channels=tuple(s.route), resolve_after=self.resolve_after)

    def key(self, group: dict[str, str]) -> str:
        return group_key(self.id, group)


@dataclass
class CompileContext:
    matcher: KeywordMatcher
    problems: list[tuple[Location, str]] = field(default_factory=list)
    regexes: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def regex(self, pattern: str, where: Location) -> re.Pattern[str] | None:
        if pattern not in self.regexes:
            try:
                self.regexes[pattern] = m.compile_regex(pattern)
            except re.error as exc:
                self.problems.append((where, f"invalid regular expression: {exc}"))
                return None
        return self.regexes[pattern]


def compile_condition(cond: Any, path: Path_, locate: Locate, ctx: CompileContext) -> tuple[c.Node, frozenset | None]:
    """A condition model -> (node, anchors). Anchors: keyword ids one of which every match needs."""
    if isinstance(cond, m.AllOf):
        parts = [compile_condition(x, path + ("all", i), locate, ctx) for i, x in enumerate(cond.all)]
        anchored = [a for _, a in parts if a is not None]
        return c.AllNode([n for n, _ in parts]), min(anchored, key=len) if anchored else None
    if isinstance(cond, m.AnyOf):
        parts = [compile_condition(x, path + ("any", i), locate, ctx) for i, x in enumerate(cond.any)]
        anchors = None
        if all(a is not None for _, a in parts):
            anchors = frozenset().union(*(a for _, a in parts))
        return c.AnyNode([n for n, _ in parts]), anchors
    if isinstance(cond, m.NotOf):
        node, _ = compile_condition(cond.not_, path + ("not",), locate, ctx)
        return c.NotNode(node), None
    if isinstance(cond, m.KeywordsCond):
        return _keywords(cond, path, locate, ctx)
    if isinstance(cond, m.RegexCond):
        patterns = []
        anchors: set[int] | None = set()
        values = m.as_list(cond.regex)
        for i, pattern in enumerate(values):
            where = locate(path + (("regex", i) if isinstance(cond.regex, list) else ("regex",)))
            compiled = ctx.regex(pattern, where)
            if compiled is not None:
                patterns.append(compiled)
            anchors = _regex_anchors(pattern, ctx, anchors)
        return c.RegexNode(patterns), frozenset(anchors) if anchors else None
    if isinstance(cond, m.CategoryCond):
        return c.category_node(m.as_list(cond.category), cond.min_score), None
    if isinstance(cond, m.SentimentCond):
        labels = [cond.sentiment] if not isinstance(cond.sentiment, list) else cond.sentiment
        return c.sentiment_node([s.value for s in labels]), None
    if isinstance(cond, m.SentimentBelowCond):
        return c.score_node(cond.sentiment_below, below=True), None
    if isinstance(cond, m.SentimentAboveCond):
        return c.score_node(cond.sentiment_above, below=False), None
    if isinstance(cond, m.SourceCond):
        return c.one_of_node("source", m.as_list(cond.source), lambda i: i.post.source), None
    if isinstance(cond, m.SourceTypeCond):
        return c.one_of_node("source_type", m.as_list(cond.source_type), lambda i: i.post.source_type), None
    if isinstance(cond, m.LangCond):
        return c.one_of_node("lang", m.as_list(cond.lang), lambda i: i.enrichment.lang), None
    if isinstance(cond, m.RatingAtMostCond):
        return c.rating_node(cond.rating_at_most, at_most=True), None
    if isinstance(cond, m.RatingAtLeastCond):
        return c.rating_node(cond.rating_at_least, at_most=False), None
    if isinstance(cond, m.FollowersAtLeastCond):
        return c.followers_node(cond.followers_at_least), None
    if isinstance(cond, m.RepliedCond):
        return c.replied_node(cond.replied), None
    if isinstance(cond, m.SecurityCond):
        return c.security_node(cond.security), None
    if isinstance(cond, m.AuthorCond):
        return c.one_of_node("author", m.as_list(cond.author), lambda i: i.post.author, fold=True), None
    raise TypeError(f"unknown condition {type(cond).__name__}")  # the schema makes this unreachable


def _regex_anchors(pattern: str, ctx: CompileContext, anchors: set[int] | None) -> set[int] | None:
    """Index a regex by literal text every match contains (see regexlit.py); None when it has none."""
    if anchors is None:
        return None
    literals = required_literals(pattern)
    if not literals or any(normalize(lit) != lit for lit in literals):
        return None
    return anchors | {ctx.matcher.add(Keyword(lit, Mode.SUBSTRING, f"(in regex) {lit}", None)) for lit in literals}


def _keywords(cond: m.KeywordsCond, path: Path_, locate: Locate, ctx: CompileContext):
    groups: list[tuple[str | None, list[str], Path_]] = []
    if isinstance(cond.keywords, dict):
        groups = [(lang, words, path + ("keywords", lang)) for lang, words in cond.keywords.items()]
    else:
        groups = [(None, cond.keywords, path + ("keywords",))]
    ids: set[int] = set()
    shown: list[str] = []
    for lang, words, where in groups:
        if not words:
            ctx.problems.append((locate(where), "an empty keyword list matches nothing"))
        for j, raw in enumerate(words):
            kw = parse_keyword(raw, lang)
            if not kw.text:
                ctx.problems.append((locate(where + (j,)), f"keyword {raw!r} is empty once normalised"))
                continue
            ids.add(ctx.matcher.add(kw))
        if words:
            sample = ", ".join(words[:3]) + (", ..." if len(words) > 3 else "")
            shown.append(f"{lang}: {sample}" if lang else sample)
    if len(groups) > 2:
        what = f"keywords [{len(ids)} in {', '.join(str(lang) for lang, _, _ in groups)}]"
    else:
        what = "keywords [" + "; ".join(shown) + "]"
    return c.KeywordNode(frozenset(ids), ctx.matcher, what), frozenset(ids)


def compile_rule(src: RuleSource, ctx: CompileContext, bucket: timedelta) -> CompiledRule:
    spec = src.spec
    if spec.match is not None:
        node, anchors = compile_condition(spec.match, ("match",), src.locate, ctx)
    else:
        node, anchors = c.TrueNode(), None
    rule = CompiledRule(spec, src.file, src.locate(("id",)), node, anchors)
    if isinstance(spec, m.NewTermRule):
        if spec.term_filter:
            rule.term_filter = ctx.regex(spec.term_filter, src.locate(("term_filter",)))
            rule.term_literals = required_literals(spec.term_filter)
        rule.ignore_terms = frozenset(normalize(t).lstrip("#$@") for t in spec.ignore)  # as terms are
    check_rule(src, bucket, ctx.problems)
    return rule


def check_rule(src: RuleSource, bucket: timedelta, problems: list[tuple[Location, str]]) -> None:
    """Parameter sanity that the schema alone cannot express."""
    spec, at = src.spec, src.locate

    def multiple_of_bucket(value: timedelta, key: str) -> None:
        if value < bucket or value % bucket:
            problems.append((at((key,)), f"{key} {format_duration(value)} must be a whole multiple of the "
                                         f"detection bucket ({format_duration(bucket)})"))

    if isinstance(spec, (m.ThresholdRule, m.FlatlineRule, m.NewTermRule)):
        multiple_of_bucket(spec.window, "window")
    if isinstance(spec, (m.FlatlineRule, m.NewTermRule)):
        if spec.lookback <= spec.window:
            problems.append((at(("lookback",)), "lookback must be longer than the window"))
    if isinstance(spec, (m.ThresholdRule, m.NewTermRule)) and spec.distinct_authors and spec.window > AUTHOR_MEMORY:
        problems.append((at(("distinct_authors",)), f"distinct authors are kept for {format_duration(AUTHOR_MEMORY)}; "
                                                    "use a shorter window or count posts"))
    if isinstance(spec, m.ThresholdRule) and spec.average_rating is not None:
        if spec.distinct_authors:
            problems.append((at(("distinct_authors",)), "average_rating averages posts; distinct_authors cannot "
                                                        "be combined with it"))
        if spec.average_rating.baseline % bucket:
            problems.append((at(("average_rating", "baseline")), "baseline must be a multiple of the bucket"))
    if isinstance(spec, m.NewTermRule) and spec.group_by:
        problems.append((at(("group_by",)), "a new_term rule groups by the term itself; remove group_by"))
    resolve_after = spec.resolve_after or DEFAULT_RESOLVE_AFTER
    if spec.realert and spec.realert >= resolve_after:
        problems.append((at(("realert",)), f"realert ({format_duration(spec.realert)}) must be shorter than "
                                           f"resolve_after ({format_duration(resolve_after)}): otherwise the incident "
                                           "resolves during the cooldown and reopens after it"))
    window = getattr(spec, "window", None)
    for j, case in enumerate(spec.tests):
        if isinstance(case, m.TimelineCase):
            if window is not None and window % case.bucket:
                problems.append((at(("tests", j, "bucket")), f"the rule's window {format_duration(window)} is not a "
                                                             f"multiple of this case's bucket"))
            if isinstance(spec, m.ThresholdRule) and spec.average_rating and spec.average_rating.baseline % case.bucket:
                problems.append((at(("tests", j, "bucket")), "the baseline is not a multiple of this case's bucket"))
