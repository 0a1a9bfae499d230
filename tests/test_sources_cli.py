"""`monitor sources list|test` and source health in `monitor status`, against a loopback peer."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import yaml
from click.testing import CliRunner
from loopback_http import Reply
from sources_helpers import server  # noqa: F401

from monitor.cli import cli
from monitor.store import open_store
from monitor.store.timefmt import to_db

APP_ID = "1327268470"
PAGE1 = f"/gb/rss/customerreviews/page=1/id={APP_ID}/sortby=mostrecent/json"
HOSTILE = "\x1b[2J\x1b]8;;http://phish.example/\x07click\u202e"  # clear screen, a hidden link, bidi override


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def review(n: int, at: datetime, text: str, author: str = "ann") -> dict:
    label = lambda v: {"label": v}  # noqa: E731
    return {"id": label(str(n)), "updated": label(at.strftime("%Y-%m-%dT%H:%M:%S-07:00")),
            "im:rating": label("1"), "im:version": label("6.1.0"), "title": label(f"title {n}"),
            "content": label(text), "author": {"name": label(author)}}


def write_config(tmp_path, server) -> str:
    http = {"base_url": server.base_url, "retries": 0, "politeness_delay_s": 0}
    config = {
        "storage": {"path": str(tmp_path / "m.db")},
        "sources": [
            {"name": "okx-app-store", "type": "app_store",
             "options": {"app_id": APP_ID, "countries": ["gb"], **http}},
            {"name": "broken-feed", "type": "rss", "schedule": "5m",
             "options": {"url": "https://forum.example.com/latest.rss", **http}},
            {"name": "x-search", "type": "twitter", "requires_env": ["X_TEST_TOKEN_UNSET"],
             "options": {"query": "MEXC", "bearer_token_env": "X_TEST_TOKEN_UNSET"}},
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_sources_list_shows_type_schedule_and_state(tmp_path, server, monkeypatch):
    monkeypatch.delenv("X_TEST_TOKEN_UNSET", raising=False)
    result = run("sources", "list", "--config", write_config(tmp_path, server))
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[1:] if line.strip()}
    assert "app_store" in rows["okx-app-store"] and "1h (default)" in rows["okx-app-store"]
    assert "active" in rows["okx-app-store"]
    assert "5m" in rows["broken-feed"] and "(default)" not in rows["broken-feed"]
    assert "needs X_TEST_TOKEN_UNSET" in rows["x-search"]
    assert server.requests == []  # listing fetches nothing


def test_sources_test_prints_clean_posts_and_stores_nothing(tmp_path, server):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    feed = {"feed": {"entry": [review(2, now, f"withdrawal stuck {HOSTILE} 提现不到账", author=f"eve{HOSTILE}"),
                               review(1, now - timedelta(hours=1), "login works again")]}}
    server.route("GET", PAGE1, Reply(200, json.dumps(feed), {"Content-Type": "application/json"}))
    config = write_config(tmp_path, server)

    result = run("sources", "test", "okx-app-store", "--config", config)
    assert result.exit_code == 0, result.output
    assert "okx-app-store:2" in result.output and "withdrawal stuck" in result.output
    assert "提现不到账" in result.output and "login works again" in result.output
    # Hostile text cannot reach the terminal as escape sequences or bidi overrides.
    for char in ("\x1b", "\x07", "\u202e"):
        assert char not in result.output
    assert "2 post(s) fetched; nothing was stored" in result.output
    assert len(server.requests_to(PAGE1)) == 1

    store = open_store(tmp_path / "m.db")
    try:
        assert store.count_posts() == 0 and store.get_cursor("okx-app-store") == {}
        assert store.source_health() == []
    finally:
        store.close()

    as_json = run("sources", "test", "okx-app-store", "--json", "--limit", "1", "--config", config)
    lines = [json.loads(line) for line in as_json.output.splitlines() if line.startswith("{")]
    assert [line["id"] for line in lines] == ["2"] and "(more available)" in as_json.output


def test_sources_test_reports_errors_and_unknown_names(tmp_path, server):
    server.route("GET", "/latest.rss", Reply(410, f"feed gone {HOSTILE}"))  # the server's words are quoted
    config = write_config(tmp_path, server)
    failed = run("sources", "test", "broken-feed", "--config", config)
    assert failed.exit_code != 0
    assert "broken-feed: SourceError" in failed.output and "HTTP 410" in failed.output
    assert "feed gone" in failed.output and "\x1b" not in failed.output and "\u202e" not in failed.output
    unknown = run("sources", "test", "nope", "--config", config)
    assert unknown.exit_code != 0 and "okx-app-store" in unknown.output


def test_a_failing_source_does_not_stop_the_others_and_silence_shows_as_stale(tmp_path, server):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    feed = {"feed": {"entry": [review(1, now, "deposit arrived, thanks")]}}
    server.route("GET", PAGE1, Reply(200, json.dumps(feed), {"Content-Type": "application/json"}))
    server.route("GET", "/latest.rss", Reply(200, "<html>not a feed</html>", {"Content-Type": "text/html"}))
    config = write_config(tmp_path, server)

    result = run("run", "--once", "--config", config)
    assert result.exit_code == 1  # one source failed...
    assert "okx-app-store: ok: 1 new" in result.output  # ...and the other still ran
    assert "broken-feed: FAILED" in result.output and "x-search" not in result.output
    status = {s["name"]: s for s in json.loads(run("status", "--json", "--config", config).output)["sources"]}
    assert status["okx-app-store"]["state"] == "ok" and status["okx-app-store"]["posts_total"] == 1
    assert status["broken-feed"]["state"] == "failing" and "not a readable" in status["broken-feed"]["last_error"]
    assert not status["okx-app-store"]["stale"]

    # The App Store's expected period is 2 days: three days of silence make it stale.
    store = open_store(tmp_path / "m.db")
    try:
        long_ago = to_db(now - timedelta(days=3))
        with store.transaction() as conn:  # age the health row: the last new post came 3 days ago
            conn.execute("UPDATE source_health SET last_new_post_at = ?, first_run_at = ? WHERE source = ?",
                         (long_ago, long_ago, "okx-app-store"))
    finally:
        store.close()
    status = {s["name"]: s for s in json.loads(run("status", "--json", "--config", config).output)["sources"]}
    assert status["okx-app-store"]["stale"] and not status["broken-feed"]["stale"]


SECRET = "k3y-s3cr3t-0451"
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Forum</title><link>https://forum.example.com/</link>
<item><title>Withdrawal stuck</title><guid>https://forum.example.com/t/1</guid>
<link>https://forum.example.com/t/1</link><pubDate>{date}</pubDate>
<description>&lt;p&gt;Pending for two days&lt;/p&gt;</description></item>
</channel></rss>"""


