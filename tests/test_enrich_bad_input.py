"""Hostile input never raises and always yields a sane Enrichment."""

from __future__ import annotations

import pytest
from enrich_helpers import post

from monitor.enrich import build_enricher
from monitor.enrich.enricher import Enricher
from monitor.models import Enrichment, Sentiment

BAD_TEXTS = {
    "empty": "",
    "spaces": "   \n\t ",
    "huge": "withdrawal stuck " * 6500,  # about 110 KB
    "lone surrogates": "bad \ud800 unicode \udfff here",
    "escaped surrogates": "\\ud83d\\ude00 literal escapes \\u0000",
    "only emoji": "😂😂😂🙏",
    "only url": "https://example.com/a?b=c",
    "control chars": "\x00\x01\x02\x1b[31m",
    "nul bytes mixed": "提现\x00不到账",
    "rtl and combining": "\u202e\u0301\u0301 مرحبا",
    "html entities": "&lt;script&gt;alert(1)&lt;/script&gt; &amp;&amp;",
}


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return build_enricher()


def test_every_bad_input_gives_a_sane_result(enricher: Enricher) -> None:
    posts = [post(text, name) for name, text in BAD_TEXTS.items()]
    results = enricher.enrich(posts)
    assert len(results) == len(posts)
    for name, r in zip(BAD_TEXTS, results):
        assert isinstance(r, Enrichment), name
        assert isinstance(r.sentiment, Sentiment), name
        assert -1.0 <= r.sentiment_score <= 1.0, name
        assert r.categories and all(0.0 <= c.score <= 1.0 for c in r.categories), name
        assert isinstance(r.lang, str) and r.lang, name
        assert r.backend == enricher.name


def test_specific_bad_inputs(enricher: Enricher) -> None:
    empty, url, emoji = enricher.enrich([post(""), post("https://example.com"), post("😂😂😂")])
    assert empty.lang == "und" and empty.sentiment == Sentiment.NEUTRAL
    assert [c.name for c in empty.categories] == ["other"]
    assert url.lang == "und" and url.sentiment == Sentiment.NEUTRAL
    assert emoji.lang == "und"


def test_order_and_length_preserved(enricher: Enricher) -> None:
    texts = ["great app love it", "", "my account was hacked", "提现不到账"] * 5
    results = enricher.enrich([post(t, str(i)) for i, t in enumerate(texts)])
    assert len(results) == len(texts)
    assert results[2].security and results[6].security
    assert not results[0].security
    assert enricher.enrich([]) == []


def test_weird_post_fields(enricher: Enricher) -> None:
    odd = [post("fine", lang="???"), post("fine", rating=0), post("fine", rating=9), post("", title="App crashes")]
    results = enricher.enrich(odd)
    assert len(results) == 4
    assert "outage" in results[3].category_names  # the title is part of what is analysed


def test_large_inputs_are_chunked_into_batches() -> None:
    from monitor.enrich import EnrichmentSettings

    enricher = build_enricher(EnrichmentSettings(batch_size=7))
    texts = [f"post {i}: withdrawal stuck" if i % 2 else f"post {i}: love it" for i in range(30)]
    results = enricher.enrich([post(t, str(i)) for i, t in enumerate(texts)])
    assert len(results) == 30
    assert all("deposit_withdrawal" in r.category_names for r in results[1::2])
    assert all(r.sentiment == Sentiment.POSITIVE for r in results[0::2])
