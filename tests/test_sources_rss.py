"""RSS/Atom collector against a loopback peer serving Reddit, Discourse and other feed shapes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from loopback_http import Reply
from sources_helpers import (  # noqa: F401
    MULTILINGUAL,
    fixture_bytes,
    make_context,
    posts_of,
    run,
    server,
)

from monitor.errors import SourceError, SourceRateLimited, SourceUnavailable
from monitor.sources import create_source
from monitor.sources.text import html_to_text

REDDIT = "https://www.reddit.com/r/OKX/new/.rss"
FORUM = "https://forum.exchange.example/latest.rss"
ATOM = {"Content-Type": "application/atom+xml; charset=UTF-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def source(server, context, urls, **options):
    options = {"url": urls, "base_url": server.base_url, "politeness_delay_s": 0, **options}
    return create_source("rss", "community", options, context)


def test_reddit_atom_entries(server):
    server.route("GET", "/r/OKX/new/.rss", Reply(200, fixture_bytes("rss", "reddit_okx_new.atom"), ATOM))
    context, _ = make_context()
    batches, cursor, error = run(source(server, context, REDDIT))
    assert error is None
    posts = posts_of(batches)
    assert [p.external_id for p in posts] == [
        "www.reddit.com:t3_1j0abcd",
        "www.reddit.com:t3_1j09xyz",
        "www.reddit.com:t3_1j08qqq",
    ]
    first = posts[0]
    assert first.title == 'Withdrawal stuck "processing" for 9 hours'
    assert first.text == (
        'My USDT withdrawal to TRC20 has been "processing" for 9 hours. Support chat just says wait.\n\n'
        "Anyone else?\n\nsubmitted by /u/cryptotrader_88\n[link] [comments]"
    )
    assert first.author == "/u/cryptotrader_88"
    assert first.url == "https://www.reddit.com/r/OKX/comments/1j0abcd/withdrawal_stuck_processing/"
    assert first.created_at == datetime(2025, 3, 1, 23, 41, 7, tzinfo=timezone.utc)
    assert first.meta == {"feed_url": REDDIT, "categories": ["r/OKX"]}
    assert posts[1].text == MULTILINGUAL["vi"]
    assert posts[2].text == f"{MULTILINGUAL['ja']}\n\n출금이 계속 지연되고 있어요."
    assert server.requests[0].headers["accept"].startswith("application/rss+xml")
    assert set(cursor["feeds"][REDDIT]["seen"]) == {p.external_id for p in posts}


def test_discourse_rss_with_html_descriptions(server):
    server.route("GET", "/latest.rss", Reply(200, fixture_bytes("rss", "discourse_latest.rss"), RSS))
    context, _ = make_context()
    posts = posts_of(run(source(server, context, FORUM))[0])
    assert [p.external_id for p in posts] == ["forum.exchange.example-topic-1234", "forum.exchange.example-topic-1233"]
    assert posts[0].text.startswith("Excelente app, pero las comisiones de P2P son muy altas. & el soporte tarda…")
    assert "Read full topic" in posts[0].text and "<p>" not in posts[0].text
    assert posts[0].author == "josegarcia" and posts[0].lang == "es"
    assert posts[0].meta["categories"] == ["Feedback", "p2p"]
    assert posts[1].text == MULTILINGUAL["tr"]  # the <script> is gone
    assert posts[0].created_at == datetime(2025, 3, 1, 21, 55, 12, tzinfo=timezone.utc)


def test_conditional_get_with_etag_and_last_modified(server):
    body = fixture_bytes("rss", "reddit_okx_new.atom")
    headers = {**ATOM, "ETag": 'W/"abc123"', "Last-Modified": "Sat, 01 Mar 2025 23:41:07 GMT"}

    def respond(request):
        if request.headers.get("if-none-match") == 'W/"abc123"':
            return Reply(304, b"", {"ETag": 'W/"abc123"'})
        return Reply(200, body, headers)

    server.route("GET", "/r/OKX/new/.rss", respond)
    context, _ = make_context()
    batches, cursor, _ = run(source(server, context, REDDIT))
    assert len(posts_of(batches)) == 3
    assert cursor["feeds"][REDDIT]["etag"] == 'W/"abc123"'
    batches, cursor2, error = run(source(server, context, REDDIT), cursor)
    assert error is None and posts_of(batches) == []
    second = server.requests[1].headers
    assert second["if-none-match"] == 'W/"abc123"'
    assert second["if-modified-since"] == "Sat, 01 Mar 2025 23:41:07 GMT"
    assert cursor2 == cursor  # a 304 changes nothing


def test_unchanged_entries_are_not_emitted_again_but_edits_are(server):
    original = fixture_bytes("rss", "discourse_latest.rss")
    server.route("GET", "/latest.rss", Reply(200, original, RSS))  # a server without ETag support
    context, _ = make_context()
    _, cursor, _ = run(source(server, context, FORUM))
    batches, cursor, _ = run(source(server, context, FORUM), cursor)
    assert posts_of(batches) == []
    edited = original.replace("emir girerken sürekli donuyor".encode(), "artık düzeldi, teşekkürler".encode())
    server.reset_route("GET", "/latest.rss", Reply(200, edited, RSS))
    posts = posts_of(run(source(server, context, FORUM), cursor)[0])
    assert [(p.external_id, p.text) for p in posts] == [
        ("forum.exchange.example-topic-1233", "Uygulama çok yavaş, artık düzeldi, teşekkürler.")
    ]


@pytest.mark.parametrize(
    "name, content_type, expected",
    [
        ("cp1251_forum.rss", "application/rss+xml", MULTILINGUAL["ru"]),
        ("gbk_forum.rss", "text/xml", MULTILINGUAL["zh"]),
        ("euckr_header_charset.rss", "text/xml; charset=EUC-KR", MULTILINGUAL["ko"]),
    ],
)
def test_non_utf8_feeds(server, name, content_type, expected):
    server.route("GET", "/feed.xml", Reply(200, fixture_bytes("rss", name), {"Content-Type": content_type}))
    context, _ = make_context()
    batches, _, error = run(source(server, context, "https://example.org/feed.xml"))
    assert error is None
    assert [p.text for p in posts_of(batches)] == [expected]


def test_relative_and_opaque_ids_are_stable_whatever_address_we_fetch_from(server):
    server.route("GET", "/feed.rss", Reply(200, fixture_bytes("rss", "relative_guids.rss"), RSS))
    context, _ = make_context()
    batches, _, error = run(source(server, context, "https://status.exchange.example/feed.rss"))
    assert error is None
    posts = posts_of(batches)
    assert [p.external_id for p in posts][:3] == [
        "https://status.exchange.example/incidents/abc123",  # a path: resolved against the feed URL, not the peer
        "status.exchange.example:98765",  # opaque: prefixed with the feed's host
        "https://status.exchange.example/incidents/nolink",  # no id: the link
    ]
    assert posts[3].external_id.startswith("sha1:")
    assert posts[1].url == "https://status.exchange.example/incidents/xyz"
    assert posts[3].meta.get("time_estimated") is True and posts[3].created_at == context.clock.now()


def test_bozo_feed_is_parsed_and_reported(server):
    server.route("GET", "/feed.rss", Reply(200, fixture_bytes("rss", "malformed.rss"), RSS))
    context, _ = make_context()
    batches, _, error = run(source(server, context, "https://forum.exchange.example/feed.rss"))
    assert error is None
    assert [p.external_id for p in posts_of(batches)] == [
        "https://forum.exchange.example/t/1",
        "https://forum.exchange.example/t/2",
    ]
    assert "malformed" in batches[0].note


def test_truncated_xml_body_keeps_what_parsed(server):
    whole = fixture_bytes("rss", "discourse_latest.rss")
    cut = whole[: whole.index(b"<title>Uygulama")]
    server.route("GET", "/latest.rss", Reply(200, cut, RSS))
    context, _ = make_context()
    batches, _, error = run(source(server, context, FORUM))
    assert error is None and batches[0].note and "malformed" in batches[0].note
    assert [p.external_id for p in posts_of(batches)] == ["forum.exchange.example-topic-1234"]


def test_html_page_instead_of_a_feed_is_an_error(server):
    server.route("GET", "/feed.rss", Reply(200, fixture_bytes("rss", "not_a_feed.html"), {"Content-Type": "text/html"}))
    context, _ = make_context()
    _, _, error = run(source(server, context, "https://forum.exchange.example/feed.rss"))
    assert type(error) is SourceError and "not a readable RSS/Atom" in str(error)


def test_one_failing_feed_does_not_stop_the_others(server):
    server.route("GET", "/r/OKX/new/.rss", Reply(500, b"upstream error"))
    server.route("GET", "/latest.rss", Reply(200, fixture_bytes("rss", "discourse_latest.rss"), RSS))
    context, sleep = make_context()
    urls = ["https://forum.exchange.example/r/OKX/new/.rss", FORUM]
    batches, cursor, error = run(source(server, context, urls, retries=2))
    assert len(posts_of(batches)) == 2
    assert isinstance(error, SourceUnavailable) and "/r/OKX/new/.rss" in str(error) and "HTTP 500" in str(error)
    assert list(cursor["feeds"]) == urls and cursor["feeds"][urls[0]] == {}
    assert len(sleep.calls) == 2


def test_connection_cut_mid_body_is_retried_then_unavailable(server):
    body = fixture_bytes("rss", "discourse_latest.rss")
    server.route("GET", "/latest.rss", Reply(200, body, RSS, truncate_to=300), Reply(200, body, RSS))
    context, sleep = make_context()
    batches, _, error = run(source(server, context, FORUM, retries=1))
    assert error is None and len(posts_of(batches)) == 2 and len(sleep.calls) == 1
    server.reset_route("GET", "/latest.rss", Reply(200, body, RSS, truncate_to=300))
    _, _, error = run(source(server, context, FORUM, retries=1))
    assert isinstance(error, SourceUnavailable)


def test_429_with_http_date_retry_after(server):
    context, sleep = make_context()
    start = context.clock.now()
    soon = format_datetime(context.clock.now() + timedelta(seconds=20), usegmt=True)
    later = format_datetime(context.clock.now() + timedelta(hours=2), usegmt=True)
    server.route(
        "GET",
        "/latest.rss",
        Reply(429, b"Too Many Requests", {"Retry-After": soon}),
        Reply(200, fixture_bytes("rss", "discourse_latest.rss"), RSS),
        Reply(429, b"Too Many Requests", {"Retry-After": later}),
    )
    batches, cursor, error = run(source(server, context, FORUM))
    assert error is None and len(posts_of(batches)) == 2 and sleep.calls == [20.0]
    _, _, error = run(source(server, context, FORUM), cursor)
    assert isinstance(error, SourceRateLimited)
    assert error.retry_at == start + timedelta(hours=2)


def test_timeout(server):
    server.route("GET", "/latest.rss", Reply(200, b"", RSS, delay=1.0))
    context, _ = make_context()
    _, _, error = run(source(server, context, FORUM, timeout_s=0.1, retries=0))
    assert isinstance(error, SourceUnavailable) and "timed out" in str(error)


def test_seen_ids_are_bounded(server):
    items = "".join(
        f"<item><title>t{i}</title><guid>https://f.example/t/{i}</guid><description>post {i}</description></item>"
        for i in range(40)
    )
    server.route(
        "GET",
        "/f.rss",
        Reply(200, f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>', RSS),
    )
    context, _ = make_context()
    batches, cursor, _ = run(source(server, context, "https://f.example/f.rss", max_seen=10, max_entries=25))
    assert len(posts_of(batches)) == 25
    assert len(cursor["feeds"]["https://f.example/f.rss"]["seen"]) == 10


def test_options_accept_one_url_or_many_and_reject_junk():
    from pydantic import ValidationError

    context, _ = make_context()
    assert create_source("rss", "x", {"url": REDDIT}, context).options.url == [REDDIT]
    assert create_source("rss", "x", {"url": [REDDIT, FORUM, REDDIT]}, context).options.url == [REDDIT, FORUM]
    for bad in ({"url": "ftp://x/feed"}, {"url": []}, {"url": REDDIT, "urls": REDDIT}):
        with pytest.raises(ValidationError):
            create_source("rss", "x", bad, context)


def test_html_to_text():
    assert html_to_text("<p>a&nbsp;&amp;&#39;b&#39;</p><p>c<br>d</p><style>p{}</style>") == "a &'b'\n\nc\nd"
    assert html_to_text('<img alt="🚀"> to the moon') == "🚀 to the moon"
    assert html_to_text(None) == "" and html_to_text("plain") == "plain"
