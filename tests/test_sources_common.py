"""The shared HTTP layer, the preview helper, option plumbing and the example sources."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from loopback_http import Reply
from sources_helpers import FakeSleep, fixture_bytes, make_context, server  # noqa: F401

from monitor.clock import ManualClock
from monitor.errors import (
    DeliveryError,
    PermanentDeliveryError,
    SourceAuthError,
    SourceError,
    SourceUnavailable,
)
from monitor.sources import SOURCES, create_source, example_sources_yaml, preview
from monitor.sources.common import parse_duration
from monitor.sources.http import (
    HostPacer,
    HttpClient,
    delivery_error,
    parse_retry_after,
    rebase,
)

NOW = datetime(2025, 3, 2, tzinfo=timezone.utc)


def client(server, **kwargs) -> tuple[HttpClient, FakeSleep]:
    sleep = FakeSleep(ManualClock(NOW))
    defaults = dict(base_url=server.base_url, sleep=sleep, clock=sleep.clock, pacer=HostPacer(), retries=2)
    return HttpClient(**{**defaults, **kwargs}), sleep


def test_relative_paths_join_the_base_url_and_rebase_swaps_the_host(server):
    server.route("GET", "/api/v1/x", Reply(200, b"ok"))
    http, _ = client(server, base_url=server.base_url + "/api/")
    assert http.get("/v1/x").text == "ok"
    assert (
        rebase("https://api.twitter.com/2/tweets?x=1", "http://127.0.0.1:9/proxy/")
        == "http://127.0.0.1:9/proxy/2/tweets?x=1"
    )
    assert rebase("https://a.example/p", None) == "https://a.example/p"


def test_auth_errors_name_the_endpoint_without_the_query(server):
    server.route("GET", "/private", Reply(403, b"forbidden"))
    http, sleep = client(server)
    with pytest.raises(SourceAuthError) as info:
        http.get("/private", params={"api_key": "s3cret"})
    assert "GET http://127.0.0.1" in str(info.value) and "/private" in str(info.value)
    assert "s3cret" not in str(info.value) and sleep.calls == []


def test_other_4xx_is_not_retried(server):
    server.route("GET", "/missing", Reply(404, b"Not here"))
    http, sleep = client(server)
    with pytest.raises(SourceError) as info:
        http.get("/missing")
    assert type(info.value) is SourceError and "HTTP 404" in str(info.value) and "Not here" in str(info.value)
    assert len(server.requests) == 1


def test_backoff_is_exponential_with_full_jitter(server):
    server.route("GET", "/flaky", Reply(500))
    http, sleep = client(server, retries=4, backoff=1.0, max_backoff=5.0)
    with pytest.raises(SourceUnavailable):
        http.get("/flaky")
    caps = [1, 2, 4, 5]
    assert len(sleep.calls) == 4 and all(0 <= s <= c for s, c in zip(sleep.calls, caps, strict=True))
    assert len(set(sleep.calls)) == 4  # jittered, not a fixed ladder


def test_retry_after_on_503_is_honoured(server):
    server.route("GET", "/busy", Reply(503, b"", {"Retry-After": "7"}), Reply(200, b"fine"))
    http, sleep = client(server)
    assert http.get("/busy").text == "fine" and sleep.calls == [7.0]


def test_parse_retry_after():
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Sun, 02 Mar 2025 00:01:00 GMT", NOW) == 60
    assert parse_retry_after("Sat, 01 Mar 2025 00:00:00 GMT", NOW) == 0
    assert parse_retry_after("soon", NOW) is None and parse_retry_after(None, NOW) is None


def test_politeness_delay_spaces_requests_to_one_host(server):
    server.route("GET", "/a", Reply(200, b"a"))
    ticks = iter([100.0, 100.1, 100.2, 100.3])
    pacer = HostPacer(monotonic=lambda: next(ticks))
    http, sleep = client(server, politeness_delay=2.0, pacer=pacer)
    for _ in range(3):
        http.get("/a")
    assert sleep.calls == pytest.approx([1.9, 3.8])  # reserved slots at 100, 102, 104


def test_response_size_cap(server):
    server.route("GET", "/big", Reply(200, b"x" * 5000))
    http, _ = client(server, max_bytes=1000)
    with pytest.raises(SourceError, match="larger than 1000 bytes"):
        http.get("/big")


def test_gzip_bodies_are_decoded_once(server):
    import gzip

    server.route(
        "GET",
        "/gz",
        Reply(
            200,
            gzip.compress("提现 stuck".encode()),
            {"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
        ),
    )
    http, _ = client(server)
    assert http.get("/gz").text == "提现 stuck"


def test_delivery_error_factory_for_channels(server):
    server.route("POST", "/hook", Reply(429, b"", {"Retry-After": "600"}))
    server.route("POST", "/bad", Reply(400, b"invalid payload"))
    http, _ = client(server, errors=delivery_error, max_wait=60)
    with pytest.raises(DeliveryError) as info:
        http.post("/hook", json={"a": 1})
    assert not isinstance(info.value, PermanentDeliveryError) and info.value.retry_after == 600
    with pytest.raises(PermanentDeliveryError):
        http.post("/bad", json={"a": 1})


def test_connection_refused_is_unavailable():
    sleep = FakeSleep(ManualClock(NOW))
    http = HttpClient(
        base_url="http://127.0.0.1:9", retries=1, sleep=sleep, clock=sleep.clock, pacer=HostPacer(), timeout=2
    )
    with pytest.raises(SourceUnavailable, match="ConnectError"):
        http.get("/")
    assert len(sleep.calls) == 1


def test_preview_stores_nothing_and_stops_at_the_limit(server):
    server.route(
        "GET",
        "/latest.rss",
        Reply(200, fixture_bytes("rss", "discourse_latest.rss"), {"Content-Type": "application/rss+xml"}),
    )
    context, _ = make_context()
    src = create_source(
        "rss", "forum", {"url": "https://forum.exchange.example/latest.rss", "base_url": server.base_url}, context
    )
    result = preview(src, limit=1)
    assert len(result.posts) == 1 and result.truncated
    assert result.posts[0].external_id == "forum.exchange.example-topic-1234"
    assert "feeds" in result.cursor  # what would have been committed
    whole = preview(
        create_source(
            "rss", "forum", {"url": "https://forum.exchange.example/latest.rss", "base_url": server.base_url}, context
        )
    )
    assert len(whole.posts) == 2 and not whole.truncated


def test_preview_propagates_errors(server):
    server.route("GET", "/latest.rss", Reply(401, b"no"))
    context, _ = make_context()
    src = create_source(
        "rss", "forum", {"url": "https://forum.exchange.example/latest.rss", "base_url": server.base_url}, context
    )
    with pytest.raises(SourceAuthError):
        preview(src)


def test_parse_duration():
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("6h") == timedelta(hours=6)
    assert parse_duration("2d") == timedelta(days=2) and parse_duration(30) == timedelta(seconds=30)
    with pytest.raises(ValueError):
        parse_duration("6 hours")


def test_every_type_has_a_schedule_and_a_staleness_period():
    for name in ("twitter", "google_play", "app_store", "rss"):
        cls = SOURCES.get(name)
        assert cls.type == name
        assert re.fullmatch(r"\d+[smhd]", cls.default_schedule)
        assert timedelta(hours=1) <= cls.expected_period <= timedelta(days=7)


INTERVAL = re.compile(r"^\d+[smhdw]$")
CRON = re.compile(r"^(\S+\s+){4}\S+$")


def test_example_sources_validate_against_their_plugins(monkeypatch):
    entries = yaml.safe_load(example_sources_yaml())
    assert isinstance(entries, list) and len(entries) >= 6
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names))
    context, _ = make_context()
    types = set()
    for entry in entries:
        assert set(entry) <= {"name", "type", "schedule", "options", "requires_env"}, entry["name"]
        cls = SOURCES.get(entry["type"])
        options = cls.Options.model_validate(entry.get("options") or {})
        schedule = entry.get("schedule", cls.default_schedule)
        assert INTERVAL.match(schedule) or CRON.match(schedule), schedule
        types.add(entry["type"])
        if entry["type"] == "twitter":
            assert options.bearer_token_env in entry["requires_env"]
        else:
            assert "requires_env" not in entry  # everything else works with no credentials
        monkeypatch.setenv("X_BEARER_TOKEN", "x")
        create_source(entry["type"], entry["name"], entry.get("options") or {}, context)
    assert types == {"twitter", "google_play", "app_store", "rss"}
    apps = {e["options"]["app_id"] for e in entries if e["type"] in ("google_play", "app_store")}
    assert apps == {"com.okinc.okex.gp", "com.mexcpro.client", "1327268470"}
