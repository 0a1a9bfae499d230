"""Test doubles for the pipeline: a keyword detector and a recording channel."""

from __future__ import annotations

from monitor.alerts.base import Channel
from monitor.detect.base import DetectBatch, DetectContext, Detector
from monitor.errors import DeliveryError
from monitor.models import Finding, Notification, Severity


class KeywordDetector(Detector):
    """Fires one finding per post containing `word` (grouped into one incident per rule)."""

    name = "keyword"

    def __init__(self, word: str, rule_id: str = "kw", severity: Severity = Severity.HIGH) -> None:
        self.word, self.rule_id, self.severity = word, rule_id, severity

    def observe(self, batch: DetectBatch, ctx: DetectContext) -> list:
        return [Finding(rule_id=self.rule_id, event_time=item.post.created_at, severity=self.severity, group={},
                        post_ids=(item.post.id,), fingerprint=f"post:{item.post.id}", title=f"posts about {self.word}")
                for item in batch.posts if self.word in item.post.text.lower()]


class RecordingChannel(Channel):
    type = "recording"

    def __init__(self, name: str = "rec", fail_times: int = 0) -> None:
        super().__init__(name, Channel.Options())
        self.sent: list[Notification] = []
        self.fail_times = fail_times

    def deliver(self, notification: Notification, refs=None) -> dict[str, str]:
        if self.fail_times:
            self.fail_times -= 1
            raise DeliveryError("receiver said 503")
        self.sent.append(notification)
        return {"id": f"ext-{notification.incident_id}"}


def route_all(app, *channels: str, **timers) -> None:
    """Route every incident of `app` to these channels (timers: group_wait=..., group_interval=...)."""
    from monitor.alerts.policy import Router
    from monitor.alerts.settings import RouteSettings

    app.incidents.router = Router([RouteSettings(channels=list(channels), **timers)],
                                  app.config.settings.route_defaults)
