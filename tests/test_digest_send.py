"""Sending digests: the outbox payload, once per period across restarts, the daemon's cron jobs, the CLI,
and the e-mail built from the payload, sent to a local SMTP server and parsed back."""

import base64
import email
import email.policy
import io
import json
import smtplib
import socket
import threading
from datetime import timedelta
from typing import ClassVar

import pytest
from click.testing import CliRunner

from digest_data import END, populate
from monitor.alerts.base import CHANNELS, Channel
from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_config_text
from monitor.digest.mime import build_email
from monitor.digest.service import run_scheduled, send_digest
from monitor.models import DeliveryStatus, NotificationKind

CONFIG = """
timezone: Asia/Singapore
channels:
  - name: community-mail
    type: digest-collect
  - name: community-slack
    type: digest-collect
  - name: switched-off
    type: digest-collect
    enabled: false
digests:
  - name: daily
    schedule: "0 8 * * *"
    channels: [community-mail, community-slack, switched-off]
  - name: weekly-zh
    schedule: "0 9 * * 1"
    period: 7d
    lang: zh
    channels: [community-slack]
  - name: no-channels
    schedule: "0 8 * * *"
  - name: paused
    schedule: "0 8 * * *"
    channels: [community-mail]
    enabled: false
"""
PAYLOAD_KEYS = {"subject", "text", "html", "markdown", "images"}


class CollectingChannel(Channel):
    type = "digest-collect"
    sent: ClassVar[list] = []

    def deliver(self, notification, refs=None):
        CollectingChannel.sent.append(notification)
        return {}


CHANNELS.register("digest-collect")(CollectingChannel)


@pytest.fixture
def db(tmp_path):
    from monitor.store import open_store

    path = tmp_path / "monitor.db"
    store = open_store(path)
    populate(store)
    store.close()
    CollectingChannel.sent.clear()
    return path


@pytest.fixture
def no_charts(monkeypatch):
    """For tests about scheduling and delivery: drawing charts only costs time there."""
    from monitor.digest import charts

    monkeypatch.setattr(charts, "render_charts", lambda digest, translator: {})


def make_app(tmp_path, db, now):
    config = load_config_text(CONFIG, env={}, base_dir=tmp_path)
    return App(config, db_path=db, clock=ManualClock(now))


def digest_rows(app):
    return [n for n in app.store.list_outbox() if n.kind == NotificationKind.DIGEST]


def settings_of(app, name):
    return next(d for d in app.config.settings.digests if d.name == name)


def test_a_scheduled_digest_is_sent_once_per_period_even_across_restarts(tmp_path, db, no_charts):
    app = make_app(tmp_path, db, END + timedelta(minutes=3))
    daily = settings_of(app, "daily")
    result = run_scheduled(app, daily)
    assert result.channels == ["community-mail", "community-slack"]  # the disabled channel is skipped
    rows = digest_rows(app)
    assert len(rows) == 2 and {n.dedup_key for n in rows} == {"digest/daily/2026-03-02T00:00:00Z"}
    assert all(n.incident_id is None and n.status == DeliveryStatus.PENDING for n in rows)
    assert set(rows[0].payload) == PAYLOAD_KEYS
    assert run_scheduled(app, daily).skipped == "already sent"
    app.close()

    restarted = make_app(tmp_path, db, END + timedelta(minutes=4))  # a restart runs every digest job at once
    assert run_scheduled(restarted, settings_of(restarted, "daily")).skipped == "already sent"
    assert len(digest_rows(restarted)) == 2
    assert [r["period_end"] for r in restarted.store.digest_runs("daily")] == ["2026-03-02T00:00:00Z"]

    restarted.clock.advance_to(END + timedelta(days=1, minutes=1))  # the next morning
    assert run_scheduled(restarted, settings_of(restarted, "daily")).notification_ids
    assert {n.dedup_key for n in digest_rows(restarted)} == {"digest/daily/2026-03-02T00:00:00Z",
                                                             "digest/daily/2026-03-03T00:00:00Z"}
    report = restarted.dispatcher.run()
    assert report.sent == 4 and len(CollectingChannel.sent) == 4
    restarted.close()


