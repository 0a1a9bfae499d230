"""Slack (incoming webhook and Web API) and the signed generic webhook against loopback peers."""

import base64
import json

import pytest
from alert_peers import SlackPeer, WebhookPeer
from alert_samples import PNG, digest_notification, incident_notification

from monitor.alerts.base import CHANNELS
from monitor.alerts.channels.webhook import sign
from monitor.errors import DeliveryError, PermanentDeliveryError


@pytest.fixture
def slack_peer():
    peer = SlackPeer()
    yield peer
    peer.close()


def channel(type_: str, **options):
    cls = CHANNELS.get(type_)
    return cls("c", cls.Options.model_validate(options))


def all_text(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def mrkdwn(blocks) -> str:
    """Every text Slack parses as mrkdwn (plain_text objects are shown as they are)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def test_slack_webhook_posts_valid_blocks_with_post_text_escaped(slack_peer):
    slack = channel("slack", webhook_url=slack_peer.webhook_url, mention="<!subteam^S0123>")
    assert slack.deliver(incident_notification("trigger")) == {}
    slack.deliver(incident_notification("resolve", notification_id=2))
    trigger, resolve = slack_peer.webhook_posts
    text = mrkdwn(trigger["blocks"]) + trigger["text"].replace("<!subteam^S0123>", "")
    assert trigger["blocks"][0]["text"]["type"] == "plain_text"
    assert "<!subteam^S0123>" in trigger["text"]  # the configured mention works...
    assert "<!channel>" not in text and "<!here>" not in text and "<http://evil" not in text  # ...the post's do not
    assert "&lt;!channel&gt;" in text and "@\u200bhere" in text and "&lt;script&gt;" in text
    assert trigger["blocks"][0]["type"] == "header" and "RESOLVED" in resolve["text"]
    assert "subteam" not in resolve["text"]  # resolves do not page anyone


def test_slack_webhook_rate_limit_and_rejection(slack_peer):
    slack = channel("slack", webhook_url=slack_peer.webhook_url)
    slack_peer.fail_next(429, {"Retry-After": "30"}, "rate_limited")
    with pytest.raises(DeliveryError) as exc:
        slack.deliver(incident_notification())
    assert exc.value.retry_after == 30
    slack_peer.fail_next(404, body="channel_not_found")
    with pytest.raises(PermanentDeliveryError, match="channel_not_found"):
        slack.deliver(incident_notification())


def web_api(peer: SlackPeer, **extra):
    return channel("slack", base_url=peer.url + "/api", token=peer.token, channel=peer.channel, **extra)


def test_slack_web_api_one_message_per_incident_with_updates_in_its_thread(slack_peer):
    slack = web_api(slack_peer)
    refs = slack.deliver(incident_notification("trigger"))
    assert set(refs) == {"ts", "channel"} and refs["channel"] == slack_peer.channel
    slack.deliver(incident_notification("update", notification_id=2), refs)
    slack.deliver(incident_notification("acknowledge", notification_id=3), refs)
    slack.deliver(incident_notification("resolve", notification_id=4), refs)
    root, *replies = slack_peer.messages
    assert root["ts"] == refs["ts"] and [r["thread_ts"] for r in replies] == [refs["ts"]] * 3
    assert root["metadata"]["event_payload"]["dedup_key"] == incident_notification().dedup_key
    assert root["edits"] == 2 and "RESOLVED" in root["text"]  # the message shows the latest state
    assert [r["broadcast"] for r in replies] == [False, False, True]


def test_slack_web_api_retries_after_a_crash_find_what_was_already_posted(slack_peer):
    slack = web_api(slack_peer)
    refs = slack.deliver(incident_notification("trigger"))
    assert slack.deliver(incident_notification("trigger", attempts=2)) == refs
    slack.deliver(incident_notification("update", notification_id=2), refs)
    slack.deliver(incident_notification("update", notification_id=2, attempts=2), refs)
    assert len(slack_peer.messages) == 2


def test_slack_web_api_errors(slack_peer):
    with pytest.raises(PermanentDeliveryError, match="channel_not_found"):
        channel("slack", base_url=slack_peer.url + "/api", token=slack_peer.token,
                channel="C999").deliver(incident_notification())
    with pytest.raises(PermanentDeliveryError, match="not_authed"):
        channel("slack", base_url=slack_peer.url + "/api", token="xoxb-wrong",
                channel=slack_peer.channel).deliver(incident_notification())
    slack_peer.fail_next(200, {}, {"ok": False, "error": "service_unavailable"})
    with pytest.raises(DeliveryError) as exc:
        web_api(slack_peer).deliver(incident_notification())
    assert not isinstance(exc.value, PermanentDeliveryError)
    with pytest.raises(ValueError, match="either webhook_url"):
        CHANNELS.get("slack").Options.model_validate({})


def test_slack_digest_posts_markdown_and_uploads_charts_into_its_thread(slack_peer):
    slack = web_api(slack_peer)
    slack.deliver(digest_notification(images=2))
    [message] = slack_peer.messages
    assert message["blocks"][1] == {"type": "markdown", "text": "**Daily digest**\n\n- Volume: 1,234 posts (+12%)"}
    assert [u["data"] for u in slack_peer.uploads.values()] != [None, None]
    [shared] = slack_peer.shared_files
    assert shared["thread_ts"] == message["ts"] and [f["title"] for f in shared["files"]] == ["chart0.png",
                                                                                            "chart1.png"]
    assert PNG in slack_peer.uploads["F00001"]["data"]


def test_slack_webhook_digest_is_text_only(slack_peer):
    slack = channel("slack", webhook_url=slack_peer.webhook_url, digest_markdown_block=False)
    slack.deliver(digest_notification())
    [post] = slack_peer.webhook_posts
    assert post["text"].startswith("Daily digest") and all(b["type"] in ("header", "section") for b in post["blocks"])


def test_webhook_is_signed_and_carries_an_idempotency_id():
    peer = WebhookPeer()
    try:
        hook = channel("webhook", url=peer.url + "/hooks/monitor", secret=peer.secret, headers={"X-Team": "ops"})
        hook.deliver(incident_notification("trigger", notification_id=11))
        hook.deliver(incident_notification("trigger", notification_id=11, attempts=2))  # resend: same delivery id
        hook.deliver(digest_notification(notification_id=12))
        assert set(peer.deliveries) == {"11", "12"}
        body = peer.deliveries["11"]
        assert body["event"] == "trigger" and body["dedup_key"] == incident_notification().dedup_key
        assert body["incident"]["post_count"] == 42 and body["summary"]["observed"] == 42
        assert peer.deliveries["12"]["digest"]["subject"].startswith("Daily digest")
        assert peer.requests[0].headers["x-team"] == "ops" and peer.requests[0].path == "/hooks/monitor"
        unsigned = channel("webhook", url=peer.url + "/hooks/monitor", secret="other-secret")
        with pytest.raises(PermanentDeliveryError, match="401"):
            unsigned.deliver(incident_notification())
        raw = b'{"a":1}'
        assert sign("k", raw) == "sha256=" + __import__("hmac").new(b"k", raw, "sha256").hexdigest()
        assert base64.b64decode(digest_notification().payload["images"][0]["content_b64"]) == PNG
    finally:
        peer.close()
