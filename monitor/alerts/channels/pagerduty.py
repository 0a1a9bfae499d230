"""PagerDuty Events API v2: trigger, acknowledge and resolve, deduplicated by dedup_key.

The dedup_key is derived from the incident (monitor/<id>/<key>), so a trigger sent twice
after a crash lands on the same PagerDuty alert, and the resolve closes it. Updates and
repeats are not sent by default (PagerDuty escalates by itself); a worse severity is sent
as a new trigger on the same dedup_key.
"""

from __future__ import annotations

from typing import Literal, Mapping

from pydantic import Field, SecretStr, model_validator

from ...text.escape import plain_url
from ..base import Channel, HttpOptions, require_secret
from ..payload import AlertView
from ..render import clip, facts, headline
from .http import Http

PdSeverity = Literal["critical", "error", "warning", "info"]
SUMMARY_LIMIT = 1024
DEFAULT_SEVERITIES: dict[str, PdSeverity] = {"critical": "critical", "high": "error", "medium": "warning",
                                             "low": "info", "info": "info"}


class PagerDutyOptions(HttpOptions):
    routing_key: SecretStr | None = None  # the integration key of an Events API v2 integration
    routing_key_env: str | None = None
    source: str = "feedback-monitor"
    component: str | None = None
    group: str | None = None
    event_class: str | None = None
    severities: dict[str, PdSeverity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    send_updates: bool = False  # also send updates and repeats (as triggers appended to the alert)

    @model_validator(mode="after")
    def _key(self) -> "PagerDutyOptions":
        require_secret(self, "routing_key")
        return self


class PagerDutyChannel(Channel):
    type = "pagerduty"
    Options = PagerDutyOptions
    options: PagerDutyOptions

    def __init__(self, name: str, options: PagerDutyOptions) -> None:
        super().__init__(name, options)
        self.routing_key = options.resolve_secret("routing_key")
        self.http = Http(options.base_url or "https://events.pagerduty.com", options.timeout, f"pagerduty {name}")

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        action = {"trigger": "trigger", "escalate": "trigger", "acknowledge": "acknowledge",
                  "resolve": "resolve"}.get(alert.event)
        if action is None:
            if not self.options.send_updates:
                return None
            action = "trigger"
        body: dict = {"routing_key": self.routing_key, "event_action": action, "dedup_key": alert.dedup_key}
        if action == "trigger":
            o = self.options
            payload = {"summary": headline(alert, SUMMARY_LIMIT), "source": o.source,
                       "severity": o.severities.get(alert.severity.value, "warning"), "timestamp": alert.at or None,
                       "component": o.component, "group": o.group, "class": o.event_class,
                       "custom_details": self._details(alert)}
            body["payload"] = {k: v for k, v in payload.items() if v is not None}
            body["client"] = "feedback-monitor"
            links = [{"href": plain_url(c.url), "text": clip(c.post, 100)} for c in alert.summary.clusters
                     if plain_url(c.url)]
            if links:
                body["links"] = links[:5]
        response = self.http.request("POST", "/v2/enqueue", json=body)
        answer = self.http.json(response)
        return {"dedup_key": str(answer.get("dedup_key") or alert.dedup_key)}

    @staticmethod
    def _details(alert: AlertView) -> dict:
        details: dict = dict(facts(alert))
        details["top_complaints"] = [{"count": c.size, "text": c.text, "url": plain_url(c.url)}
                                     for c in alert.summary.clusters]
        details["incident_id"] = alert.incident_id
        if alert.description:
            details["description"] = alert.description
        return details

    def close(self) -> None:
        self.http.close()