def test_a_secret_in_a_feed_address_reaches_neither_the_database_nor_the_output(tmp_path, server, monkeypatch):
    """A private feed (Discourse api_key, Reddit's private feed token) keeps its key in an env
    variable; the request carries it, but cursors, posts, health rows and messages do not."""
    monkeypatch.setenv("FORUM_KEY", SECRET)
    date = datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
    asked = []

    def feed(request):
        asked.append(request.query.get("api_key"))
        return Reply(200, RSS.format(date=date), {"Content-Type": "application/rss+xml"})

    server.route("GET", "/latest.rss", feed, Reply(200, "<html>login</html>", {"Content-Type": "text/html"}))
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage: {{path: {tmp_path / 'm.db'}}}\n"
        "sources:\n"
        "  - name: private-forum\n"
        "    type: rss\n"
        "    options:\n"
        f"      url: {server.base_url}/latest.rss?api_key=${{FORUM_KEY}}\n"
        "      retries: 0\n"
        "      politeness_delay_s: 0\n")
    first = run("run", "--once", "--config", str(path))
    assert "private-forum: ok: 1 new" in first.output and asked == [[SECRET]]
    second = run("run", "--once", "--config", str(path))
    assert "private-forum: FAILED" in second.output and "api_key=" in second.output
    tried = run("sources", "test", "private-forum", "--config", str(path))
    assert "not a readable RSS/Atom document" in tried.output
    for output in (first.output, second.output, tried.output):
        assert SECRET not in output

    dump = "\n".join(sqlite3.connect(tmp_path / "m.db").iterdump())
    assert "Withdrawal stuck" in dump and "not a readable RSS/Atom document" in dump
    assert SECRET not in dump
