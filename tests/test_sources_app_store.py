"""App Store collector against a loopback peer serving Apple's customer-reviews JSON feed."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from loopback_http import Reply
from sources_helpers import (  # noqa: F401
    MULTILINGUAL,
    fixture_json,
    make_context,
    posts_of,
    run,
    server,
    take_batches,
)

from monitor.errors import SourceError, SourceRateLimited, SourceUnavailable
from monitor.sources import create_source

APP = "1327268470"
TEMPLATE = fixture_json("app_store", "customerreviews_us_page1.json")


def path(page: int, country: str = "us") -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={APP}/sortby=mostrecent/json"


def review(n: int, updated: datetime, text: str | None = None) -> dict:
    entry = copy.deepcopy(TEMPLATE["feed"]["entry"][0])
    entry["id"]["label"] = str(11900000000 + n)
    entry["updated"]["label"] = updated.astimezone(timezone(timedelta(hours=-7))).isoformat()
    entry["content"]["label"] = text or f"review {n}: {MULTILINGUAL['ru']}"
    entry["author"]["name"]["label"] = f"user{n}"
    return entry


def feed(entries: list[dict]) -> bytes:
    doc = copy.deepcopy(TEMPLATE)
    if entries:
        doc["feed"]["entry"] = entries
    else:
        del doc["feed"]["entry"]
    return json.dumps(doc, ensure_ascii=False).encode()


class AppleFeed:
    """Serves `reviews` (newest first) in pages of 50, at most 10 pages, like Apple does."""

    def __init__(self, server, reviews: list[dict], country: str = "us") -> None:
        self.reviews = reviews
        for page in range(1, 11):
            server.reset_route("GET", path(page, country), self._responder(page))

    def _responder(self, page: int):
        def respond(request):
            return Reply(200, feed(self.reviews[(page - 1) * 50 : page * 50]), {"Content-Type": "application/json"})

        return respond


def timeline(count: int, newest: datetime, step=timedelta(minutes=7), start: int = 0) -> list[dict]:
    return [review(start + count - i, newest - i * step) for i in range(count)]


def source(server, context, **options):
    options = {"app_id": APP, "base_url": server.base_url, "politeness_delay_s": 0, **options}
    return create_source("app_store", "okx-ios", options, context)


def test_parses_a_recorded_page_into_posts(server):
    server.route(
        "GET", path(1), Reply(200, json.dumps(TEMPLATE, ensure_ascii=False), {"Content-Type": "application/json"})
    )
    context, _ = make_context()
    batches, cursor, error = run(source(server, context))
    assert error is None
    posts = posts_of(batches)
    assert len(posts) == 8
    first = posts[0]
    assert first.external_id == "11800000100"
    assert first.source_type == "app_store" and first.source == "okx-ios"
    assert first.created_at == datetime(2025, 3, 1, 15, 15, 30, tzinfo=timezone.utc)  # -07:00 converted
    assert first.rating == 1 and first.app_version == "6.102.0" and first.title == "Withdrawal stuck"
    assert first.author == "user_en_100"
    assert first.meta == {"country": "us", "app_id": APP, "vote_sum": 1, "vote_count": 0}
    assert first.fetched_at == context.clock.now()
    assert {p.text for p in posts} == set(MULTILINGUAL.values())  # every script intact
    assert server.requests[0].headers["user-agent"].startswith("feedback-monitor-tests")
    # a short page (8 < 50) is the last: one request, walk complete
    assert len(server.requests) == 1
    assert "walk" not in cursor["streams"]["us"]
    assert cursor["streams"]["us"]["seen"]["ids"] == ["11800000100"]


def test_single_entry_object_and_app_metadata_entry(server):
    doc = fixture_json("app_store", "customerreviews_single_entry.json")
    server.route("GET", path(1), Reply(200, json.dumps(doc), {"Content-Type": "application/json"}))
    context, _ = make_context()
    posts = posts_of(run(source(server, context))[0])
    assert [p.text for p in posts] == [MULTILINGUAL["ko"]]

    meta_entry = {
        "im:name": {"label": "OKX: Buy Bitcoin BTC & Crypto"},
        "id": {"label": "https://apps.apple.com/app/id1327268470"},
    }
    server.reset_route(
        "GET", path(1), Reply(200, feed([meta_entry, review(1, datetime(2025, 3, 1, tzinfo=timezone.utc))]))
    )
    posts = posts_of(run(source(server, context))[0])
    assert [p.external_id for p in posts] == ["11900000001"]


def test_empty_feed_and_empty_body_end_the_walk(server):
    server.route("GET", path(1), Reply(200, feed([])))
    context, _ = make_context()
    batches, cursor, error = run(source(server, context))
    assert error is None and posts_of(batches) == [] and len(server.requests) == 1
    server.reset_route("GET", path(1), Reply(200, b""))
    batches, cursor, error = run(source(server, context), cursor)
    assert error is None and posts_of(batches) == []


def test_full_walk_then_incremental_run_fetches_only_new_reviews(server):
    context, _ = make_context()
    now = context.clock.now()
    apple = AppleFeed(server, timeline(120, now - timedelta(hours=1)))
    batches, cursor, error = run(source(server, context))
    assert error is None
    assert len(posts_of(batches)) == 120
    assert [len(b.posts) for b in batches] == [50, 50, 20]

    apple.reviews = timeline(3, now, start=1000) + apple.reviews
    server.requests.clear()
    batches, cursor, error = run(source(server, context), cursor)
    assert error is None
    assert [p.external_id for p in posts_of(batches)] == [str(11900000000 + n) for n in (1003, 1002, 1001)]
    assert len(server.requests) == 1  # stopped at the first review already seen

    server.requests.clear()
    batches, _, _ = run(source(server, context), cursor)
    assert posts_of(batches) == [] and len(server.requests) == 1


def test_first_run_stops_at_the_lookback_floor(server):
    context, _ = make_context()
    now = context.clock.now()
    AppleFeed(server, timeline(200, now, step=timedelta(hours=12)))  # 100 days of reviews
    batches, cursor, error = run(source(server, context, initial_lookback="10d"))
    assert error is None
    posts = posts_of(batches)
    assert len(posts) == 21  # now, now-12h, ... now-10d
    assert min(p.created_at for p in posts) >= now - timedelta(days=10)
    assert len(server.requests) == 1


def test_restart_in_the_middle_of_pagination_with_shifting_pages(server):
    context, _ = make_context()
    now = context.clock.now()
    apple = AppleFeed(server, timeline(180, now - timedelta(hours=1)))
    expected = {e["id"]["label"] for e in apple.reviews}

    first, cursor = take_batches(source(server, context), {}, 2)  # crash after page 2
    assert cursor["streams"]["us"]["walk"]["page"] == 3
    # while we were down, 7 new reviews pushed everything down by 7 places
    fresh = timeline(7, now, start=5000)
    apple.reviews = fresh + apple.reviews
    rest, cursor, error = run(source(server, context), cursor)
    assert error is None
    ids = [p.external_id for p in posts_of(first + rest)]
    assert len(ids) == len(set(ids)), "a shifted review was emitted twice"
    assert set(ids) == expected  # the walk finished exactly the old set
    # the next walk picks up the 7 that arrived meanwhile, and nothing else
    batches, cursor, error = run(source(server, context), cursor)
    assert {p.external_id for p in posts_of(batches)} == {e["id"]["label"] for e in fresh}


def test_duplicates_across_pages_are_emitted_once(server):
    context, _ = make_context()
    now = context.clock.now()
    reviews = timeline(60, now)
    page1, page2 = reviews[:50], reviews[48:60]  # two reviews repeated on page 2
    server.route("GET", path(1), Reply(200, feed(page1)))
    server.route("GET", path(2), Reply(200, feed(page2)))
    ids = [p.external_id for p in posts_of(run(source(server, context))[0])]
    assert len(ids) == 60 == len(set(ids))


def test_an_edited_review_comes_back_with_its_id_and_new_text(server):
    context, _ = make_context()
    now = context.clock.now()
    apple = AppleFeed(server, timeline(5, now - timedelta(hours=2)))
    _, cursor, _ = run(source(server, context))
    edited = review(3, now, text="Fixed after the update, 5 stars. Спасибо!")
    apple.reviews = [edited] + [r for r in apple.reviews if r["id"]["label"] != edited["id"]["label"]]
    posts = posts_of(run(source(server, context), cursor)[0])
    assert [(p.external_id, p.text) for p in posts] == [("11900000003", "Fixed after the update, 5 stars. Спасибо!")]


def test_page_cap_and_apples_ten_page_limit(server):
    context, _ = make_context()
    now = context.clock.now()
    AppleFeed(server, timeline(600, now, step=timedelta(minutes=1)))
    batches, cursor, _ = run(source(server, context, max_pages=4))
    assert len(batches) == 4 and cursor["streams"]["us"]["walk"]["page"] == 5
    batches, cursor, _ = run(source(server, context), cursor)
    assert len(batches) == 6  # pages 5..10, never page 11
    assert "walk" not in cursor["streams"]["us"]
    assert all(int(r.path.split("page=")[1].split("/")[0]) <= 10 for r in server.requests)


def test_countries_have_independent_cursors(server):
    context, _ = make_context()
    now = context.clock.now()
    AppleFeed(server, timeline(3, now), "us")
    AppleFeed(server, timeline(2, now, start=100), "gb")
    batches, cursor, error = run(source(server, context, countries=["US", "gb"]))
    assert error is None
    assert set(cursor["streams"]) == {"us", "gb"}
    assert sorted(p.meta["country"] for p in posts_of(batches)) == ["gb", "gb", "us", "us", "us"]


def test_server_errors_are_retried_then_reported(server):
    context, sleep = make_context()
    now = context.clock.now()
    good = feed(timeline(50, now))
    server.route("GET", path(1), Reply(503, b"busy"), Reply(200, good))
    server.route("GET", path(2), Reply(500, b"<html>oops</html>"))
    batches, cursor, error = run(source(server, context, retries=2))
    assert len(posts_of(batches)) == 50  # page 1 committed despite the later failure
    assert isinstance(error, SourceUnavailable)
    assert "HTTP 500" in str(error) and "page=2" in str(error) and "3 attempts" in str(error)
    assert len(sleep.calls) == 3 and all(0 <= s <= 4 for s in sleep.calls)  # jittered backoff
    assert cursor["streams"]["us"]["walk"]["page"] == 2


@pytest.mark.parametrize(
    "body",
    [
        b'{"feed": {"entry": [{"id": {"label": "1"}, "im:rating": {"lab',
        b"<html><body>Service Unavailable</body></html>",
    ],
)
def test_truncated_or_malformed_json_is_a_source_error(server, body):
    server.route("GET", path(1), Reply(200, body, {"Content-Type": "application/json"}))
    context, _ = make_context()
    batches, _, error = run(source(server, context))
    assert type(error) is SourceError and "malformed JSON" in str(error)


def test_an_invalid_utf8_byte_spoils_one_character_not_the_page(server):
    """A stray byte (a broken proxy, a cut multi-byte sequence) must not make the page unreadable:
    the listing would fail at the same page on every run and collect nothing more."""
    context, _ = make_context()
    reviews = timeline(3, context.clock.now())
    reviews[1]["content"]["label"] = "出金が遅い MARK"
    body = feed(reviews).replace("MARK".encode(), b"\xe3\x81")  # half of a 3-byte character
    server.route("GET", path(1), Reply(200, body, {"Content-Type": "application/json"}))
    batches, _, error = run(source(server, context))
    assert error is None
    posts = posts_of(batches)
    assert len(posts) == 3 and posts[0].text.endswith(MULTILINGUAL["ru"])
    assert posts[1].text.startswith("出金が遅い ") and "\ufffd" in posts[1].text


def test_a_review_without_id_is_skipped_and_noted_not_fatal_for_its_page(server):
    context, _ = make_context()
    reviews = timeline(3, context.clock.now())
    reviews[1]["id"]["label"] = ""
    server.route("GET", path(1), Reply(200, feed(reviews), {"Content-Type": "application/json"}))
    batches, _, error = run(source(server, context))
    assert error is None
    assert [p.external_id for p in posts_of(batches)] == [reviews[0]["id"]["label"], reviews[2]["id"]["label"]]
    assert "skipped 1 unreadable review(s)" in batches[0].note and "without id or updated time" in batches[0].note


def test_429_short_retry_after_is_waited_long_one_ends_the_run(server):
    context, sleep = make_context()
    server.route(
        "GET", path(1), Reply(429, b"", {"Retry-After": "5"}), Reply(200, feed(timeline(3, context.clock.now())))
    )
    batches, _, error = run(source(server, context))
    assert error is None and len(posts_of(batches)) == 3 and sleep.calls == [5.0]

    server.reset_route("GET", path(1), Reply(429, b"", {"Retry-After": "3600"}))
    before = context.clock.now()
    _, _, error = run(source(server, context))
    assert isinstance(error, SourceRateLimited)
    assert error.retry_at == before + timedelta(seconds=3600)


def test_a_hanging_server_times_out(server):
    server.route("GET", path(1), Reply(200, feed([]), delay=1.0))
    context, _ = make_context()
    _, _, error = run(source(server, context, timeout_s=0.1, retries=1))
    assert isinstance(error, SourceUnavailable) and "timed out" in str(error)


def test_options_are_validated():
    from pydantic import ValidationError

    context, _ = make_context()
    with pytest.raises(ValidationError):
        create_source("app_store", "x", {"app_id": APP, "countrys": ["us"]}, context)
    with pytest.raises(ValidationError):
        create_source("app_store", "x", {"app_id": APP, "countries": ["usa"]}, context)
    src = create_source("app_store", "x", {"app_id": "id" + APP, "expected_period": "3d"}, context)
    assert src.options.app_id == APP and src.expected_period == timedelta(days=3)
