"""X recent-search collector (tweepy) against a loopback peer speaking the API v2 shapes."""

from __future__ import annotations

import copy
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from loopback_http import Reply
from sources_helpers import (  # noqa: F401
    MULTILINGUAL,
    fixture_json,
    fixture_text,
    make_context,
    posts_of,
    run,
    server,
    take_batches,
)

from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceRateLimited,
    SourceUnavailable,
)
from monitor.sources import create_source

PATH = "/2/tweets/search/recent"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAtest%2Fbearer%3Dtoken-do-not-log"
QUERY = "(MEXC OR @MEXC_Official) -is:retweet"
PAGE1 = fixture_json("twitter", "search_recent_page1.json")
JSON = {"Content-Type": "application/json; charset=utf-8"}


@pytest.fixture(autouse=True)
def bearer(monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)


def source(server, context, **options):
    options = {"query": QUERY, "base_url": server.base_url, **options}
    return create_source("twitter", "x-mexc", options, context)


def tweet(n: int, at: datetime, text: str | None = None) -> dict:
    t = copy.deepcopy(PAGE1["data"][0])
    t.update(
        id=str(n),
        conversation_id=str(n),
        text=text or f"tweet {n}: {MULTILINGUAL['ko']}",
        created_at=at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        author_id="7",
        edit_history_tweet_ids=[str(n)],
    )
    return t


class RecentSearch:
    """Serves `tweets` (any order) like X: newest first, since_id, start_time, next_token."""

    USER = {
        "id": "7",
        "name": "Seven",
        "username": "seven",
        "public_metrics": {"followers_count": 77},
        "verified": False,
    }

    def __init__(self, server) -> None:
        self.tweets: list[dict] = []
        self.requests = []
        server.reset_route("GET", PATH, self.respond)

    def add(self, count: int, start_id: int, newest: datetime, step=timedelta(minutes=1)) -> list[dict]:
        new = [tweet(start_id + i, newest - (count - 1 - i) * step) for i in range(count)]
        self.tweets.extend(new)
        return new

    def respond(self, request) -> Reply:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, fixture_text("twitter", "error_401.json"), JSON)
        q = {k: v[0] for k, v in request.query.items()}
        rows = sorted(self.tweets, key=lambda t: -int(t["id"]))
        if "since_id" in q:
            rows = [t for t in rows if int(t["id"]) > int(q["since_id"])]
        if "start_time" in q:
            rows = [t for t in rows if t["created_at"][:19] >= q["start_time"][:19]]
        if "next_token" in q:  # our tokens say "older than this id"
            rows = [t for t in rows if int(t["id"]) < int(q["next_token"].removeprefix("older-than-"))]
        size = int(q.get("max_results", 10))
        page, more = rows[:size], len(rows) > size
        if not page:
            return Reply(200, json.dumps({"meta": {"result_count": 0}}), JSON)
        meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if more:
            meta["next_token"] = f"older-than-{page[-1]['id']}"
        return Reply(200, json.dumps({"data": page, "includes": {"users": [self.USER]}, "meta": meta}), JSON)


def ids(batches) -> list[int]:
    return [int(p.external_id) for p in posts_of(batches)]


def test_parses_a_recorded_page(server):
    server.route(
        "GET",
        PATH,
        Reply(200, json.dumps(PAGE1, ensure_ascii=False), JSON),
        Reply(200, '{"meta": {"result_count": 0}}', JSON),
    )
    context, _ = make_context()
    batches, cursor, error = run(source(server, context))
    assert error is None
    posts = posts_of(batches)
    assert len(posts) == 9
    first = posts[0]
    assert first.external_id == "1895912345678901234" and first.source_type == "twitter"
    assert first.text == f"@MEXC_Official {MULTILINGUAL['en']}"
    assert first.created_at == datetime(2025, 3, 1, 23, 59, 10, tzinfo=timezone.utc)
    assert first.author == "user_en_0" and first.lang == "en"
    assert first.url == "https://x.com/user_en_0/status/1895912345678901234"
    assert first.meta["author_followers"] == 1 and first.meta["author_verified"] is True
    assert first.meta["public_metrics"]["impression_count"] == 120
    assert first.meta["conversation_id"] == "1895912345678901234"
    assert posts[1].meta["in_reply_to_user_id"] == "1000000000000000001" and posts[1].meta["referenced"] == [
        "replied_to"
    ]
    assert posts[2].text.startswith("Long post about a frozen account.") and "t.co" not in posts[2].text  # note_tweet
    assert posts[8].lang is None and posts[8].meta["lang"] == "zxx"
    assert {p.text.removeprefix("@MEXC_Official ") for p in posts[:8]} - {posts[2].text} <= set(MULTILINGUAL.values())

    request = server.requests[0]
    assert request.query["query"] == [QUERY]
    assert request.query["expansions"] == ["author_id"]
    assert set(request.query["tweet.fields"][0].split(",")) >= {
        "created_at",
        "lang",
        "public_metrics",
        "conversation_id",
    }
    assert "username" in request.query["user.fields"][0] and "public_metrics" in request.query["user.fields"][0]
    assert request.query["start_time"] == ["2025-03-01T00:00:00Z"]  # first run: 24 h lookback
    assert request.headers["user-agent"].startswith("feedback-monitor-tests/1.0 ")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert server.requests[1].query["next_token"] == [PAGE1["meta"]["next_token"]]
    assert cursor == {"since_id": "1895912345678901234"}


