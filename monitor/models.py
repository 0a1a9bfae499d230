"""Typed records that travel between the pipeline's stages.

Everything here is a frozen dataclass: stages hand these to each other and to the store, never
dicts of dicts. Times are timezone-aware UTC datetimes; conversion to the user's timezone
happens only at the edges (CLI output, digests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Mapping


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Category(StrEnum):
    """The complaint taxonomy every post is sorted into (multi-label)."""

    OUTAGE = "outage"  # outage / technical: app down, crashes, errors, slowness
    ACCOUNT = "account"  # login, 2FA, KYC, frozen or restricted accounts
    FUNDS = "deposit_withdrawal"  # deposits missing, withdrawals stuck
    TRADING = "trading"  # orders, liquidation, fees, slippage, P2P
    SECURITY = "security"  # hacked account, stolen funds, phishing, fake support, SIM swap
    SUGGESTION = "suggestion"  # product suggestion / feature request
    PRAISE = "praise"
    OTHER = "other"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NotificationKind(StrEnum):
    TRIGGER = "trigger"
    UPDATE = "update"
    RESOLVE = "resolve"
    DIGEST = "digest"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENT = "sent"
    DEAD = "dead"  # gave up after the last retry; `monitor outbox retry` revives it
    SUPPRESSED = "suppressed"  # silenced or inhibited: kept for the record, never sent


def utc(dt: datetime) -> datetime:
    """Return `dt` as an aware UTC datetime (naive input is taken to be UTC already)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Post:
    """One public post, review or forum entry, as a source saw it."""

    source_type: str  # plugin type: twitter, google_play, app_store, rss, file...
    source: str  # the configured source's name; (source, external_id) is unique
    external_id: str  # the source's own id
    text: str
    created_at: datetime  # event time, aware UTC
    fetched_at: datetime | None = None
    url: str | None = None
    author: str | None = None
    title: str | None = None
    lang: str | None = None  # the source's own language hint, if any
    rating: int | None = None  # 1..5 for store reviews
    app_version: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None  # the store's row id, once stored

    @property
    def key(self) -> str:
        """Human-usable identity, `source:external_id` (used by the CLI and in findings)."""
        return f"{self.source}:{self.external_id}"

    @property
    def full_text(self) -> str:
        """Title and body together, as enrichment and matching see them."""
        if self.title and self.title not in self.text:
            return f"{self.title}\n{self.text}" if self.text else self.title
        return self.text


@dataclass(frozen=True, slots=True)
class CategoryScore:
    name: str  # a Category value, or a user-defined category from YAML lexicons
    score: float  # 0..1


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What enrichment learned about one post."""

    lang: str  # ISO 639-1 code, or "und" when unknown
    sentiment: Sentiment
    sentiment_score: float  # -1 (very negative) .. 1 (very positive)
    categories: tuple[CategoryScore, ...] = ()  # best first; only those that apply
    security: bool = False  # a security complaint (takeover, theft, phishing, impersonation)
    sensitive: tuple[str, ...] = ()  # kinds of exposed data: seed_phrase, private_key, otp, email, phone
    backend: str = ""  # which sentiment backend produced it

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)


@dataclass(frozen=True, slots=True)
class EnrichedPost:
    post: Post
    enrichment: Enrichment


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's claim that something needs attention, at an event time."""

    rule_id: str
    event_time: datetime  # aware UTC: the post's time, or the end of the window that fired
    severity: Severity
    group: Mapping[str, str]  # values of the rule's group_by fields
    post_ids: tuple[int, ...]  # the posts that make the evidence
    evidence: Mapping[str, Any] = field(default_factory=dict)  # observed/expected counts, terms...
    fingerprint: str = ""  # idempotency key within the rule: the same fingerprint is one finding
    title: str = ""

    @property
    def group_key(self) -> str:
        return group_key(self.rule_id, self.group)


@dataclass(frozen=True, slots=True)
class Recovery:
    """A detector's statement that a group is back to normal (lets incidents resolve by themselves)."""

    rule_id: str
    group: Mapping[str, str]
    event_time: datetime

    @property
    def group_key(self) -> str:
        return group_key(self.rule_id, self.group)


def group_key(rule_id: str, group: Mapping[str, str]) -> str:
    """Stable incident key: `rule_id` then the group values in key order."""
    if not group:
        return rule_id
    return rule_id + "|" + "|".join(f"{k}={group[k]}" for k in sorted(group))


@dataclass(frozen=True, slots=True)
class Incident:
    id: int | None
    key: str  # group_key(rule_id, group); at most one unresolved incident per key
    rule_id: str
    group: Mapping[str, str]
    state: IncidentState
    severity: Severity
    title: str
    first_seen: datetime
    last_seen: datetime
    finding_count: int = 0
    post_count: int = 0
    summary: Mapping[str, Any] = field(default_factory=dict)
    sample_post_ids: tuple[int, ...] = ()
    opened_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    refs: Mapping[str, str] = field(default_factory=dict)  # ids in external systems, per channel


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one channel: a row of the outbox."""

    id: int | None
    channel: str
    kind: NotificationKind
    payload: Mapping[str, Any]
    dedup_key: str  # stable per incident and channel: PagerDuty dedup_key, Opsgenie alias...
    incident_id: int | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_try_at: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
