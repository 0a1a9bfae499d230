"""Google Play collector against a loopback peer speaking Play's batchexecute review protocol."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
from loopback_http import Reply
from sources_helpers import (  # noqa: F401
    MULTILINGUAL,
    fixture_text,
    make_context,
    posts_of,
    run,
    server,
    take_batches,
)

from monitor.errors import SourceError, SourceRateLimited, SourceUnavailable
from monitor.sources import create_source

APP = "com.okinc.okex.gp"
PATH = "/_/PlayStoreUi/data/batchexecute"


def item(rid: str, at: datetime, text: str = "", score: int = 1, reply: str | None = None) -> list:
    ts = int(at.timestamp())
    return [
        rid,
        ["user " + rid[-4:], [None, 2, [96, 96], [None, None, "https://play-lh.googleusercontent.com/a-/x"]]],
        score,
        None,
        text or f"review {rid}",
        [ts, 0],
        0,
        [None, reply, [ts + 60, 0]] if reply else None,
        None,
        None,
        "6.102.0",
    ]


def body(items: list, token: str | None) -> str:
    inner = [items, [None, token], None] if token else [items, None]
    return ")]}'\n\n" + json.dumps(
        [["wrb.fr", "oCPfdb", json.dumps(inner, ensure_ascii=False), None, None, None, "generic"]]
    )


def request_args(request) -> tuple[int, str | None]:
    """(count, pagination token) from the f.req form field, as Play's server reads them."""
    freq = json.loads(parse_qs(request.body.decode())["f.req"][0])
    args = json.loads(freq[0][0][1])
    paging = args[1][2]
    return paging[0], (paging[2] if len(paging) > 2 else None)


class PlayReviews:
    """Serves `reviews` (newest first) page by page; tokens are opaque offsets."""

    def __init__(self, server, reviews: list) -> None:
        self.reviews = reviews
        self.tokens_seen: list[str | None] = []
        server.reset_route("POST", PATH, self.respond)

    def respond(self, request) -> Reply:
        count, token = request_args(request)
        self.tokens_seen.append(token)
        offset = int(token.removeprefix("tok-")) if token else 0
        page = self.reviews[offset : offset + count]
        more = offset + count < len(self.reviews)
        return Reply(200, body(page, f"tok-{offset + count}" if more else None), {"Content-Type": "application/json"})


def timeline(count: int, newest: datetime, prefix: str = "gp:r", step=timedelta(minutes=5)) -> list:
    return [
        item(f"{prefix}{count - i:05d}", newest - i * step, text=f"{MULTILINGUAL['vi']} #{count - i}")
        for i in range(count)
    ]


def source(server, context, **options):
    options = {"app_id": APP, "base_url": server.base_url, "politeness_delay_s": 0, **options}
    return create_source("google_play", "okx-android", options, context)


