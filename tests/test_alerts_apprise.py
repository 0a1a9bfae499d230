"""The apprise channel (the long tail of services), through apprise's generic JSON webhook
pointed at a loopback peer."""

import base64

import pytest
from alert_peers import Peer, Request
from alert_samples import PNG, digest_notification, incident_notification

from monitor.alerts.base import CHANNELS
from monitor.errors import DeliveryError

pytest.importorskip("apprise")


class JsonPeer(Peer):
    def __init__(self):
        self.bodies = []
        self.status = 200
        super().__init__()

    def handle(self, req: Request):
        self.bodies.append(req.json())
        return self.status, {}, {"ok": True}


@pytest.fixture
def peer():
    p = JsonPeer()
    yield p
    p.close()


def apprise_channel(peer, **extra):
    cls = CHANNELS.get("apprise")
    host = peer.url.removeprefix("http://")
    return cls("long-tail", cls.Options.model_validate({"urls": [f"json://{host}/notify"], **extra}))


def test_incident_goes_out_as_markdown_with_the_post_escaped(peer):
    apprise_channel(peer).deliver(incident_notification())
    [body] = peer.bodies
    assert body["title"].startswith("[FIRING] HIGH: Withdrawal complaints surge") and body["type"] == "failure"
    assert "\\[click\\]\\(http" in body["message"] and "@\u200balice" in body["message"]


def test_digest_goes_with_its_charts_attached(peer):
    apprise_channel(peer, body_format="text").deliver(digest_notification(images=2))
    [body] = peer.bodies
    assert body["message"].startswith("Daily digest")
    assert [a["filename"] for a in body["attachments"]] == ["chart0.png", "chart1.png"]
    assert base64.b64decode(body["attachments"][0]["base64"]) == PNG


def test_a_failing_service_is_retried(peer):
    peer.status = 500
    with pytest.raises(DeliveryError, match="1 of 1 service"):
        apprise_channel(peer).deliver(incident_notification())


def test_unknown_apprise_urls_are_rejected_when_the_config_loads():
    with pytest.raises(ValueError, match="not an apprise URL"):
        CHANNELS.get("apprise").Options.model_validate({"urls": ["nosuchscheme://x"]})


def test_base_url_is_refused_rather_than_silently_ignored():
    # apprise URLs carry their own endpoints: a base_url would be dropped without a word
    with pytest.raises(ValueError, match="base_url does not apply to apprise"):
        CHANNELS.get("apprise").Options.model_validate({"urls": ["json://127.0.0.1:9/notify"],
                                                        "base_url": "http://127.0.0.1:9"})
