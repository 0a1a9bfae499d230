"""Alert routing, notification policy and delivery settings (the `routes`, `route_defaults`,
`inhibit_rules` and `delivery` sections of the config). Semantics: docs/alerting.md."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config.types import Duration
from ..models import Severity
from .matchers import MatcherField, matches_all


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RouteDefaults(_Strict):
    """Timers for routes that do not set their own, and for channels a rule names itself."""

    group_wait: Duration = timedelta(seconds=30)  # after an incident opens, before its first notification
    group_interval: Duration = timedelta(minutes=5)  # at least this long between two notifications of a change
    repeat_interval: Duration | None = timedelta(hours=4)  # re-notify an unchanged open incident; null: never
    send_resolved: bool = True  # tell the channel when the incident resolves


class RouteSettings(_Strict):
    """Which incidents go to which channels. Every condition given must hold (all empty: match all)."""

    channels: list[str]
    severity_at_least: Severity | None = None
    severity: list[Severity] = Field(default_factory=list)  # any of these
    categories: list[str] = Field(default_factory=list)  # the incident's category is one of these
    tags: list[str] = Field(default_factory=list)  # the rule has any of these tags
    rules: list[str] = Field(default_factory=list)  # rule ids
    matchers: list[MatcherField] = Field(default_factory=list)  # label matchers, all must hold
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    send_resolved: bool | None = None
    stop: bool = False  # when this route matches, later routes are not considered

    def matches(self, labels: dict) -> bool:
        severity = Severity(labels["severity"])
        if self.severity_at_least is not None and severity.rank < self.severity_at_least.rank:
            return False
        if self.severity and severity not in self.severity:
            return False
        if self.categories and labels.get("category") not in self.categories:
            return False
        if self.tags and not set(self.tags) & set(labels.get("tags", ())):
            return False
        if self.rules and labels.get("rule") not in self.rules:
            return False
        return matches_all(self.matchers, labels)


class InhibitRuleSettings(_Strict):
    """While an unresolved incident matches `source_matchers`, incidents that match
    `target_matchers` and have the same values for every label in `equal` are muted."""

    source_matchers: list[MatcherField] = Field(min_length=1)
    target_matchers: list[MatcherField] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class DeliverySettings(_Strict):
    interval: Duration = timedelta(seconds=30)  # how often the daemon sends due notifications
    max_attempts: int = Field(default=8, ge=1)  # then the notification is dead-lettered
    backoff: Duration = timedelta(seconds=30)  # delay before the first retry; doubles each time (with jitter)
    max_backoff: Duration = timedelta(hours=1)
    lease: Duration = timedelta(minutes=2)  # a claimed notification is re-sent after this if its worker died

    @model_validator(mode="after")
    def _positive(self) -> "DeliverySettings":
        for name in ("interval", "backoff", "max_backoff", "lease"):
            if getattr(self, name).total_seconds() <= 0:
                raise ValueError(f"delivery.{name} must be positive")
        return self
