"""Compiled conditions: a fast `test` for detection and an `explain` that says why.

Each node is built once from the rule's YAML. `test` short-circuits and tries cheap checks
first; `explain` evaluates every child in the order written and returns a Trace that names the
condition that decided the outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ...models import EnrichedPost
from . import fields
from .text import KeywordMatcher, normalize


class PostContext:
    """One post as the conditions see it: normalised text and keyword hits are computed once."""

    __slots__ = ("item", "text", "hits")

    def __init__(self, item: EnrichedPost, matcher: KeywordMatcher) -> None:
        self.item = item
        self.text = normalize(item.post.full_text)
        self.hits = matcher.scan(self.text)


@dataclass
class Trace:
    ok: bool
    what: str  # the condition, as written
    why: str = ""  # what in the post made it so
    children: list["Trace"] = field(default_factory=list)
    decisive: bool = False  # this node decided its parent's outcome

    def lines(self, indent: int = 0) -> list[str]:
        mark = "MATCH" if self.ok else "no   "
        arrow = "  <- decided" if self.decisive else ""
        out = [f"{'  ' * indent}[{mark}] {self.what}" + (f": {self.why}" if self.why else "") + arrow]
        for child in self.children:
            out.extend(child.lines(indent + 1))
        return out

    def decider(self) -> "Trace":
        """The deepest condition that decided the outcome."""
        for child in self.children:
            if child.decisive:
                return child.decider()
        return self


class Node:
    cost = 1  # relative cost, so `all`/`any` try cheap children first
    what = ""

    def test(self, pc: PostContext) -> bool:
        raise NotImplementedError

    def explain(self, pc: PostContext) -> Trace:
        raise NotImplementedError


class AllNode(Node):
    def __init__(self, children: Sequence[Node]) -> None:
        self.children = list(children)
        self.ordered = sorted(self.children, key=lambda c: c.cost)
        self.cost = sum(c.cost for c in children)
        self.what = f"all of {len(children)}"

    def test(self, pc: PostContext) -> bool:
        for child in self.ordered:
            if not child.test(pc):
                return False
        return True

    def explain(self, pc: PostContext) -> Trace:
        traces = [c.explain(pc) for c in self.children]
        ok = all(t.ok for t in traces)
        for t in traces:
            if not t.ok:
                t.decisive = True
                break
        else:
            for t in traces:
                t.decisive = len(traces) == 1
        failed = sum(not t.ok for t in traces)
        return Trace(ok, self.what, "all hold" if ok else f"{failed} of {len(traces)} do not hold", traces)


class AnyNode(Node):
    def __init__(self, children: Sequence[Node]) -> None:
        self.children = list(children)
        self.ordered = sorted(self.children, key=lambda c: c.cost)
        self.cost = sum(c.cost for c in children)
        self.what = f"any of {len(children)}"

    def test(self, pc: PostContext) -> bool:
        for child in self.ordered:
            if child.test(pc):
                return True
        return False

    def explain(self, pc: PostContext) -> Trace:
        traces = [c.explain(pc) for c in self.children]
        ok = any(t.ok for t in traces)
        for t in traces:
            if t.ok:
                t.decisive = True
                break
        else:
            for t in traces:
                t.decisive = len(traces) == 1
        held = sum(t.ok for t in traces)
        return Trace(ok, self.what, f"{held} of {len(traces)} hold" if ok else "none holds", traces)


class NotNode(Node):
    def __init__(self, child: Node) -> None:
        self.child = child
        self.cost = child.cost
        self.what = "not"

    def test(self, pc: PostContext) -> bool:
        return not self.child.test(pc)

    def explain(self, pc: PostContext) -> Trace:
        inner = self.child.explain(pc)
        inner.decisive = True
        return Trace(not inner.ok, self.what, "the condition below does not hold" if not inner.ok
                     else "the condition below holds", [inner])


class KeywordNode(Node):
    cost = 2

    def __init__(self, ids: frozenset[int], matcher: KeywordMatcher, what: str) -> None:
        self.ids = ids
        self.matcher = matcher
        self.what = what

    def test(self, pc: PostContext) -> bool:
        return not self.ids.isdisjoint(pc.hits)

    def terms(self, pc: PostContext) -> list[str]:
        return [self.matcher.keywords[k].original for k in sorted(self.ids & pc.hits)]

    def explain(self, pc: PostContext) -> Trace:
        found = self.terms(pc)
        if found:
            return Trace(True, self.what, "found " + ", ".join(repr(t) for t in found))
        near = self.matcher.near_misses(pc.text, self.ids)
        why = f"none of {len(self.ids)} keywords found"
        if near:
            why += "; inside longer words only: " + ", ".join(repr(t) for t in near[:5])
        return Trace(False, self.what, why)


class RegexNode(Node):
    cost = 5

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.patterns = list(patterns)
        self.what = "regex " + " | ".join(p.pattern for p in self.patterns)

    def test(self, pc: PostContext) -> bool:
        return any(p.search(pc.text) for p in self.patterns)

    def found(self, pc: PostContext) -> list[str]:
        out = []
        for p in self.patterns:
            m = p.search(pc.text)
            if m:
                out.append(m.group(0))
        return out

    def explain(self, pc: PostContext) -> Trace:
        found = self.found(pc)
        return Trace(bool(found), self.what, ("found " + ", ".join(repr(f[:80]) for f in found)) if found
                     else "no match in the text")


class FieldNode(Node):
    """A check on one field of the post or its enrichment."""

    cost = 0

    def __init__(self, what: str, check: Callable[[EnrichedPost], bool], show: Callable[[EnrichedPost], str]) -> None:
        self.what = what
        self.check = check
        self.show = show

    def test(self, pc: PostContext) -> bool:
        return self.check(pc.item)

    def explain(self, pc: PostContext) -> Trace:
        return Trace(self.check(pc.item), self.what, self.show(pc.item))


class TrueNode(Node):
    """A rule without `match`: every post."""

    cost = 0
    what = "every post (no match conditions)"

    def test(self, pc: PostContext) -> bool:
        return True

    def explain(self, pc: PostContext) -> Trace:
        return Trace(True, self.what)


def keyword_terms(node: Node, pc: PostContext) -> list[str]:
    """Keywords and regex text found in the branches that made the post match (finding evidence)."""
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, KeywordNode):
            out.extend(n.terms(pc))
        elif isinstance(n, RegexNode):
            out.extend(f[:80] for f in n.found(pc))
        elif isinstance(n, AllNode):
            stack.extend(reversed(n.children))
        elif isinstance(n, AnyNode):
            stack.extend(reversed([c for c in n.children if c.test(pc)]))
        # terms under `not` are the absence of something: not evidence
    return list(dict.fromkeys(out))


# --- field checks -------------------------------------------------------------------------

def _names(values: list[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


def category_node(names: list[str], min_score: float) -> FieldNode:
    wanted = set(names)

    def check(item: EnrichedPost) -> bool:
        return any(c.name in wanted and c.score >= min_score for c in item.enrichment.categories)

    def show(item: EnrichedPost) -> str:
        cats = ", ".join(f"{c.name} {c.score:.2f}" for c in item.enrichment.categories) or "none"
        return f"post categories: {cats}"

    suffix = f" (score >= {min_score})" if min_score else ""
    return FieldNode(f"category {_names(names)}{suffix}", check, show)


def sentiment_node(labels: list[str]) -> FieldNode:
    wanted = set(labels)
    return FieldNode(f"sentiment {_names(labels)}", lambda i: i.enrichment.sentiment.value in wanted,
                     lambda i: f"post sentiment is {i.enrichment.sentiment.value}")


def score_node(limit: float, below: bool) -> FieldNode:
    if below:
        return FieldNode(f"sentiment_below {limit}", lambda i: i.enrichment.sentiment_score < limit,
                         lambda i: f"score is {i.enrichment.sentiment_score:.3f}")
    return FieldNode(f"sentiment_above {limit}", lambda i: i.enrichment.sentiment_score > limit,
                     lambda i: f"score is {i.enrichment.sentiment_score:.3f}")


def one_of_node(label: str, values: list[str], get: Callable[[EnrichedPost], str | None],
                fold: bool = False) -> FieldNode:
    wanted = {v.casefold() for v in values} if fold else set(values)

    def check(item: EnrichedPost) -> bool:
        value = get(item)
        if value is None:
            return False
        return (value.casefold() if fold else value) in wanted

    return FieldNode(f"{label} {_names(values)}", check, lambda i: f"post {label} is {get(i)!r}")


def rating_node(limit: int, at_most: bool) -> FieldNode:
    if at_most:
        return FieldNode(f"rating_at_most {limit}", lambda i: i.post.rating is not None and i.post.rating <= limit,
                         lambda i: f"rating is {i.post.rating}")
    return FieldNode(f"rating_at_least {limit}", lambda i: i.post.rating is not None and i.post.rating >= limit,
                     lambda i: f"rating is {i.post.rating}")


def followers_node(limit: int) -> FieldNode:
    def check(item: EnrichedPost) -> bool:
        n = fields.followers(item.post)
        return n is not None and n >= limit

    return FieldNode(f"followers_at_least {limit}", check, lambda i: f"author followers: {fields.followers(i.post)}")


def replied_node(wanted: bool) -> FieldNode:
    return FieldNode(f"replied {str(wanted).lower()}", lambda i: fields.replied(i.post) == wanted,
                     lambda i: "a developer reply exists" if fields.replied(i.post) else "no developer reply")


def security_node(wanted: bool) -> FieldNode:
    return FieldNode(f"security {str(wanted).lower()}", lambda i: i.enrichment.security == wanted,
                     lambda i: "flagged as a security complaint" if i.enrichment.security else "not flagged")