def test_walk_then_incremental_with_since_id(server):
    x = RecentSearch(server)
    context, _ = make_context()
    now = context.clock.now()
    x.add(250, 1000, now - timedelta(minutes=1), step=timedelta(seconds=5))
    batches, cursor, error = run(source(server, context))
    assert error is None and [len(b.posts) for b in batches] == [100, 100, 50]
    assert sorted(ids(batches)) == list(range(1000, 1250))
    assert cursor == {"since_id": "1249"}
    assert [b.cursor.get("since_id") for b in batches[:2]] == [None, None]  # not moved mid-walk

    x.add(3, 5000, now)
    x.requests.clear()
    batches, cursor, _ = run(source(server, context), cursor)
    assert ids(batches) == [5002, 5001, 5000] and cursor == {"since_id": "5002"}
    assert x.requests[0].query["since_id"] == ["1249"] and "start_time" not in x.requests[0].query


def test_restart_mid_walk_continues_and_then_catches_up(server):
    x = RecentSearch(server)
    context, _ = make_context()
    now = context.clock.now()
    x.add(330, 1000, now - timedelta(minutes=30), step=timedelta(seconds=1))
    first, cursor = take_batches(source(server, context), {}, 2)
    assert cursor["since_id"] is None and cursor["walk"]["next_token"] == "older-than-1130"
    assert cursor["walk"]["newest_id"] == "1329"

    arrived = x.add(40, 9000, now)  # tweets that arrive while we are down
    x.requests.clear()
    rest, cursor, error = run(source(server, context), cursor)
    assert error is None
    got = ids(first + rest)
    assert len(got) == len(set(got)) and set(got) == set(range(1000, 1330))
    assert x.requests[0].query["next_token"] == ["older-than-1130"]
    assert cursor == {"since_id": "1329"}
    batches, cursor, _ = run(source(server, context), cursor)
    assert sorted(ids(batches)) == [int(t["id"]) for t in arrived] and cursor == {"since_id": "9039"}


def test_page_cap_carries_the_walk_into_the_next_runs(server):
    x = RecentSearch(server)
    context, _ = make_context()
    x.add(95, 100, context.clock.now(), step=timedelta(seconds=1))
    batches, cursor, _ = run(source(server, context, max_results=10, max_pages=3))
    assert len(batches) == 3 and "walk" in cursor
    got = ids(batches)
    while "walk" in cursor:
        batches, cursor, _ = run(source(server, context, max_results=10, max_pages=3), cursor)
        got += ids(batches)
    assert sorted(got) == list(range(100, 195)) and cursor == {"since_id": "194"}


def test_empty_result_keeps_since_id(server):
    RecentSearch(server)
    context, _ = make_context()
    batches, cursor, error = run(source(server, context), {"since_id": "42"})
    assert error is None and posts_of(batches) == [] and cursor == {"since_id": "42"}


