"""`monitor rules explain`: why a rule does or does not fire on one post."""

from __future__ import annotations

from . import fields
from . import model as m
from .compiler import CompiledRule
from .conditions import PostContext
from .state import series_name
from .terms import extract


def explain_lines(rule: CompiledRule, pc: PostContext, note: str | None = None) -> list[str]:
    item = pc.item
    post = item.post
    lines = [f"rule {rule.id} [{rule.type}] {rule.spec.title!r} ({rule.location})"]
    if not rule.enabled:
        lines.append("note: the rule is disabled (enabled: false); it runs only in tests and backtests")
    lines.append(f"post {post.key} at {post.created_at.isoformat()}" + (f" {post.url}" if post.url else ""))
    lines.append(f"text: {post.full_text[:400]!r}")
    shown = {k: v for k, v in fields.post_fields(item).items() if v not in (None, [], False)
             and k not in ("key", "created_at")}
    lines.append("fields: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if note:
        lines.append(f"note: {note}")
    lines.append("normalised text: " + repr(pc.text[:400]))
    lines.append("")
    trace = rule.explain(pc)
    lines.extend(trace.lines())
    lines.append("")
    decider = trace.decider()
    verdict = "MATCHES" if trace.ok else "does NOT match"
    lines.append(f"=> the post {verdict} the rule's conditions; decided by: {decider.what}"
                 + (f" ({decider.why})" if decider.why else ""))
    if trace.ok:
        lines.extend(_what_happens(rule, pc))
    return lines


def _what_happens(rule: CompiledRule, pc: PostContext) -> list[str]:
    spec = rule.spec
    if isinstance(spec, m.MatchRule):
        group = rule.group(pc.item)
        return ["=> a match rule: the post itself is a finding" + (f" in group {group}" if group else "")]
    if isinstance(spec, m.NewTermRule):
        terms = sorted(extract(pc.text, spec.extract, spec.min_length))
        return [f"=> counted for the terms: {', '.join(terms) or '(none extracted)'}"]
    group = rule.group(pc.item) if rule.group_by else None
    line = f"=> counted in series {series_name(rule.id, group)!r}, judged when each window closes"
    return [line]
