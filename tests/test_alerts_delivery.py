"""The delivery worker: leases, retries with backoff and Retry-After, dead letters, references
kept on the incident, kinds a channel does not take, secrets kept out of the outbox."""

import random
from datetime import timedelta

from alert_peers import PagerDutyPeer
from alert_samples import digest_notification, incident_notification, sample_incident
from conftest import T0

from monitor.alerts.base import CHANNELS, Channel
from monitor.alerts.delivery import Dispatcher
from monitor.clock import ManualClock
from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.logging import register_secrets
from monitor.models import DeliveryStatus, Notification


class Scripted(Channel):
    """Fails as scripted, then succeeds; remembers what it was given."""

    type = "scripted"

    def __init__(self, name="c", errors=()):
        super().__init__(name, Channel.Options())
        self.errors = list(errors)
        self.calls: list[tuple[Notification, dict]] = []

    def deliver(self, notification, refs=None):
        self.calls.append((notification, dict(refs or {})))
        if self.errors:
            raise self.errors.pop(0)
        return {"issue": f"OPS-{notification.incident_id}"}


def queue(store, *notifications):
    return store.enqueue([Notification(None, n.channel, n.kind, n.payload, n.dedup_key, incident_id=n.incident_id)
                          for n in notifications], T0)


def dispatcher(store, channels, **kwargs):
    clock = ManualClock(T0)
    return Dispatcher(store, channels, clock, rng=random.Random(1), **kwargs), clock


def test_retry_after_then_backoff_then_dead_letter_and_manual_retry(store):
    channel = Scripted(errors=[DeliveryError("429", retry_after=7), DeliveryError("503"), DeliveryError("503")])
    d, clock = dispatcher(store, {"c": channel}, max_attempts=3, base_delay=timedelta(seconds=30))
    [nid] = queue(store, incident_notification(channel="c"))
    assert d.run().failed == 1
    [n] = store.list_outbox()
    assert n.next_try_at == T0 + timedelta(seconds=7) and n.attempts == 1 and n.last_error == "429"
    clock.advance_to(T0 + timedelta(seconds=7))
    d.run()
    [n] = store.list_outbox()
    delay = (n.next_try_at - clock.now()).total_seconds()
    assert 15 <= delay <= 60 and n.attempts == 2  # 30s doubled once, with jitter between half and full
    clock.advance_to(n.next_try_at)
    assert d.run().dead == 1
    assert store.list_outbox()[0].status == DeliveryStatus.DEAD
    assert store.retry_outbox([nid], clock.now()) == 1
    assert d.run().sent == 1 and store.outbox_counts() == {"sent": 1}


def test_permanent_errors_dead_letter_at_once(store):
    d, _ = dispatcher(store, {"c": Scripted(errors=[PermanentDeliveryError("HTTP 400: bad field")])})
    queue(store, incident_notification(channel="c"))
    assert d.run().dead == 1 and store.list_outbox()[0].last_error == "HTTP 400: bad field"


def test_references_are_kept_on_the_incident_and_given_back(store):
    channel = Scripted()
    d, _ = dispatcher(store, {"c": channel})
    incident = store.insert_incident(sample_incident(incident_id=None), T0)
    store.enqueue([Notification(None, "c", n.kind, n.payload, n.dedup_key, incident_id=incident.id)
                   for n in (incident_notification("trigger"), incident_notification("update"))], T0)
    assert d.run().sent == 2
    assert store.get_incident(incident.id).refs == {"c.issue": f"OPS-{incident.id}"}
    assert channel.calls[0][1] == {} and channel.calls[1][1] == {"issue": f"OPS-{incident.id}"}


def test_a_crashed_worker_leaves_a_lease_that_expires(store):
    d, clock = dispatcher(store, {"c": Scripted()}, lease=timedelta(minutes=2))
    queue(store, incident_notification(channel="c"))
    [claimed] = store.claim_due(clock.now(), 10, timedelta(minutes=2))  # a worker claims it, then dies
    assert d.run().sent == 0
    clock.advance_to(T0 + timedelta(minutes=2, seconds=1))
    assert d.run().sent == 1 and store.list_outbox()[0].attempts == 2


