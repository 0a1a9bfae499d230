"""Notification policy: routing to channels, when each notification is due, and muting.

All times here are event times (the clock replay drives), so a replay decides exactly what a
live run would have decided. See docs/alerting.md for the semantics with examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from ..models import Incident, IncidentState, Severity
from ..store import SqliteStore
from ..store.alerting import ChannelState
from .matchers import Labels, matches_all, parse_matcher
from .settings import InhibitRuleSettings, RouteDefaults, RouteSettings


@dataclass(frozen=True)
class Timers:
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta | None
    send_resolved: bool


class Router:
    """Routes are tried in order; every matching route adds its channels (the first route to
    name a channel sets its timers) until a matching route with `stop: true`."""

    def __init__(self, routes: Sequence[RouteSettings] = (), defaults: RouteDefaults | None = None) -> None:
        self.routes = list(routes)
        self.defaults = defaults or RouteDefaults()

    def timers(self, route: RouteSettings | None = None) -> Timers:
        d = self.defaults

        def pick(name: str):
            value = getattr(route, name) if route is not None else None
            return getattr(d, name) if value is None else value

        repeat = pick("repeat_interval")
        return Timers(pick("group_wait"), pick("group_interval"), repeat if repeat else None, pick("send_resolved"))

    def plan(self, labels: Labels, explicit: tuple[str, ...] = ()) -> dict[str, Timers]:
        """Channel -> timers for an incident with these labels; a rule's own channels replace routing."""
        if explicit:
            return {c: self.timers() for c in explicit}
        out: dict[str, Timers] = {}
        for route in self.routes:
            if route.matches(dict(labels)):
                for channel in route.channels:
                    out.setdefault(channel, self.timers(route))
                if route.stop:
                    break
        return out


def next_due(state: ChannelState, incident: Incident) -> tuple[datetime, str] | None:
    """The next notification this channel is owed for this incident, and its event."""
    if incident.state == IncidentState.RESOLVED:
        return None
    if not state.triggered:
        return state.due_at, "trigger"
    assert state.notified_at is not None
    notified_rank = Severity(state.notified_severity).rank if state.notified_severity else -1
    if incident.severity.rank > notified_rank:
        return max(incident.last_seen, state.notified_at), "escalate"  # a worse severity goes out at once
    if incident.finding_count != state.notified_findings:
        return max(incident.last_seen, state.notified_at + state.group_interval), "update"
    if incident.state == IncidentState.OPEN and state.repeat_interval:
        return state.notified_at + state.repeat_interval, "repeat"
    return None


@dataclass(frozen=True)
class Mute:
    reason: str  # "silence 3" or "incident 7"
    until: datetime | None  # when it is known to end (a silence's end), None while it lasts


class Muter:
    """Silences (stored, made with `monitor silence add`) and inhibition rules (config)."""

    def __init__(self, store: SqliteStore, inhibit_rules: Sequence[InhibitRuleSettings],
                 labels_of: Callable[[Incident], Labels]) -> None:
        self.store = store
        self.inhibit_rules = list(inhibit_rules)
        self.labels_of = labels_of

    def check(self, incident: Incident, labels: Labels, at: datetime) -> Mute | None:
        for silence in self.store.active_silences(at):
            try:
                matchers = [parse_matcher(m) for m in silence.matchers]
            except ValueError:
                continue  # stored matchers were validated on the way in; never let one block alerting
            if matchers and matches_all(matchers, labels):
                return Mute(f"silence {silence.id}", silence.ends_at)
        source = self._inhibitor(incident, labels, at)
        if source is not None:
            return Mute(f"incident {source.id}", None)
        return None

    def released_at(self, reason: str, at: datetime, now: datetime) -> datetime:
        """When a held notification was set free: a silence's end, or its inhibitor's resolution."""
        kind, _, ident = reason.partition(" ")
        if kind == "silence":
            silence = self.store.get_silence(int(ident))
            if silence is not None:
                return max(at, silence.ends_at) if silence.ends_at <= now else at
        elif kind == "incident":
            source = self.store.get_incident(int(ident))
            if source is not None and source.resolved_at is not None:
                return max(at, min(source.resolved_at, now))
        return at

    def _inhibitor(self, incident: Incident, labels: Labels, at: datetime) -> Incident | None:
        rules = [r for r in self.inhibit_rules if matches_all(r.target_matchers, labels)]
        if not rules:
            return None
        for other in self.store.incidents_active_at(at):
            if other.id == incident.id:
                continue
            other_labels = self.labels_of(other)
            for rule in rules:
                if not matches_all(rule.source_matchers, other_labels):
                    continue
                # as in Alertmanager: what matches both sides cannot be muted by what matches both sides
                if matches_all(rule.source_matchers, labels) and matches_all(rule.target_matchers, other_labels):
                    continue
                if all(_label(labels, name) == _label(other_labels, name) for name in rule.equal):
                    return other
        return None


def _label(labels: Labels, name: str) -> str:
    value = labels.get(name, "")
    return ",".join(value) if isinstance(value, tuple) else str(value)