def test_a_missed_run_is_caught_up_only_when_recent(tmp_path, db, no_charts):
    late = make_app(tmp_path, db, END + timedelta(hours=7))  # catch_up is 6h by default
    assert run_scheduled(late, settings_of(late, "daily")) is None and digest_rows(late) == []
    late.clock.advance_to(END + timedelta(days=1, hours=2))
    result = run_scheduled(late, settings_of(late, "daily"))
    assert result.period_end == END + timedelta(days=1)
    late.close()


def test_the_payload_contract(tmp_path, db):
    from PIL import Image

    app = make_app(tmp_path, db, END)
    send_digest(app, settings_of(app, "daily"), END)
    payload = digest_rows(app)[0].payload
    assert payload["subject"].startswith("Feedback digest: Mar 1, 2026 08:00")
    assert len(payload["images"]) == 3
    for image in payload["images"]:
        assert set(image) == {"cid", "filename", "mime", "content_b64"} and image["mime"] == "image/png"
        png = Image.open(io.BytesIO(base64.b64decode(image["content_b64"])))
        assert png.format == "PNG" and png.width == 960
        assert f'src="cid:{image["cid"]}"' in payload["html"]
    assert payload["html"].count('src="cid:') == 3 and "data:image" not in payload["html"]
    assert "data:image" not in payload["markdown"] and "## At a glance" in payload["markdown"]
    assert payload["text"].startswith("Feedback digest\n")
    app.close()


def test_daemon_schedules_each_digest_in_the_configured_timezone(tmp_path, db, no_charts):
    from monitor.daemon import Daemon

    app = make_app(tmp_path, db, END + timedelta(minutes=1))
    daemon = Daemon(app)
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert {"digest:daily", "digest:weekly-zh"} <= set(jobs)
    assert "digest:no-channels" not in jobs and "digest:paused" not in jobs
    weekly = jobs["digest:weekly-zh"].trigger
    assert str(weekly.timezone) == "Asia/Singapore"
    next_fire = weekly.get_next_fire_time(None, END)  # END is Monday 2026-03-02 08:00 in Singapore
    assert next_fire.isoformat() == "2026-03-02T09:00:00+08:00"  # Monday 09:00 local, as crontab means it
    assert jobs["digest:daily"].trigger.get_next_fire_time(None, END + timedelta(minutes=1)).isoformat() == \
        "2026-03-03T08:00:00+08:00"
    # the job (run at startup too) sends the period that just ended, once
    jobs["digest:daily"].func()
    jobs["digest:daily"].func()
    assert len(digest_rows(app)) == 2
    app.close()


