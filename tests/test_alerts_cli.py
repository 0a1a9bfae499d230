"""`monitor incidents`, `monitor silence` and `monitor outbox` on a database with one incident."""

import io
import json

import pytest
from alert_peers import WebhookPeer
from click.testing import CliRunner
from conftest import post_line
from helpers import KeywordDetector

from monitor.app import App
from monitor.cli import cli
from monitor.clock import ManualClock
from monitor.config import load_config
from monitor.models import DeliveryStatus
from monitor.replay import replay


@pytest.fixture
def setup(tmp_path):
    peer = WebhookPeer()
    config = tmp_path / "config.yaml"
    config.write_text(f"""
channels:
  - name: hook
    type: webhook
    options: {{url: "{peer.url}/in", secret: "{peer.secret}"}}
routes:
  - channels: [hook]
route_defaults: {{group_wait: 0s, group_interval: 1h}}
""", encoding="utf-8")
    db = tmp_path / "db.sqlite"
    app = App(load_config(config, explicit=True), db_path=db, clock=ManualClock(),
              detectors=[KeywordDetector("hacked")])
    replay(app, io.StringIO("\n".join(post_line(i, "my account was hacked, mail a@b.com", minutes=i)
                                      for i in range(3))))
    app.close()
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, [*args, "--config", str(config), "--db", str(db)], catch_exceptions=False)

    yield run, peer
    peer.close()


def test_incidents_list_show_ack_resolve(setup):
    run, peer = setup
    listed = run("incidents", "list", "--json")
    [incident] = json.loads(listed.output)
    assert incident["state"] == "open" and incident["posts"] == 3 and incident["rule_id"] == "kw"
    shown = run("incidents", "show", str(incident["id"]))
    assert "posts about hacked" in shown.output and "[email]" in shown.output and "a@b.com" not in shown.output
    assert "hook" in shown.output and "trigger" in shown.output
    acked = run("incidents", "ack", str(incident["id"]), "--comment", "on it", "--by", "ann")
    assert acked.exit_code == 0 and "acknowledged; 1 notification(s) queued" in acked.output
    again = run("incidents", "ack", str(incident["id"]))
    assert again.exit_code == 1 and "only open incidents" in again.output
    resolved = run("incidents", "resolve", str(incident["id"]), "--by", "ann")
    assert resolved.exit_code == 0 and "resolved; 1 notification(s) queued" in resolved.output
    assert "no incidents" in run("incidents", "list").output
    assert json.loads(run("incidents", "list", "--state", "resolved", "--json").output)[0]["summary"]["note"] == \
        "acknowledged by ann: on it"
    delivered = run("outbox", "deliver")
    assert "sent 2" in delivered.output
    assert sorted(b["event"] for b in peer.deliveries.values()) == ["acknowledge", "resolve", "trigger"]
    assert run("incidents", "show", "999").exit_code == 1


def test_silences_add_list_expire(setup):
    run, _ = setup
    added = run("silence", "add", "--match", "rule=kw", "--match", "severity=~high|critical", "--for", "2h",
                "--comment", "known issue", "--by", "ann")
    assert added.exit_code == 0 and added.output.startswith("silence 1 added: rule=kw severity=~high|critical")
    [item] = json.loads(run("silence", "list", "--json").output)
    assert item["active"] and item["created_by"] == "ann" and item["comment"] == "known issue"
    bad = run("silence", "add", "--match", "rule=~(", "--for", "1h", "--comment", "x")
    assert bad.exit_code == 2 and "invalid regex" in bad.output
    assert run("silence", "add", "--match", "rule=kw", "--comment", "x").exit_code == 2  # no --for/--until
    assert run("silence", "expire", "1").output.strip() == "silence 1 expired"
    assert "no silences" in run("silence", "list").output
    assert "ended" in run("silence", "list", "--all").output
    assert run("silence", "expire", "1").exit_code == 1


def test_outbox_list_and_retry_dead_letters(setup, tmp_path):
    run, peer = setup
    [row] = json.loads(run("outbox", "list", "--json").output)
    assert row["status"] == "sent" and row["event"] == "trigger"
    from monitor.store import open_store

    store = open_store(tmp_path / "db.sqlite")
    store.mark_failed(row["id"], "gave up", None)
    store.close()
    dead = run("outbox", "list", "--status", "dead")
    assert "gave up" in dead.output
    assert run("outbox", "retry").exit_code == 2
    assert "1 notification(s) queued again" in run("outbox", "retry", str(row["id"])).output
    assert "sent 1" in run("outbox", "deliver").output
    assert json.loads(run("outbox", "list", "--json").output)[0]["status"] == DeliveryStatus.SENT.value
