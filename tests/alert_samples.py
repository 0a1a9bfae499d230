"""Sample outbox rows for channel tests: an incident notification with hostile post text, and a
digest with an inline chart."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta

from conftest import T0

from monitor.alerts.payload import alert_payload, dedup_key
from monitor.models import Incident, IncidentState, Notification, NotificationKind, Severity

HOSTILE = ("<!channel> @here @alice *bold* _it_ [click](http://phish.example) <script>alert(1)</script> "
           "{color:red}x{color} [~admin] #12 <http://evil.example|Click me>")
# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

KINDS = {"trigger": NotificationKind.TRIGGER, "resolve": NotificationKind.RESOLVE}


def sample_incident(title: str = "Withdrawal complaints surge", severity: Severity = Severity.HIGH,
                    state: IncidentState = IncidentState.OPEN, incident_id: int = 7) -> Incident:
    return Incident(
        id=incident_id, key="withdrawals-stuck|category=deposit_withdrawal|app_version=<!here>",
        rule_id="withdrawals-stuck", group={"category": "deposit_withdrawal", "app_version": "<!here>"},
        state=state, severity=severity, title=title, first_seen=T0, last_seen=T0 + timedelta(minutes=40),
        finding_count=5, post_count=42,
        summary={"observed": 42, "expected": 3.5, "trend": "rising", "languages": {"en": 30, "zh": 12},
                 "sources": {"play-okx": 42}, "categories": {"deposit_withdrawal": 42},
                 "clusters": [{"size": 20, "text": HOSTILE, "url": "https://play.example.com/r/1", "post": "play:1"},
                              {"size": 5, "text": "提现一直在处理中", "url": "javascript:alert(1)", "post": "play:2"}],
                 "examples": [{"post": "play:1", "url": "https://play.example.com/r/1", "source": "play-okx"}]},
        opened_at=T0)


def incident_notification(event: str = "trigger", notification_id: int = 1, attempts: int = 1, channel: str = "c",
                          **incident_changes) -> Notification:
    incident = sample_incident(**incident_changes)
    if event == "resolve":
        incident = replace(incident, state=IncidentState.RESOLVED, resolved_at=T0 + timedelta(hours=1),
                           summary={**incident.summary, "resolved_because": "back to baseline"})
    payload = alert_payload(incident, event, T0 + timedelta(minutes=41), description="Users report stuck withdrawals.",
                            tags=("funds",), owner="payments")
    return Notification(id=notification_id, channel=channel, kind=KINDS.get(event, NotificationKind.UPDATE),
                        payload=payload, dedup_key=dedup_key(incident), incident_id=incident.id, attempts=attempts)


def digest_notification(notification_id: int = 50, images: int = 1, html: bool = True) -> Notification:
    payload = {"subject": "Daily digest: 1,234 posts, 2 incidents",
               "text": "Daily digest\n\nVolume: 1,234 posts (+12%)\nTop complaint: withdrawals stuck (42)",
               "html": ('<html><body><h1>Daily digest</h1><p>Volume: 1,234</p>'
                        + "".join(f'<img src="cid:chart{i}" alt="chart {i}">' for i in range(images))
                        + "</body></html>") if html else None,
               "markdown": "**Daily digest**\n\n- Volume: 1,234 posts (+12%)",
               "images": [{"cid": f"chart{i}", "filename": f"chart{i}.png", "mime": "image/png",
                           "content_b64": base64.b64encode(PNG).decode()} for i in range(images)]}
    return Notification(id=notification_id, channel="c", kind=NotificationKind.DIGEST, payload=payload,
                        dedup_key=f"digest/{notification_id}", attempts=1)