def test_short_rate_limit_is_waited_out(server):
    context, sleep = make_context()
    reset = int(context.clock.now().timestamp()) + 30
    x = RecentSearch(server)
    x.add(5, 10, context.clock.now())
    server.reset_route(
        "GET",
        PATH,
        Reply(
            429,
            fixture_text("twitter", "error_429.json"),
            {**JSON, "x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
        x.respond,
    )
    batches, cursor, error = run(source(server, context))
    assert error is None and len(ids(batches)) == 5
    assert sleep.calls == [31.0]


def test_long_rate_limit_ends_the_run_with_retry_at(server):
    context, sleep = make_context()
    x = RecentSearch(server)
    x.add(150, 10, context.clock.now(), step=timedelta(seconds=1))
    reset = int(context.clock.now().timestamp()) + 900
    limited = Reply(429, fixture_text("twitter", "error_429.json"), {**JSON, "x-rate-limit-reset": str(reset)})
    server.reset_route("GET", PATH, x.respond, limited)
    batches, cursor, error = run(source(server, context))
    assert isinstance(error, SourceRateLimited)
    assert error.retry_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert len(ids(batches)) == 100 and cursor["walk"]["next_token"]  # page 1 stays committed
    assert sleep.calls == []


def test_rate_limit_without_reset_header_does_not_spin(server):
    context, sleep = make_context()
    server.route("GET", PATH, Reply(429, fixture_text("twitter", "error_429.json"), JSON))
    _, _, error = run(source(server, context))
    assert isinstance(error, SourceRateLimited) and error.retry_at is None
    assert len(server.requests) == 1 and sleep.calls == []


@pytest.mark.parametrize(
    "status, fixture, words",
    [
        (401, "error_401.json", "401 Unauthorized"),
        (403, "error_403_client_not_enrolled.json", "Client Forbidden"),
    ],
)
def test_auth_and_plan_problems(server, status, fixture, words):
    server.route("GET", PATH, Reply(status, fixture_text("twitter", fixture), JSON))
    context, _ = make_context()
    _, _, error = run(source(server, context))
    assert isinstance(error, SourceAuthError)
    message = str(error)
    assert "GET /2/tweets/search/recent" in message and "$X_BEARER_TOKEN" in message and words in message
    assert TOKEN not in message


def test_missing_token_is_an_auth_error(server, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN")
    context, _ = make_context()
    _, _, error = run(source(server, context))
    assert isinstance(error, SourceAuthError) and "X_BEARER_TOKEN is not set" in str(error)
    assert server.requests == []
    monkeypatch.setenv("MY_X_TOKEN", TOKEN)
    x = RecentSearch(server)
    x.add(1, 1, context.clock.now())
    batches, _, error = run(source(server, context, bearer_token_env="MY_X_TOKEN"))
    assert error is None and ids(batches) == [1]


def test_server_errors_are_retried(server):
    context, sleep = make_context()
    x = RecentSearch(server)
    x.add(3, 1, context.clock.now())
    server.reset_route("GET", PATH, Reply(503, '{"title":"Service Unavailable"}', JSON), x.respond)
    batches, _, error = run(source(server, context))
    assert error is None and len(ids(batches)) == 3 and len(sleep.calls) == 1
    server.reset_route("GET", PATH, Reply(500, "oops"))
    _, _, error = run(source(server, context, retries=2))
    assert isinstance(error, SourceUnavailable) and "after 3 attempts" in str(error)


@pytest.mark.parametrize("payload", ['{"data": [{"id": "1", "text": "cut', "<html>Bad gateway</html>"])
def test_malformed_json_is_a_source_error(server, payload):
    server.route("GET", PATH, Reply(200, payload, JSON))
    context, _ = make_context()
    _, _, error = run(source(server, context))
    assert type(error) is SourceError and "malformed response" in str(error)


def test_timeout(server):
    server.route("GET", PATH, Reply(200, '{"meta": {"result_count": 0}}', JSON, delay=1.0))
    context, _ = make_context()
    _, _, error = run(source(server, context, timeout_s=0.1, retries=0))
    assert isinstance(error, SourceUnavailable) and "ReadTimeout" in str(error)


def test_expired_next_token_restarts_the_walk_from_the_top(server):
    context, _ = make_context()
    x = RecentSearch(server)
    x.add(30, 100, context.clock.now(), step=timedelta(seconds=1))

    def respond(request):
        if "next_token" in request.query and request.query["next_token"][0] == "stale":
            return Reply(400, fixture_text("twitter", "error_400_invalid_next_token.json"), JSON)
        return x.respond(request)

    server.reset_route("GET", PATH, respond)
    cursor = {"since_id": "110", "walk": {"next_token": "stale", "newest_id": "125", "start_time": None}}
    batches, cursor, error = run(source(server, context, max_results=10), cursor)
    assert error is None and "expired" in batches[0].note
    assert sorted(ids(batches)) == list(range(111, 130)) and cursor == {"since_id": "129"}


def test_start_time_stays_within_the_seven_days_recent_search_serves(server):
    """A walk left unfinished for more than a week (the machine was off) must not fail forever
    with X's 400 for a start_time older than 7 days."""
    context, _ = make_context()
    x = RecentSearch(server)
    x.add(30, 100, context.clock.now(), step=timedelta(minutes=1))

    def strict(request):
        start = request.query.get("start_time", [None])[0]
        if start and start < (context.clock.now() - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"):
            return Reply(400, json.dumps({"title": "Invalid Request", "errors": [{"message": (
                f"Invalid 'start_time':'{start}'. 'start_time' must be on or after 7 days ago")}]}), JSON)
        return x.respond(request)

    server.reset_route("GET", PATH, strict)
    _, cursor, error = run(source(server, context, max_results=10, max_pages=1))
    assert error is None and cursor["walk"]["next_token"]  # the page cap left the walk open

    context.clock.advance_to(context.clock.now() + timedelta(days=8))
    x.add(5, 200, context.clock.now())
    _, cursor, error = run(source(server, context, max_results=10, max_pages=5), cursor)
    assert error is None, error  # the open walk ends (its older tweets are out of reach now)...
    assert cursor == {"since_id": "129"}
    earliest = (context.clock.now() - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(r.query["start_time"][0] >= earliest for r in x.requests[1:] if "start_time" in r.query)
    batches, cursor, error = run(source(server, context, max_results=10, max_pages=5), cursor)
    assert error is None and ids(batches) == [204, 203, 202, 201, 200]  # ...and the next one catches up
    assert cursor == {"since_id": "204"}

    # A first run asked to look back further than X keeps is clamped the same way.
    fresh, _ = make_context(context.clock.now())
    _, _, error = run(source(server, fresh, initial_lookback="10d"))
    assert error is None


def test_a_bad_query_is_reported(server):
    server.route(
        "GET",
        PATH,
        Reply(
            400,
            '{"errors":[{"message":"There were errors processing your request: Ambiguous use of and as a keyword"}],"title":"Invalid Request"}',
            JSON,
        ),
    )
    context, _ = make_context()
    _, _, error = run(source(server, context))
    assert type(error) is SourceError and "Ambiguous use of and" in str(error)


def test_the_token_never_reaches_logs_cursor_or_posts(server, caplog):
    x = RecentSearch(server)
    context, _ = make_context()
    x.add(3, 1, context.clock.now())
    with caplog.at_level(logging.DEBUG):
        batches, cursor, _ = run(source(server, context))
    assert "Making API request" in caplog.text  # tweepy did log the request...
    assert TOKEN not in caplog.text and "Bearer ***" in caplog.text  # ...with the token masked
    assert TOKEN not in json.dumps(cursor) and all(TOKEN not in json.dumps(dict(p.meta)) for p in posts_of(batches))


def test_the_token_is_masked_in_any_library_log_line(server):
    """Not only tweepy's request log: once the source has read the token, the project's log
    scrubber (installed by setup_logging on the root handler) masks it wherever it appears."""
    from monitor.logging import MASK, SecretFilter

    x = RecentSearch(server)
    context, _ = make_context()
    x.add(1, 1, context.clock.now())
    _, _, error = run(source(server, context))
    assert error is None
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1,
                               "sent headers %s", ({"Authorization": f"Bearer {TOKEN}"},), None)
    assert SecretFilter().filter(record)
    assert TOKEN not in record.getMessage() and MASK in record.getMessage()


def test_html_entities_in_tweet_text_are_decoded(server):
    page = {"data": [tweet(5, datetime(2025, 3, 1, 12, tzinfo=timezone.utc), "fees &amp; limits &lt;3 &gt;_&lt;")],
            "includes": PAGE1["includes"], "meta": {"result_count": 1, "newest_id": "5", "oldest_id": "5"}}
    server.route("GET", PATH, Reply(200, json.dumps(page), JSON))
    context, _ = make_context()
    batches, _, error = run(source(server, context))
    assert error is None
    assert posts_of(batches)[0].text == "fees & limits <3 >_<"
