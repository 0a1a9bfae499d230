"""Findings become incidents; incident changes become outbox rows, in the same transaction.

One unresolved incident per key (the rule id and its group_by values). A new key opens an
incident and queues a trigger for every channel its route names; a Recovery, or a quiet period
with no new findings, resolves it and queues a resolve.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Sequence

from ..detect.base import Signal
from ..models import Finding, Incident, IncidentState, Notification, NotificationKind, Recovery, Severity
from ..store import SqliteStore, StoredFinding

MAX_SAMPLES = 20


@dataclass(frozen=True)
class RuleMeta:
    """What grouping needs to know about the rule behind a finding."""

    title: str = ""
    description: str = ""
    severity: Severity = Severity.MEDIUM
    tags: tuple[str, ...] = ()
    owner: str = ""
    channels: tuple[str, ...] = ()  # explicit route on the rule (overrides config routes)
    resolve_after: timedelta = timedelta(hours=1)  # quiet period after which an incident resolves


@dataclass
class RouteTable:
    """Config routes: which channels get incidents of which severity."""

    routes: Sequence[tuple[Severity | None, tuple[str, ...]]] = field(default_factory=list)

    def channels_for(self, severity: Severity, explicit: tuple[str, ...]) -> tuple[str, ...]:
        if explicit:
            return explicit
        out: list[str] = []
        for minimum, channels in self.routes:
            if minimum is None or severity.rank >= minimum.rank:
                out.extend(c for c in channels if c not in out)
        return tuple(out)


def dedup_key(incident: Incident) -> str:
    # Stable for the life of the incident: receivers (PagerDuty dedup_key, Opsgenie alias) merge on it.
    return f"monitor/{incident.key}/{incident.id}"


class IncidentManager:
    def __init__(self, store: SqliteStore, rule_meta: Callable[[str], RuleMeta], routes: RouteTable) -> None:
        self.store = store
        self.rule_meta = rule_meta
        self.routes = routes

    def apply(self, stored: Sequence[StoredFinding], recoveries: Sequence[Recovery], now: datetime) -> None:
        # In event-time order: when the clock jumped over several buckets (replay, a restart), a
        # recovery must close the incident before a later finding opens the next one.
        events = [(item.finding.event_time, 0, item) for item in stored] + \
                 [(recovery.event_time, 1, recovery) for recovery in recoveries]
        for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
            if isinstance(event, Recovery):
                incident = self.store.open_incident_for(event.group_key)
                if incident is not None and event.event_time >= incident.last_seen:
                    self._resolve(incident, now, reason="back to baseline")
            else:
                self._add_finding(event, now)

    def tick(self, now: datetime) -> None:
        for incident in self.store.list_incidents((IncidentState.OPEN, IncidentState.ACKNOWLEDGED), limit=10_000):
            if now - incident.last_seen >= self.rule_meta(incident.rule_id).resolve_after:
                self._resolve(incident, now, reason="quiet")

    def _add_finding(self, item: StoredFinding, now: datetime) -> None:
        f: Finding = item.finding
        incident = self.store.open_incident_for(f.group_key)
        meta = self.rule_meta(f.rule_id)
        if incident is None:
            incident = self.store.insert_incident(Incident(
                id=None, key=f.group_key, rule_id=f.rule_id, group=dict(f.group), state=IncidentState.OPEN,
                severity=f.severity, title=f.title or meta.title or f.rule_id, first_seen=f.event_time,
                last_seen=f.event_time, finding_count=1, post_count=len(f.post_ids),
                summary={"evidence": dict(f.evidence)}, sample_post_ids=tuple(f.post_ids[:MAX_SAMPLES]),
                opened_at=now), now)
            self.store.link_findings([item.id], incident.id)
            self._notify(incident, NotificationKind.TRIGGER, now, meta)
            return
        samples = tuple(dict.fromkeys(incident.sample_post_ids + tuple(f.post_ids)))[:MAX_SAMPLES]
        updated = replace(
            incident, last_seen=max(incident.last_seen, f.event_time), first_seen=min(incident.first_seen, f.event_time),
            finding_count=incident.finding_count + 1, post_count=incident.post_count + len(f.post_ids),
            severity=max(incident.severity, f.severity, key=lambda s: s.rank), sample_post_ids=samples,
            summary={**incident.summary, "evidence": dict(f.evidence)})
        self.store.update_incident(updated, now)
        self.store.link_findings([item.id], incident.id)

    def _resolve(self, incident: Incident, now: datetime, reason: str) -> None:
        resolved = replace(incident, state=IncidentState.RESOLVED, resolved_at=now,
                           summary={**incident.summary, "resolved_because": reason})
        self.store.update_incident(resolved, now)
        self._notify(resolved, NotificationKind.RESOLVE, now, self.rule_meta(incident.rule_id))

    def _notify(self, incident: Incident, kind: NotificationKind, now: datetime, meta: RuleMeta) -> None:
        channels = self.routes.channels_for(incident.severity, meta.channels)
        payload = {"incident_id": incident.id, "key": incident.key, "rule_id": incident.rule_id,
                   "title": incident.title, "severity": incident.severity.value, "state": incident.state.value,
                   "group": dict(incident.group), "first_seen": incident.first_seen.isoformat(),
                   "last_seen": incident.last_seen.isoformat(), "post_count": incident.post_count,
                   "sample_post_ids": list(incident.sample_post_ids), "summary": dict(incident.summary)}
        self.store.enqueue([Notification(id=None, channel=c, kind=kind, payload=payload,
                                         dedup_key=dedup_key(incident), incident_id=incident.id)
                            for c in channels], now)

    def signals_split(self, signals: Sequence[Signal]) -> tuple[list[Finding], list[Recovery]]:
        findings = [s for s in signals if isinstance(s, Finding)]
        recoveries = [s for s in signals if isinstance(s, Recovery)]
        return findings, recoveries