@pytest.fixture
def local_tz(monkeypatch):
    """Run with a non-UTC local zone: google-play-scraper's naive datetimes are local time."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_parses_a_recorded_page(server, local_tz):
    server.route("POST", PATH, Reply(200, fixture_text("google_play", "batchexecute_reviews_last_page.txt")))
    context, _ = make_context()
    batches, cursor, error = run(source(server, context, locales=[{"lang": "vi", "country": "VN"}]))
    assert error is None
    posts = posts_of(batches)
    assert [p.text for p in posts] == [MULTILINGUAL["en"], MULTILINGUAL["zh"]]
    first = posts[0]
    assert first.external_id == "gp:AOqpTOH0xQ3c_vKk9Zr2mLw8Pq4EoT7uYbN1sD5fGh6jK0aXe0"
    assert first.created_at == datetime.fromtimestamp(1740830000, tz=timezone.utc)  # exact, despite TZ
    assert first.created_at.tzinfo is timezone.utc
    assert first.author == "Mike Johnson" and first.rating == 1 and first.app_version == "6.102.0"
    assert first.meta["thumbs_up"] == 12 and first.meta["country"] == "vn" and first.meta["app_id"] == APP
    assert first.meta["reply_text"].startswith("Hi, sorry for the trouble")
    assert first.meta["replied_at"] == "2025-03-01T12:53:20Z"
    assert posts[1].author == "王小明" and posts[1].meta["reply_text"] is None and posts[1].meta["replied_at"] is None
    request = server.requests[0]
    assert request.query == {"hl": ["vi"], "gl": ["VN"]}
    assert request_args(request) == (100, None)
    assert "walk" not in cursor["streams"]["vi-vn"]


def test_recorded_page_with_token_continues(server):
    server.route(
        "POST",
        PATH,
        Reply(200, fixture_text("google_play", "batchexecute_reviews_page1.txt")),
        Reply(200, body([], None)),
    )
    context, _ = make_context()
    batches, _, error = run(source(server, context, initial_lookback="30d"))
    assert error is None and len(posts_of(batches)) == 8
    assert {p.text for p in posts_of(batches)} == set(MULTILINGUAL.values())
    assert request_args(server.requests[1])[1] == "CpEBATbS0Q2xYQ8oJ5_eBMg2zCgJx4fYzH3bQbqUMb0eHc0n7G2d0yQ"


def test_walk_then_incremental_run(server):
    context, _ = make_context()
    now = context.clock.now()
    play = PlayReviews(server, timeline(250, now - timedelta(hours=1)))
    batches, cursor, error = run(source(server, context))
    assert error is None and len(posts_of(batches)) == 250 and len(batches) == 3

    play.reviews = timeline(4, now, prefix="gp:new") + play.reviews
    play.tokens_seen.clear()
    batches, cursor, error = run(source(server, context), cursor)
    assert [p.external_id for p in posts_of(batches)] == ["gp:new00004", "gp:new00003", "gp:new00002", "gp:new00001"]
    assert play.tokens_seen == [None]  # one page: the rest was already collected


def test_restart_mid_pagination_resumes_from_the_stored_token(server):
    context, _ = make_context()
    now = context.clock.now()
    play = PlayReviews(server, timeline(430, now - timedelta(minutes=1)))
    first, cursor = take_batches(source(server, context), {}, 2)
    assert cursor["streams"]["en-us"]["walk"]["page"] == "tok-200"
    play.tokens_seen.clear()
    rest, cursor, error = run(source(server, context), cursor)
    assert error is None
    assert play.tokens_seen == ["tok-200", "tok-300", "tok-400"]  # no page fetched twice
    ids = [p.external_id for p in posts_of(first + rest)]
    assert len(ids) == len(set(ids)) == 430


def test_page_cap_carries_the_walk_over_to_the_next_run(server):
    context, _ = make_context()
    PlayReviews(server, timeline(500, context.clock.now()))
    batches, cursor, _ = run(source(server, context, max_pages=2, page_size=50))
    assert len(posts_of(batches)) == 100 and cursor["streams"]["en-us"]["walk"]["page"] == "tok-100"
    total = len(posts_of(batches))
    while "walk" in cursor["streams"]["en-us"]:
        batches, cursor, _ = run(source(server, context, max_pages=2, page_size=50), cursor)
        total += len(posts_of(batches))
    assert total == 500


def test_first_run_lookback_limits_history(server):
    context, _ = make_context()
    now = context.clock.now()
    play = PlayReviews(server, timeline(1000, now, step=timedelta(hours=1)))
    posts = posts_of(run(source(server, context, initial_lookback="2d"))[0])
    assert len(posts) == 49  # now .. now-48h
    assert len(play.tokens_seen) == 1


def test_edited_review_is_emitted_again_with_the_same_id(server):
    context, _ = make_context()
    now = context.clock.now()
    play = PlayReviews(server, timeline(10, now - timedelta(hours=1)))
    _, cursor, _ = run(source(server, context))
    edited = item("gp:r00005", now, text="Resolved by support, thanks. Теперь всё работает.", score=4)
    play.reviews = [edited] + [r for r in play.reviews if r[0] != "gp:r00005"]
    posts = posts_of(run(source(server, context), cursor)[0])
    assert [(p.external_id, p.rating, p.text) for p in posts] == [
        ("gp:r00005", 4, "Resolved by support, thanks. Теперь всё работает.")
    ]


def test_duplicates_across_pages_are_emitted_once(server):
    context, _ = make_context()
    reviews = timeline(30, context.clock.now())
    server.route("POST", PATH, Reply(200, body(reviews[:20], "t2")), Reply(200, body(reviews[18:30], None)))
    ids = [p.external_id for p in posts_of(run(source(server, context))[0])]
    assert len(ids) == len(set(ids)) == 30


def test_locales_are_walked_separately(server):
    context, _ = make_context()
    now = context.clock.now()
    PlayReviews(server, timeline(3, now))
    batches, cursor, _ = run(
        source(server, context, locales=[{"lang": "en", "country": "us"}, {"lang": "ko", "country": "kr"}])
    )
    assert set(cursor["streams"]) == {"en-us", "ko-kr"}
    assert sorted({p.meta["country"] for p in posts_of(batches)}) == ["kr", "us"]


def test_throttling_marker_is_a_rate_limit(server):
    context, _ = make_context()
    server.route("POST", PATH, Reply(200, fixture_text("google_play", "batchexecute_throttled.txt")))
    _, _, error = run(source(server, context))
    assert isinstance(error, SourceRateLimited)


def test_unknown_app_is_reported_in_the_note_not_silently_empty(server):
    context, _ = make_context()
    server.route("POST", PATH, Reply(200, fixture_text("google_play", "batchexecute_unknown_app.txt")))
    batches, _, error = run(source(server, context))
    assert error is None and posts_of(batches) == []
    assert "no review data" in batches[0].note


@pytest.mark.parametrize(
    "payload",
    [
        ')]}\'\n\n[["wrb.fr","oCPfdb","[[[\\"gp:1\\",[\\"a\\"',  # truncated
        "<!doctype html><html><body>Error 400 (Bad Request)!!1</body></html>",  # not the protocol at all
        ')]}\'\n\n[["wrb.fr","oCPfdb","{not json",null,null,null,"generic"]]',
    ],
)
def test_malformed_responses_are_errors_not_empty_results(server, payload):
    context, _ = make_context()
    server.route("POST", PATH, Reply(200, payload))
    _, _, error = run(source(server, context))
    assert type(error) is SourceError and "unexpected response" in str(error)


def test_a_review_without_time_is_skipped_and_noted_not_fatal_for_its_page(server):
    context, _ = make_context()
    good = timeline(2, context.clock.now())
    server.route("POST", PATH, Reply(200, body([good[0], ["gp:x", ["u"], 3, None, "text", None], good[1]], None)))
    batches, _, error = run(source(server, context))
    assert error is None
    assert len(posts_of(batches)) == 2  # the readable reviews around it are kept
    assert "skipped 1 unreadable review(s)" in batches[0].note and "without id or time" in batches[0].note


def test_5xx_retried_then_unavailable_and_earlier_pages_stay(server):
    context, sleep = make_context()
    reviews = timeline(150, context.clock.now())
    server.route("POST", PATH, Reply(200, body(reviews[:100], "tok-100")), Reply(502, b"Bad Gateway"))
    batches, cursor, error = run(source(server, context, retries=1))
    assert len(posts_of(batches)) == 100
    assert isinstance(error, SourceUnavailable) and "HTTP 502" in str(error)
    assert cursor["streams"]["en-us"]["walk"]["page"] == "tok-100"
    assert len(sleep.calls) == 1


def test_timeout(server):
    context, _ = make_context()
    server.route("POST", PATH, Reply(200, body([], None), delay=1.0))
    _, _, error = run(source(server, context, timeout_s=0.1, retries=0))
    assert isinstance(error, SourceUnavailable) and "timed out" in str(error)


def assert_prints_ok(code: str) -> None:
    """Run `code` in a fresh interpreter (imports and TLS defaults are process-wide)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_importing_the_scraper_through_us_keeps_tls_verification_on():
    code = (
        "import ssl, sys\n"
        "before = ssl._create_default_https_context\n"
        "from monitor.sources import play_scraper\n"
        "assert 'google_play_scraper' not in sys.modules, 'imported eagerly'\n"
        "play_scraper.load()\n"
        "assert 'google_play_scraper.utils.request' in sys.modules\n"
        "assert ssl._create_default_https_context is before, ssl._create_default_https_context\n"
        "import urllib.request\n"
        "ctx = ssl._create_default_https_context()\n"
        "assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname\n"
        "from monitor.sources import SOURCES\n"
        "SOURCES.get('google_play')\n"
        "assert ssl._create_default_https_context is before\n"
        "print('ok')\n"
    )
    assert_prints_ok(code)


def test_tls_verification_is_restored_when_other_code_imported_the_scraper_first():
    code = (
        "import ssl\n"
        "import google_play_scraper  # someone else's import: checks are now off\n"
        "assert ssl._create_default_https_context is ssl._create_unverified_context\n"
        "from monitor.sources import play_scraper\n"
        "play_scraper.load()\n"
        "ctx = ssl._create_default_https_context()\n"
        "assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname, ssl._create_default_https_context\n"
        "print('ok')\n"
    )
    assert_prints_ok(code)


def test_the_bare_library_import_does_disable_tls_checks():
    """The trap the loader guards against is real (so the test above can fail)."""
    code = (
        "import ssl\n"
        "import google_play_scraper\n"
        "print(ssl._create_default_https_context is ssl._create_unverified_context)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True"
