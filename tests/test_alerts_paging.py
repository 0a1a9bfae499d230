"""PagerDuty and Opsgenie channels against loopback peers that check requests like the real APIs."""

import json

import pytest
from alert_peers import OpsgeniePeer, PagerDutyPeer
from alert_samples import HOSTILE, digest_notification, incident_notification

from monitor.alerts.base import CHANNELS, Unsupported
from monitor.alerts.payload import marker
from monitor.alerts.base import MissingSecret
from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.models import Severity


@pytest.fixture
def pd_peer():
    peer = PagerDutyPeer()
    yield peer
    peer.close()


@pytest.fixture
def og_peer():
    peer = OpsgeniePeer()
    yield peer
    peer.close()


def channel(type_: str, **options):
    cls = CHANNELS.get(type_)
    return cls("c", cls.Options.model_validate(options))


def test_pagerduty_trigger_acknowledge_resolve_deduplicated(pd_peer):
    pd = channel("pagerduty", base_url=pd_peer.url, routing_key=pd_peer.routing_key)
    refs = pd.deliver(incident_notification("trigger", title="x" * 2000))
    pd.deliver(incident_notification("trigger", attempts=2, title="x" * 2000))  # a resend after a crash
    assert pd.deliver(incident_notification("update")) == {}  # updates stay out of PagerDuty by default
    pd.deliver(incident_notification("acknowledge"))
    pd.deliver(incident_notification("resolve"))
    assert [e["event_action"] for e in pd_peer.events] == ["trigger", "trigger", "acknowledge", "resolve"]
    [(dedup, alert)] = pd_peer.alerts.items()
    assert pd_peer.opened == 1 and alert["status"] == "resolved" and refs == {"dedup_key": dedup}
    trigger = pd_peer.events[0]
    payload = trigger["payload"]
    assert len(payload["summary"]) == 1024 and payload["severity"] == "error" and payload["source"]
    assert payload["custom_details"]["top_complaints"][0]["count"] == 20
    assert trigger["links"] == [{"href": "https://play.example.com/r/1", "text": "play:1"}]  # javascript: dropped
    assert dedup == incident_notification().dedup_key and len(dedup) <= 255


def test_pagerduty_severity_mapping_and_escalation(pd_peer):
    pd = channel("pagerduty", base_url=pd_peer.url, routing_key=pd_peer.routing_key,
                 severities={"critical": "critical", "high": "warning"})
    pd.deliver(incident_notification("trigger"))
    pd.deliver(incident_notification("escalate", severity=Severity.CRITICAL))
    assert [e["payload"]["severity"] for e in pd_peer.events] == ["warning", "critical"]
    assert pd_peer.opened == 1


def test_pagerduty_classifies_errors(pd_peer):
    pd = channel("pagerduty", base_url=pd_peer.url, routing_key=pd_peer.routing_key)
    pd_peer.fail_next(429, {"Retry-After": "7"}, {"status": "throttle event"})
    with pytest.raises(DeliveryError) as limited:
        pd.deliver(incident_notification())
    assert limited.value.retry_after == 7 and not isinstance(limited.value, PermanentDeliveryError)
    pd_peer.fail_next(502, body="bad gateway")
    with pytest.raises(DeliveryError) as server:
        pd.deliver(incident_notification())
    assert not isinstance(server.value, PermanentDeliveryError)
    wrong = channel("pagerduty", base_url=pd_peer.url, routing_key="W" * 32)
    with pytest.raises(PermanentDeliveryError, match="Invalid routing key"):
        wrong.deliver(incident_notification())
    assert pd_peer.alerts == {}


def test_pagerduty_routing_key_from_the_environment(pd_peer, monkeypatch):
    monkeypatch.setenv("PD_KEY_FOR_TEST", pd_peer.routing_key)
    pd = channel("pagerduty", base_url=pd_peer.url, routing_key_env="PD_KEY_FOR_TEST")
    pd.deliver(incident_notification())
    assert pd_peer.opened == 1
    monkeypatch.delenv("PD_KEY_FOR_TEST")
    with pytest.raises(MissingSecret, match="PD_KEY_FOR_TEST .options.routing_key_env. is not set"):
        channel("pagerduty", base_url=pd_peer.url, routing_key_env="PD_KEY_FOR_TEST")


def test_pagerduty_options_are_validated():
    cls = CHANNELS.get("pagerduty")
    with pytest.raises(ValueError, match="routing_key"):
        cls.Options.model_validate({})
    with pytest.raises(ValueError, match="either routing_key or routing_key_env"):
        cls.Options.model_validate({"routing_key": "k", "routing_key_env": "K"})
    with pytest.raises(ValueError, match="routing_keys"):
        cls.Options.model_validate({"routing_keys": "typo"})


def test_pagerduty_does_not_take_digests(pd_peer):
    pd = channel("pagerduty", base_url=pd_peer.url, routing_key=pd_peer.routing_key)
    with pytest.raises(Unsupported):
        pd.deliver(digest_notification())
    assert pd_peer.requests == []


def test_opsgenie_alert_lifecycle_by_alias(og_peer):
    og = channel("opsgenie", base_url=og_peer.url, api_key=og_peer.api_key, tags=["exchange"])
    og.deliver(incident_notification("trigger", title="t" * 300))
    og.deliver(incident_notification("trigger", attempts=2, title="t" * 300))  # resend: same alias, count 2
    og.deliver(incident_notification("update", notification_id=2))
    og.deliver(incident_notification("update", notification_id=2, attempts=2))  # resend of a note: not added
    og.deliver(incident_notification("escalate", notification_id=3, severity=Severity.CRITICAL))
    og.deliver(incident_notification("acknowledge", notification_id=4))
    og.deliver(incident_notification("resolve", notification_id=5))
    alias = marker(incident_notification().dedup_key)
    [(key, alert)] = og_peer.alerts.items()
    assert key == alias and alert["count"] == 2 and alert["priority"] == "P1" and alert["acknowledged"]
    assert alert["status"] == "closed" and len(alert["message"]) == 130
    assert len(alert["notes"]) == 2 and "notification 2]" in alert["notes"][0]
    create = json.loads(og_peer.requests[0].body)
    assert create["priority"] == "P2" and "exchange" in create["tags"] and create["details"]["Posts"]


def test_opsgenie_bad_key_is_permanent(og_peer):
    og = channel("opsgenie", base_url=og_peer.url, api_key="wrong")
    with pytest.raises(PermanentDeliveryError, match="401"):
        og.deliver(incident_notification())


def test_paging_text_is_plain_and_carries_no_markup_from_posts(pd_peer):
    pd = channel("pagerduty", base_url=pd_peer.url, routing_key=pd_peer.routing_key)
    pd.deliver(incident_notification())
    details = pd_peer.events[0]["payload"]["custom_details"]
    # PagerDuty shows custom details as text: the post is carried as text, controls stripped
    assert details["top_complaints"][0]["text"] == HOSTILE
