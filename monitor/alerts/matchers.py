"""Label matchers, as in Alertmanager: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.

An incident's labels are its rule id, severity, category, owner, state, its rule's tags and
its group values (see `incident_labels`). `tags` has several values: `tags=x` holds when any
tag is x, `tags!=x` when none is. A missing label reads as the empty string. Regexes are
anchored (they must match the whole value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Mapping

from pydantic import BeforeValidator, PlainSerializer

from ..models import Incident

Labels = Mapping[str, "str | tuple[str, ...]"]

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.S)
FIXED_LABELS = ("rule", "severity", "category", "owner", "state", "tags")


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # one of =, !=, =~, !~
    value: str
    _regex: re.Pattern | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.label)
        values: tuple[str, ...] = actual if isinstance(actual, tuple) else ((actual,) if actual else ())
        candidates = values or ("",)
        if self.op == "=":
            return self.value in candidates
        if self.op == "!=":
            return self.value not in candidates
        assert self._regex is not None
        hit = any(self._regex.fullmatch(v) for v in candidates)
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f"{self.label}{self.op}{self.value}"


def parse_matcher(text: Any) -> Matcher:
    if isinstance(text, Matcher):
        return text
    if not isinstance(text, str):
        raise ValueError(f"expected a matcher such as rule=ID or severity=~high|critical, got {text!r}")
    m = _MATCHER.match(text)
    if not m:
        raise ValueError(f"invalid matcher {text!r}: use name=value, name!=value, name=~regex or name!~regex")
    label, op, value = m.groups()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    regex = None
    if op in ("=~", "!~"):
        try:
            regex = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex in matcher {text!r}: {exc}") from None
    return Matcher(label, op, value, regex)


MatcherField = Annotated[Matcher, BeforeValidator(parse_matcher), PlainSerializer(str, return_type=str)]


def matches_all(matchers: tuple[Matcher, ...] | list[Matcher], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)


def incident_labels(incident: Incident, tags: tuple[str, ...] = (), owner: str = "") -> dict[str, Any]:
    """The labels routes, silences and inhibition rules match against.

    `category` is the incident's `category` group value when the rule groups by it, else the
    most common category among its posts (empty when unknown).
    """
    labels: dict[str, Any] = {str(k): str(v) for k, v in incident.group.items()}
    categories = incident.summary.get("categories") or {}
    dominant = max(categories.items(), key=lambda kv: (kv[1], kv[0]))[0] if categories else ""
    labels.update(rule=incident.rule_id, severity=incident.severity.value, owner=owner or "",
                  state=incident.state.value, tags=tuple(tags),
                  category=str(incident.group.get("category") or dominant))
    return labels
