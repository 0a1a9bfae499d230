from monitor.text.clusters import cluster_texts
from monitor.text.escape import escape_html, escape_markdown, escape_slack, plain_url
from monitor.text.quote import quote


def test_near_duplicates_merge_and_different_complaints_do_not():
    texts = [
        "Withdrawal stuck for 3 hours, support not answering!!",
        "withdrawal stuck for 3 hours support not answering",
        "Withdrawal stuck for 3 hours, support is not answering @okx",
        "Login fails with error 502 since the update",
        "提现一直不到账，客服也不回复",
        "提现一直不到账，客服也不回复！！",
        "充值到账很快，好评",
    ]
    clusters = cluster_texts(texts)
    as_sets = [set(c.members) for c in clusters]
    assert {0, 1, 2} in as_sets and {4, 5} in as_sets and {3} in as_sets and {6} in as_sets
    assert clusters[0].size == 3 and clusters[0].representative in {0, 1, 2}
    assert sorted(i for c in clusters for i in c.members) == list(range(len(texts)))


def test_escaping_defuses_markup_mentions_and_links():
    hostile = '<script>alert(1)</script> [free](http://phish.example) <!channel> @here *bold* \u202egnp.exe'
    assert "<script>" not in escape_html(hostile) and "&lt;script&gt;" in escape_html(hostile)
    md = escape_markdown(hostile)
    assert "\\[free\\]" in md and "http://phish" not in md and "\u202e" not in md
    slack = escape_slack(hostile)
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack and "@here" not in slack
    assert "*bold*" not in slack


def test_plain_url_keeps_only_http_and_drops_credentials():
    assert plain_url("javascript:alert(1)") == ""
    assert plain_url("https://user:pw@example.com/x") == "https://example.com/x"
    assert plain_url("https://example.com/a?b=1") == "https://example.com/a?b=1"


def test_a_quote_masks_what_a_zero_width_space_splits():
    # the alert summary's quotes masked first and stripped controls after, so the stripped
    # zero-width space put a whole address back together, unmasked
    assert quote("mail me at john.doe\u200b@example.com now", 100) == "mail me at [email] now"
    assert quote("a\n\nb  " + "x" * 300, 20).endswith("…") and len(quote("y" * 50, 20)) == 20