def test_kinds_a_channel_does_not_take_are_kept_as_suppressed(store):
    peer = PagerDutyPeer()
    try:
        pd = CHANNELS.get("pagerduty")("pd", CHANNELS.get("pagerduty").Options.model_validate(
            {"base_url": peer.url, "routing_key": peer.routing_key}))
        d, _ = dispatcher(store, {"pd": pd})
        n = digest_notification()
        store.enqueue([Notification(None, "pd", n.kind, n.payload, n.dedup_key)], T0)
        assert d.run().skipped == 1
        [row] = store.list_outbox()
        assert row.status == DeliveryStatus.SUPPRESSED and "do not send digests" in row.last_error
        assert peer.requests == []
    finally:
        peer.close()


def test_notifications_for_an_inactive_channel_say_why(store):
    d, _ = dispatcher(store, {}, unavailable={"pd": "PD_KEY not set"})
    n = incident_notification()
    store.enqueue([Notification(None, "pd", n.kind, n.payload, n.dedup_key, incident_id=7),
                   Notification(None, "gone", n.kind, n.payload, n.dedup_key, incident_id=7)], T0)
    assert d.run().dead == 2
    errors = sorted(r.last_error for r in store.list_outbox())
    assert errors == ["channel 'gone' is not active: it is not defined under channels",
                      "channel 'pd' is not active: PD_KEY not set"]


def test_secrets_never_reach_the_outbox(store):
    register_secrets({"xoxb-very-secret-token"})
    d, _ = dispatcher(store, {"c": Scripted(errors=[DeliveryError("POST failed for xoxb-very-secret-token")])})
    queue(store, incident_notification(channel="c"))
    d.run()
    assert store.list_outbox()[0].last_error == "POST failed for ********"


def test_a_crashing_channel_does_not_stop_the_others(store):
    class Broken(Scripted):
        def deliver(self, notification, refs=None):
            raise KeyError("bug")

    ok = Scripted("ok")
    d, _ = dispatcher(store, {"broken": Broken("broken"), "ok": ok})
    n = incident_notification()
    store.enqueue([Notification(None, c, n.kind, n.payload, n.dedup_key, incident_id=7) for c in ("broken", "ok")], T0)
    report = d.run()
    assert (report.sent, report.failed) == (1, 1) and len(ok.calls) == 1


def test_a_dead_trigger_retried_after_its_resolve_went_out_does_not_reopen_the_page(store):
    # the trigger was dead-lettered while the receiver was down, the resolve got through later;
    # `monitor outbox retry --all` must not page now for an incident that is over
    channel = Scripted(errors=[PermanentDeliveryError("HTTP 400")])
    d, _ = dispatcher(store, {"c": channel})
    incident = store.insert_incident(sample_incident(incident_id=None), T0)
    trigger_id, resolve_id = store.enqueue(
        [Notification(None, "c", n.kind, n.payload, n.dedup_key, incident_id=incident.id)
         for n in (incident_notification("trigger"), incident_notification("resolve"))], T0)
    assert (d.run().dead, len(channel.calls)) == (1, 2)  # trigger dead, resolve sent
    assert store.retry_outbox(None, T0) == 1
    report = d.run()
    assert (report.sent, report.skipped, len(channel.calls)) == (0, 1, 2)
    trigger = store.get_notification(trigger_id)
    assert trigger.status == DeliveryStatus.SUPPRESSED and f"notification {resolve_id}" in trigger.last_error


def test_a_channel_secret_from_the_environment_never_reaches_logs_or_the_outbox(store, monkeypatch, caplog):
    import logging

    from alert_peers import SlackPeer

    from monitor.logging import SecretFilter

    peer = SlackPeer()
    try:
        monkeypatch.setenv("SLACK_HOOK_FOR_TEST", peer.webhook_url)
        cls = CHANNELS.get("slack")
        slack = cls("chat", cls.Options.model_validate({"webhook_url_env": "SLACK_HOOK_FOR_TEST"}))
        d, clock = dispatcher(store, {"chat": slack})
        n = incident_notification()
        store.enqueue([Notification(None, "chat", n.kind, n.payload, n.dedup_key, incident_id=7)], T0)
        caplog.handler.addFilter(SecretFilter())
        peer.fail_next(500, body=f"upstream could not reach {peer.webhook_url}")  # a receiver echoing the URL
        with caplog.at_level(logging.DEBUG):
            assert d.run().failed == 1
            clock.advance_to(T0 + timedelta(minutes=1))
            assert d.run().sent == 1
        secret = peer.WEBHOOK.rsplit("/", 1)[1]
        assert "HTTP Request: POST" in caplog.text and "500" in caplog.text  # httpx and the worker did log...
        assert secret not in caplog.text  # ...with the webhook URL masked
        assert all(secret not in (row.last_error or "") for row in store.list_outbox())
    finally:
        peer.close()
