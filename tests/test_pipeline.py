import io
from datetime import timedelta

from conftest import T0, post_line
from helpers import KeywordDetector, RecordingChannel, route_all
from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_config_text
from monitor.models import IncidentState, NotificationKind
from monitor.replay import replay


def make_app(tmp_path, detectors=None, config="routes: []\n", channels=None):
    cfg = load_config_text(config, env={}, base_dir=tmp_path)
    app = App(cfg, db_path=tmp_path / "db.sqlite", clock=ManualClock(T0 - timedelta(days=1)),
              detectors=detectors if detectors is not None else [KeywordDetector("hacked")])
    if channels is not None:
        app.__dict__["channels"] = channels  # bypass config-built channels
    return app


def test_replay_twice_stores_each_post_once_and_notifies_once(tmp_path):
    channel = RecordingChannel("rec")
    app = make_app(tmp_path, channels={"rec": channel})
    route_all(app, "rec")
    lines = "\n".join(post_line(i, "my account was hacked" if i % 10 == 0 else "fine", minutes=i) for i in range(100))
    first = replay(app, io.StringIO(lines), chunk_size=17)
    second = replay(app, io.StringIO(lines), chunk_size=17)
    assert (first.ingest.inserted, second.ingest.inserted, second.ingest.unchanged) == (100, 0, 100)
    assert first.findings == 10 and second.findings == 0
    assert first.incidents_opened == 1 and second.incidents_opened == 0
    # one trigger, then updates as more posts come (at most one per group_interval); nothing twice
    kinds = [n.kind for n in channel.sent]
    assert kinds[0] == NotificationKind.TRIGGER and kinds.count(NotificationKind.TRIGGER) == 1
    assert len({n.id for n in channel.sent}) == len(kinds) == first.notifications and second.notifications == 0
    assert app.store.count_posts() == 100


def test_edited_post_updates_in_place_through_replay(tmp_path):
    app = make_app(tmp_path)
    replay(app, io.StringIO(post_line(1, "all good")))
    summary = replay(app, io.StringIO(post_line(1, "all good... until I got hacked")))
    assert summary.ingest.edited == 1 and summary.findings == 1
    post = app.store.find_post("file-a:1")
    assert post.text.endswith("hacked") and app.store.revisions(post.id)[0]["text"] == "all good"


def test_rejected_lines_are_counted_and_the_rest_goes_in(tmp_path):
    app = make_app(tmp_path)
    text = "\n".join([post_line(1, "a"), "{broken", post_line(2, "b")])
    summary = replay(app, io.StringIO(text))
    assert summary.ingest.inserted == 2 and [r.line for r in summary.rejected] == [2]


def test_quiet_incident_resolves_in_event_time_and_sends_resolve(tmp_path):
    channel = RecordingChannel("rec")
    app = make_app(tmp_path, channels={"rec": channel})
    route_all(app, "rec")
    lines = [post_line(1, "hacked!", minutes=0), post_line(2, "quiet day", minutes=180)]
    summary = replay(app, io.StringIO("\n".join(lines)))
    assert summary.incidents_opened == 1 and summary.incidents_resolved == 1
    assert [n.kind for n in channel.sent] == [NotificationKind.TRIGGER, NotificationKind.RESOLVE]
    [incident] = app.store.list_incidents()
    # resolved when the quiet period (resolve_after, 1h by default) ran out, in event time
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at == T0 + timedelta(minutes=60)


def test_replay_until_keeps_the_clock_running_after_the_last_post(tmp_path):
    app = make_app(tmp_path)
    line = post_line(1, "hacked!", minutes=0)
    assert replay(app, io.StringIO(line)).incidents_resolved == 0  # the clock stops near the last post
    assert replay(app, io.StringIO(line), until=timedelta(hours=2)).incidents_resolved == 1
    [incident] = app.store.list_incidents()
    assert incident.resolved_at == T0 + timedelta(minutes=60)


def test_failed_delivery_is_retried_not_lost(tmp_path):
    channel = RecordingChannel("rec", fail_times=1)
    app = make_app(tmp_path, channels={"rec": channel})
    route_all(app, "rec")
    replay(app, io.StringIO(post_line(1, "hacked")))
    pending = app.store.list_outbox()
    assert channel.sent == [] and pending[0].last_error == "receiver said 503" and pending[0].attempts == 1
    # the next try is scheduled on the wall clock, with backoff: make it due now
    app.store.db.execute("UPDATE outbox SET next_try_at = '2000-01-01T00:00:00Z'")
    app.dispatcher.run()
    assert len(channel.sent) == 1 and app.store.outbox_counts() == {"sent": 1}


def test_counts_series_from_event_time(tmp_path):
    app = make_app(tmp_path, detectors=[])
    replay(app, io.StringIO("\n".join(post_line(i, "x", minutes=i) for i in range(12))))
    buckets = app.store.series_buckets("all", 0, 2**40)
    start = int(T0.timestamp())
    assert [(b.bucket - start, b.count) for b in buckets] == [(0, 5), (300, 5), (600, 2)]
    assert {s for s in app.store.series_in_range(0, 2**40)} >= {"all", "source:file-a", "lang:und"}


def test_a_failing_source_never_stores_or_prints_a_secret_from_the_environment(tmp_path):
    """Source errors quote the failing URL; a ${VAR} secret in it is masked in the database and
    on the command line, as it already is in the log."""
    from click.testing import CliRunner

    from monitor.cli import cli
    from monitor.errors import SourceError
    from monitor.sources.base import SOURCES, Source, SourceOptions

    class LeakyOptions(SourceOptions):
        url: str

    if "leaky-test" not in SOURCES:
        @SOURCES.register("leaky-test")
        class Leaky(Source):
            Options = LeakyOptions

            def fetch(self, cursor):
                raise SourceError(f"GET {self.options.url}: HTTP 404 Not Found")

    secret = "feed-token-5f3a9c1e"
    config = tmp_path / "config.yaml"
    config.write_text("storage:\n  path: m.db\nsources:\n  - name: leaky\n    type: leaky-test\n"
                      "    options:\n      url: http://127.0.0.1:9/feeds/${FEED_TOKEN}.rss\n")
    result = CliRunner(env={"FEED_TOKEN": secret}).invoke(cli, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 1
    assert "leaky: FAILED" in result.output and "/feeds/********.rss: HTTP 404" in result.output
    assert secret not in result.output
    import sqlite3

    stored = sqlite3.connect(tmp_path / "m.db").execute("SELECT last_error FROM source_health").fetchone()[0]
    assert "HTTP 404" in stored and secret not in stored
    tried = CliRunner(env={"FEED_TOKEN": secret}).invoke(cli, ["sources", "test", "leaky", "--config", str(config)])
    assert tried.exit_code == 1 and "HTTP 404" in tried.output and secret not in tried.output
