"""Every HTTP channel against its loopback peer: a 429 with Retry-After and a 5xx are retried
later (with the receiver's delay), and the next attempt goes through once the receiver is back."""

import httpx
import pytest
from alert_peers import GitHubPeer, JiraPeer, OpsgeniePeer, PagerDutyPeer, SlackPeer, WebhookPeer
from alert_samples import incident_notification

from monitor.alerts.base import CHANNELS
from monitor.errors import DeliveryError, PermanentDeliveryError


def _options(kind: str, peer) -> tuple[str, dict]:
    if kind == "pagerduty":
        return "pagerduty", {"base_url": peer.url, "routing_key": peer.routing_key}
    if kind == "opsgenie":
        return "opsgenie", {"base_url": peer.url, "api_key": peer.api_key}
    if kind == "jira":
        return "jira", {"base_url": peer.url, "project": "OPS", "email": "bot@example.com", "api_token": "jira-token-1"}
    if kind == "github":
        return "github", {"base_url": peer.url, "repo": peer.repo, "token": peer.token}
    if kind == "slack-api":
        return "slack", {"base_url": peer.url + "/api", "token": peer.token, "channel": peer.channel}
    if kind == "slack-webhook":
        return "slack", {"webhook_url": peer.webhook_url}
    return "webhook", {"url": peer.url + "/in", "secret": peer.secret}


PEERS = {"pagerduty": PagerDutyPeer, "opsgenie": OpsgeniePeer, "jira": JiraPeer, "github": GitHubPeer,
         "slack-api": SlackPeer, "slack-webhook": SlackPeer, "webhook": WebhookPeer}


def _received(kind: str, peer) -> int:
    """What the receiver kept: alerts, issues, messages, deliveries."""
    return len({"pagerduty": lambda: peer.alerts, "opsgenie": lambda: peer.alerts, "jira": lambda: peer.issues,
                "github": lambda: peer.issues, "slack-api": lambda: peer.messages,
                "slack-webhook": lambda: peer.webhook_posts, "webhook": lambda: peer.deliveries}[kind]())


@pytest.fixture(params=list(PEERS))
def wired(request):
    """(kind, peer, channel): one channel type pointed at its loopback peer, closed afterwards."""
    kind = request.param
    peer = PEERS[kind]()
    try:
        type_, options = _options(kind, peer)
        cls = CHANNELS.get(type_)
        channel = cls("c", cls.Options.model_validate(options))
        yield kind, peer, channel
        channel.close()
    finally:
        peer.close()


def test_rate_limits_and_server_errors_are_retried_then_delivered(wired):
    kind, peer, channel = wired
    peer.fail_next(429, {"Retry-After": "12"}, {"message": "rate limited"})
    with pytest.raises(DeliveryError) as limited:
        channel.deliver(incident_notification("trigger"))
    assert not isinstance(limited.value, PermanentDeliveryError) and limited.value.retry_after == 12
    for status in (500, 502, 503):
        peer.fail_next(status, body="upstream failed")
        with pytest.raises(DeliveryError) as server:
            channel.deliver(incident_notification("trigger", attempts=2))
        assert not isinstance(server.value, PermanentDeliveryError) and server.value.retry_after is None
        assert str(status) in str(server.value)
    assert _received(kind, peer) == 0
    channel.deliver(incident_notification("trigger", attempts=5))
    assert _received(kind, peer) == 1


def test_a_redirect_is_not_taken_for_a_delivery(wired):
    # the client does not follow redirects (it would re-send secrets to another host), so a 3xx
    # means nothing was delivered: it must not be marked sent, and retrying the same URL cannot help
    kind, peer, channel = wired
    peer.fail_next(301, {"Location": "https://moved.example/new?token=x"}, "")
    with pytest.raises(PermanentDeliveryError, match=r"HTTP 301 .*https://moved\.example/new"):
        channel.deliver(incident_notification("trigger"))
    assert _received(kind, peer) == 0


def test_an_unreadable_retry_after_is_still_a_rate_limit():
    # a receiver's odd header must not turn a 429 into a crash of the channel
    from monitor.alerts.channels.http import check_response

    request = httpx.Request("POST", "http://127.0.0.1/in")
    odd = httpx.Response(429, headers={"Retry-After": "soon"}, request=request)
    with pytest.raises(DeliveryError) as limited:
        check_response(odd, "webhook c")
    assert not isinstance(limited.value, PermanentDeliveryError) and limited.value.retry_after is None
    capped = httpx.Response(429, headers={"Retry-After": str(10**9)}, request=request)
    with pytest.raises(DeliveryError) as far:
        check_response(capped, "webhook c")
    assert far.value.retry_after == 24 * 3600