def test_cli_writes_files_in_every_format(tmp_path, db):
    from monitor.cli import cli

    runner = CliRunner()
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    base = ["digest", "--config", str(config), "--db", str(db), "--until", "2026-03-02T08:00:00+08:00"]
    result = runner.invoke(cli, [*base, "--out", str(tmp_path / "d.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "d.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and 'data-section="unreplied"' in html

    result = runner.invoke(cli, [*base, "--format", "md", "--lang", "zh", "--out", str(tmp_path / "d.md")])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "d.md").read_text()
    for name in ("volume", "sentiment", "ratings"):
        assert (tmp_path / f"d-{name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"](d-{name}.png)" in md
    assert "## 概览" in md

    result = runner.invoke(cli, [*base, "--format", "json", "--period", "48h"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["volume"]["total"]["current"] == 94 and data["period"]["start"] == "2026-02-28T00:00:00Z"

    result = runner.invoke(cli, [*base, "--format", "text", "--no-charts"])
    assert result.exit_code == 0 and "At a glance\n===========" in result.stdout


def test_cli_sends_through_the_outbox_once(tmp_path, db, no_charts):
    from monitor.cli import cli

    runner = CliRunner()
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    base = ["digest", "--config", str(config), "--db", str(db), "--until", "2026-03-02T00:00:00Z"]
    result = runner.invoke(cli, [*base, "--name", "daily", "--send"])
    assert result.exit_code == 0, result.output
    assert "delivered 2" in result.stderr and len(CollectingChannel.sent) == 2
    assert {n.dedup_key for n in CollectingChannel.sent} == {"digest/daily/2026-03-02T00:00:00Z"}

    again = runner.invoke(cli, [*base, "--name", "daily", "--send"])
    assert again.exit_code == 1 and "already sent" in again.stderr
    forced = runner.invoke(cli, [*base, "--name", "daily", "--send", "--force", "--channel", "community-mail"])
    assert forced.exit_code == 0 and len(CollectingChannel.sent) == 3

    no_channel = runner.invoke(cli, [*base, "--send"])
    assert no_channel.exit_code == 2 and "--send needs channels" in no_channel.stderr
    unknown = runner.invoke(cli, [*base, "--name", "nightly"])
    assert unknown.exit_code == 2 and "no digest named 'nightly'" in unknown.stderr
    bad = runner.invoke(cli, [*base, "--period", "10m"])
    assert bad.exit_code == 2 and "between 1h and 92d" in bad.stderr
    bad_time = runner.invoke(cli, ["digest", "--config", str(config), "--db", str(db), "--until", "yesterday"])
    assert bad_time.exit_code == 2 and "--until" in bad_time.stderr


def test_config_rejects_a_digest_with_an_unknown_channel_or_a_duplicate_name(tmp_path):
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match=r"digests\.0\.channels\.0: digest names channel 'nowhere'"):
        load_config_text("digests:\n  - name: d\n    channels: [nowhere]\n", env={})
    with pytest.raises(ConfigError, match="duplicate digest name 'd'"):
        load_config_text("digests:\n  - name: d\n  - name: d\n", env={})
    with pytest.raises(ConfigError, match=r"<config>:3:.*digests\.0\.schedule"):
        load_config_text("digests:\n  - name: d\n    schedule: 2h\n", env={})


# --- e-mail --------------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_email_sent_to_a_local_smtp_server_keeps_its_inline_images(tmp_path, db, smtp_server, lang):
    inbox, port = smtp_server
    app = make_app(tmp_path, db, END)
    settings = settings_of(app, "daily").model_copy(update={"lang": lang})
    send_digest(app, settings, END, channels=["community-mail"])
    payload = digest_rows(app)[0].payload
    message = build_email(payload, "digest@monitor.example", ["cm-team@exchange.example"])
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)
    assert len(inbox.messages) == 1 and inbox.envelopes[0].rcpt_tos == ["cm-team@exchange.example"]

    parsed = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    assert parsed["Subject"] == payload["subject"]
    assert parsed.get_content_type() == "multipart/alternative"
    text_part, related = parsed.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert text_part.get_content().replace("\r\n", "\n") == payload["text"]
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    html = html_part.get_content()
    assert html_part.get_content_type() == "text/html" and html.replace("\r\n", "\n") == payload["html"]
    assert len(images) == 3
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert image.get_content_type() == "image/png" and image.get_content_disposition() == "inline"
        assert f'src="cid:{cid}"' in html
        assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    app.close()


def test_a_plain_text_digest_attaches_its_charts(tmp_path, db):
    app = make_app(tmp_path, db, END)
    settings = settings_of(app, "daily").model_copy(update={"format": "text"})
    send_digest(app, settings, END, channels=["community-mail"])
    payload = digest_rows(app)[0].payload
    assert payload["html"] is None
    message = build_email(payload, "digest@monitor.example", ["cm@exchange.example"])
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["volume.png", "sentiment.png", "ratings.png"]
    with pytest.raises(ValueError):
        build_email(payload, "digest@monitor.example", [])
    app.close()


def test_concurrent_sends_of_one_period_enqueue_once(tmp_path, db):
    from monitor.digest.service import produce

    app = make_app(tmp_path, db, END)
    settings = settings_of(app, "daily")
    output = produce(app.store, settings, END, "Asia/Singapore", charts=False)
    results = []

    def send():
        results.append(send_digest(app, settings, END, output=output))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(bool(r.notification_ids) for r in results) == [False, False, True]
    assert len(digest_rows(app)) == 2
    app.close()
