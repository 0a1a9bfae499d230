"""What an outbox row carries, and the typed views channels read it through.

An incident notification's payload is a snapshot of the incident when the notification was
decided (so a retry an hour later sends what was true then); a digest's payload is what the
digest renderer produced. Channels never read the raw mapping: they get an AlertView or a
DigestView.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from ..models import Incident, Notification, NotificationKind, Severity
from ..store.timefmt import to_db

PAYLOAD_VERSION = 1
# the events behind a notification: kind TRIGGER = trigger, RESOLVE = resolve, UPDATE = the rest
EVENTS = ("trigger", "update", "escalate", "repeat", "acknowledge", "resolve")


@dataclass(frozen=True)
class ClusterItem:
    size: int
    text: str  # masked, shortened representative text
    url: str
    post: str  # source:external_id


@dataclass(frozen=True)
class Example:
    post: str
    url: str
    source: str


@dataclass(frozen=True)
class IncidentSummary:
    """A typed view of `Incident.summary` for renderers."""

    observed: float | None = None
    expected: float | None = None
    trend: str = "new"  # new, rising, steady, falling
    languages: Mapping[str, int] | None = None
    sources: Mapping[str, int] | None = None
    categories: Mapping[str, int] | None = None
    clusters: tuple[ClusterItem, ...] = ()
    examples: tuple[Example, ...] = ()
    resolved_because: str | None = None
    note: str | None = None  # a person's comment on ack or resolve

    @property
    def ratio(self) -> float | None:
        if self.observed is None or not self.expected:
            return None
        return self.observed / self.expected

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> "IncidentSummary":
        return cls(observed=number(m, ("observed",)), expected=number(m, ("expected",)),
                   trend=str(m.get("trend") or "new"), languages=dict(m.get("languages") or {}),
                   sources=dict(m.get("sources") or {}), categories=dict(m.get("categories") or {}),
                   clusters=tuple(ClusterItem(int(c.get("size", 1)), str(c.get("text", "")), str(c.get("url", "")),
                                              str(c.get("post", ""))) for c in m.get("clusters") or ()),
                   examples=tuple(Example(str(e.get("post", "")), str(e.get("url", "")), str(e.get("source", "")))
                                  for e in m.get("examples") or ()),
                   resolved_because=m.get("resolved_because"), note=m.get("note"))


def number(evidence: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = evidence.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def dedup_key(incident: Incident) -> str:
    """Stable for the life of one incident, and at most 255 characters (PagerDuty's limit).

    Receivers merge on it: PagerDuty dedup_key, Opsgenie alias, the Jira/GitHub label.
    """
    key = f"monitor/{incident.id}/{incident.key}"
    if len(key) <= 200:
        return key
    return f"monitor/{incident.id}/{incident.key[:150]}~{hashlib.sha256(incident.key.encode()).hexdigest()[:16]}"


def marker(dedup: str) -> str:
    """A short label derived from the dedup key (Jira/GitHub labels: no spaces, at most 50 chars)."""
    return "monitor-" + hashlib.sha256(dedup.encode()).hexdigest()[:16]


def alert_payload(incident: Incident, event: str, at: datetime, *, description: str = "",
                  tags: tuple[str, ...] = (), owner: str = "") -> dict[str, Any]:
    summary = {k: v for k, v in incident.summary.items() if k not in ("series", "hourly", "refreshed_at_findings", "refreshed_posts")}
    return {
        "version": PAYLOAD_VERSION, "event": event, "at": to_db(at),
        "incident": {
            "id": incident.id, "key": incident.key, "rule_id": incident.rule_id, "title": incident.title,
            "description": description, "severity": incident.severity.value, "state": incident.state.value,
            "group": dict(incident.group), "first_seen": to_db(incident.first_seen),
            "last_seen": to_db(incident.last_seen), "opened_at": to_db(incident.opened_at),
            "acknowledged_at": to_db(incident.acknowledged_at), "resolved_at": to_db(incident.resolved_at),
            "finding_count": incident.finding_count, "post_count": incident.post_count,
            "tags": list(tags), "owner": owner,
        },
        "summary": summary,
    }


@dataclass(frozen=True)
class AlertView:
    notification_id: int | None
    kind: NotificationKind
    event: str
    at: str
    dedup_key: str
    incident_id: int | None
    key: str
    rule_id: str
    title: str
    description: str
    severity: Severity
    state: str
    group: Mapping[str, str]
    first_seen: str
    last_seen: str
    finding_count: int
    post_count: int
    tags: tuple[str, ...]
    owner: str
    summary: IncidentSummary
    attempts: int = 1
    payload: Mapping[str, Any] = field(default_factory=dict)  # the raw outbox payload (webhooks forward it)

    @property
    def status_word(self) -> str:
        return {"trigger": "FIRING", "escalate": "ESCALATED", "repeat": "STILL FIRING", "acknowledge": "ACKNOWLEDGED",
                "resolve": "RESOLVED"}.get(self.event, "UPDATE")

    @property
    def group_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.group.items()))

    @classmethod
    def from_notification(cls, n: Notification) -> "AlertView":
        p = n.payload
        inc: Mapping[str, Any] = p.get("incident") or {}
        event = str(p.get("event") or {NotificationKind.TRIGGER: "trigger", NotificationKind.RESOLVE: "resolve"}
                    .get(n.kind, "update"))
        try:
            severity = Severity(inc.get("severity", "medium"))
        except ValueError:
            severity = Severity.MEDIUM
        return cls(notification_id=n.id, kind=n.kind, event=event, at=str(p.get("at") or ""), dedup_key=n.dedup_key,
                   incident_id=n.incident_id, key=str(inc.get("key", "")), rule_id=str(inc.get("rule_id", "")),
                   title=str(inc.get("title") or inc.get("rule_id") or "incident"),
                   description=str(inc.get("description") or ""), severity=severity,
                   state=str(inc.get("state", "open")), group={str(k): str(v) for k, v in (inc.get("group") or {}).items()},
                   first_seen=str(inc.get("first_seen") or ""), last_seen=str(inc.get("last_seen") or ""),
                   finding_count=int(inc.get("finding_count") or 0), post_count=int(inc.get("post_count") or 0),
                   tags=tuple(str(t) for t in inc.get("tags") or ()), owner=str(inc.get("owner") or ""),
                   summary=IncidentSummary.from_mapping(p.get("summary") or {}), attempts=n.attempts,
                   payload=p)


@dataclass(frozen=True)
class Image:
    cid: str
    filename: str
    mime: str
    content: bytes


@dataclass(frozen=True)
class DigestView:
    """A digest: {"subject", "text", "html", "markdown", "images": [{cid, filename, mime, content_b64}]}."""

    notification_id: int | None
    subject: str
    text: str
    html: str | None
    markdown: str | None
    images: tuple[Image, ...]
    dedup_key: str = ""
    attempts: int = 1
    payload: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_notification(cls, n: Notification) -> "DigestView":
        p = n.payload
        images = []
        for i, item in enumerate(p.get("images") or ()):
            try:
                content = base64.b64decode(item["content_b64"], validate=True)
            except (KeyError, TypeError, binascii.Error) as exc:
                raise ValueError(f"digest image {i} is not valid base64 content: {exc}") from None
            images.append(Image(cid=str(item.get("cid") or f"image{i}"), filename=str(item.get("filename") or f"chart{i}.png"),
                                mime=str(item.get("mime") or "image/png"), content=content))
        return cls(notification_id=n.id, subject=str(p.get("subject") or "Digest"), text=str(p.get("text") or ""),
                   html=p.get("html"), markdown=p.get("markdown"), images=tuple(images), dedup_key=n.dedup_key,
                   attempts=n.attempts, payload=p)
