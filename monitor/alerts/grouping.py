"""Findings become incidents; incident changes become outbox rows, in the same transaction.

One unresolved incident per key (the rule id and its group_by values). Everything is decided
in event time: a finding first lets its incident catch up to the finding's time (a quiet
period that ran out resolves it, a notification that fell due goes out), then joins it. So a
replay in chunks of any size decides exactly what a live run decides, tick by tick.

An incident resolves when the quiet period (the rule's resolve_after, at least the detection
bucket plus lateness) passes with no new finding, at last_seen + that period; when a detector
reports a Recovery; or by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable, Sequence

from ..clock import Clock, WallClock
from ..errors import MonitorError
from ..models import (DeliveryStatus, Finding, Incident, IncidentState, Notification, NotificationKind, Recovery,
                      Severity)
from ..store import SqliteStore, StoredFinding
from ..store.alerting import ChannelState
from .matchers import incident_labels
from .payload import alert_payload, dedup_key
from .policy import Muter, Router, next_due
from .settings import InhibitRuleSettings
from .summary import Summarizer

MAX_SAMPLES = 20
FAST_EVENTS = ("trigger", "escalate")  # decided without waiting for detection to settle
MAX_STEPS = 1000  # policy events handled per incident per call (a safety net, never reached in practice)


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


class IncidentManager:
    def __init__(self, store: SqliteStore, rule_meta: Callable[[str], RuleMeta], router: Router | None = None,
                 inhibit_rules: Sequence[InhibitRuleSettings] = (), wall: Clock | None = None,
                 min_quiet: timedelta = timedelta(0), settle: timedelta = timedelta(0)) -> None:
        self.store = store
        self.rule_meta = rule_meta
        self.router = router or Router()
        self.summarizer = Summarizer(store)
        self.muter = Muter(store, inhibit_rules, self.labels)
        self.wall = wall or WallClock()  # outbox timestamps: delivery runs on the wall clock
        # never call a group quiet before detection could have judged its next window (bucket +
        # lateness): live and replay would otherwise disagree about late findings
        self.min_quiet = min_quiet
        # detection sees every finding up to `now - settle` (windows are judged `lateness` after
        # they close): updates, reminders and quiet resolutions wait for that
        self.settle = settle

    def labels(self, incident: Incident) -> dict:
        meta = self.rule_meta(incident.rule_id)
        return incident_labels(incident, meta.tags, meta.owner)

    # --- detection -------------------------------------------------------------------

    def apply(self, stored: Sequence[StoredFinding], recoveries: Sequence[Recovery], now: datetime) -> None:
        """Fold new findings and recoveries into incidents (call inside the detection transaction).

        In event-time order: when the clock jumped over several buckets (replay, a restart), a
        recovery must close the incident before a later finding opens the next one.
        """
        events = [(item.finding.event_time, 0, item) for item in stored] + \
                 [(recovery.event_time, 1, recovery) for recovery in recoveries]
        for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
            if not isinstance(event, Recovery):
                self._add_finding(event)
                continue
            incident = self.store.open_incident_for(event.group_key)
            if incident is None or event.event_time < incident.last_seen:
                continue
            incident = self.advance(incident, event.event_time)
            if incident.state != IncidentState.RESOLVED:
                self._resolve(incident, event.event_time, "back to baseline")

    def tick(self, now: datetime) -> None:
        """Let every unresolved incident catch up to `now`: quiet resolution and due notifications."""
        for _ in range(3):
            resolved = False
            for incident in self.store.list_incidents((IncidentState.OPEN, IncidentState.ACKNOWLEDGED),
                                                      limit=100_000):
                resolved |= self.advance(incident, now, now - self.settle).state == IncidentState.RESOLVED
            if not (resolved and self.muter.inhibit_rules):
                break  # another pass only when a resolution may have released an inhibited incident

    def _add_finding(self, item: StoredFinding) -> None:
        f: Finding = item.finding
        meta = self.rule_meta(f.rule_id)
        incident = self.store.open_incident_for(f.group_key)
        if incident is not None:
            incident = self.advance(incident, f.event_time)
        if incident is None or incident.state == IncidentState.RESOLVED:
            incident = self.store.insert_incident(Incident(
                id=None, key=f.group_key, rule_id=f.rule_id, group=dict(f.group), state=IncidentState.OPEN,
                severity=f.severity, title=f.title or meta.title or f.rule_id, first_seen=f.event_time,
                last_seen=f.event_time, finding_count=1, post_count=0, sample_post_ids=tuple(f.post_ids[:MAX_SAMPLES]),
                opened_at=f.event_time), self.wall.now())
        else:
            samples = tuple(dict.fromkeys(incident.sample_post_ids + tuple(f.post_ids)))[:MAX_SAMPLES]
            incident = replace(
                incident, last_seen=max(incident.last_seen, f.event_time),
                first_seen=min(incident.first_seen, f.event_time), finding_count=incident.finding_count + 1,
                severity=max(incident.severity, f.severity, key=lambda s: s.rank), sample_post_ids=samples)
        incident = self.summarizer.add_finding(incident, f)
        self.store.update_incident(incident, self.wall.now())
        self.store.link_findings([item.id], incident.id)
        self._route(incident, meta, f.event_time)
        self.advance(incident, f.event_time)

    # --- people ----------------------------------------------------------------------

    def acknowledge(self, incident_id: int, now: datetime, by: str = "", comment: str | None = None) -> Incident:
        with self.store.transaction():
            incident = self._get(incident_id)
            if incident.state != IncidentState.OPEN:
                raise MonitorError(f"incident {incident_id} is {incident.state.value}; only open incidents can be "
                                   "acknowledged")
            note = f"acknowledged by {by}" + (f": {comment}" if comment else "") if by else comment
            incident = replace(incident, state=IncidentState.ACKNOWLEDGED, acknowledged_at=now,
                               summary={**incident.summary, **({"note": note} if note else {})})
            self.store.update_incident(incident, self.wall.now())
            for state in self.store.channel_states(incident_id):
                if state.triggered and not state.resolved_sent:
                    self._enqueue(incident, state, "acknowledge", now)
        return incident

    def resolve(self, incident_id: int, now: datetime, by: str = "", comment: str | None = None) -> Incident:
        with self.store.transaction():
            incident = self._get(incident_id)
            if incident.state == IncidentState.RESOLVED:
                raise MonitorError(f"incident {incident_id} is already resolved")
            reason = f"resolved by {by}" if by else "resolved by hand"
            return self._resolve(incident, now, reason, note=comment)

    def _get(self, incident_id: int) -> Incident:
        incident = self.store.get_incident(incident_id)
        if incident is None:
            raise MonitorError(f"there is no incident {incident_id} (see `monitor incidents list`)")
        return incident

    # --- policy ----------------------------------------------------------------------

    def advance(self, incident: Incident, t: datetime, settled: datetime | None = None) -> Incident:
        """Handle everything due for this incident up to event time `t`, earliest first.

        Triggers and escalations go out once due by `t`; updates, reminders and the quiet
        resolution only once due by `settled` (<= t): the time up to which detection has seen
        every finding, so that what they report cannot depend on when the pass happened to run.
        """
        settled = t if settled is None else min(settled, t)
        meta = self.rule_meta(incident.rule_id)
        states = self.store.channel_states(incident.id)
        held: set[str] = set()
        for _ in range(MAX_STEPS):
            if incident.state == IncidentState.RESOLVED:
                break
            quiet_at = incident.last_seen + max(meta.resolve_after, self.min_quiet)
            due = [(when, i, event, s) for i, s in enumerate(states) if s.channel not in held
                   for when, event in [next_due(s, incident) or (None, None)]
                   if when is not None and when <= (t if event in FAST_EVENTS else settled)]
            step = min(due, key=lambda d: (d[0], d[1])) if due else None
            if step is not None and step[0] <= quiet_at:
                when, _, event, state = step
                incident, sent = self._fire(incident, state, event, when, t)
                if not sent:
                    held.add(state.channel)
            elif quiet_at <= settled:
                incident = self._resolve(incident, quiet_at, "quiet", states=states)
            else:
                break
        return incident

    def _route(self, incident: Incident, meta: RuleMeta, at: datetime) -> None:
        """Give every channel the incident routes to now a policy state (kept until it resolves)."""
        known = {s.channel for s in self.store.channel_states(incident.id)}
        for channel, timers in self.router.plan(self.labels(incident), meta.channels).items():
            if channel not in known:
                self.store.save_channel_state(ChannelState(
                    incident_id=incident.id, channel=channel, group_wait=timers.group_wait,
                    group_interval=timers.group_interval, repeat_interval=timers.repeat_interval,
                    send_resolved=timers.send_resolved, due_at=at + timers.group_wait))

    def _fire(self, incident: Incident, state: ChannelState, event: str, due: datetime,
              t: datetime) -> tuple[Incident, bool]:
        """Queue the notification, or hold it while muted (one suppressed row per hold, for the record)."""
        labels = self.labels(incident)
        at = self.muter.released_at(state.muted_by, due, t) if state.muted_by else due
        mute = self.muter.check(incident, labels, at)
        while mute is not None and mute.until is not None and mute.until <= t:
            at = mute.until
            mute = self.muter.check(incident, labels, at)
        incident = self._refreshed(incident, force=event in FAST_EVENTS)
        if mute is not None:
            if state.muted_by != mute.reason:
                self._enqueue(incident, state, event, at, muted=mute.reason)
                state.muted_by = mute.reason
                self.store.save_channel_state(state)
            return incident, False
        self._enqueue(incident, state, event, at)
        state.triggered, state.notified_at, state.muted_by = True, at, None
        state.notified_findings, state.notified_severity = incident.finding_count, incident.severity.value
        self.store.save_channel_state(state)
        return incident, True

    def _refreshed(self, incident: Incident, force: bool = False) -> Incident:
        """Clusters and examples brought up to date before a notification.

        Clustering costs far more than counting, so it is redone only when the incident has
        grown by a quarter (and ten posts) since (or when `force`: the first notification and the resolution).
        """
        summary = incident.summary
        done_posts = summary.get("refreshed_posts")
        if done_posts is not None and (summary.get("refreshed_at_findings") == incident.finding_count or (
                not force and incident.post_count < max(1.25 * done_posts, done_posts + 10))):
            return incident
        incident = self.summarizer.refresh(incident)
        incident = replace(incident, summary={**incident.summary, "refreshed_at_findings": incident.finding_count,
                                              "refreshed_posts": incident.post_count})
        self.store.update_incident(incident, self.wall.now())
        return incident

    def _resolve(self, incident: Incident, at: datetime, reason: str, note: str | None = None,
                 states: list[ChannelState] | None = None) -> Incident:
        incident = self._refreshed(incident, force=True)
        summary = {**incident.summary, "resolved_because": reason, **({"note": note} if note else {})}
        incident = replace(incident, state=IncidentState.RESOLVED, resolved_at=at, summary=summary)
        self.store.update_incident(incident, self.wall.now())
        for state in states if states is not None else self.store.channel_states(incident.id):
            if state.triggered and state.send_resolved and not state.resolved_sent:
                self._enqueue(incident, state, "resolve", at)
                state.resolved_sent = True
                self.store.save_channel_state(state)
        return incident

    def _enqueue(self, incident: Incident, state: ChannelState, event: str, at: datetime,
                 muted: str | None = None) -> None:
        meta = self.rule_meta(incident.rule_id)
        kind = {"trigger": NotificationKind.TRIGGER, "resolve": NotificationKind.RESOLVE}.get(event,
                                                                                            NotificationKind.UPDATE)
        payload = alert_payload(incident, event, at, description=meta.description, tags=meta.tags, owner=meta.owner)
        status = DeliveryStatus.SUPPRESSED if muted else DeliveryStatus.PENDING
        reason = None
        if muted:
            reason = ("silenced by " if muted.startswith("silence") else "inhibited by ") + muted
        self.store.enqueue([Notification(id=None, channel=state.channel, kind=kind, payload=payload,
                                         dedup_key=dedup_key(incident), incident_id=incident.id, status=status,
                                         last_error=reason)], self.wall.now())


__all__ = ["IncidentManager", "RuleMeta", "Router", "dedup_key"]
