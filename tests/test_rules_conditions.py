"""Each condition, keyword matching across scripts, and explanations."""

import random

import pytest

from monitor.detect.rules.text import Mode, normalize, parse_keyword
from monitor.models import Sentiment
from rules_helpers import enriched, ruleset_from


def rule_matches(tmp_path, match_yaml: str, item) -> bool:
    ruleset = ruleset_from(tmp_path, f"""\
    rules:
      - id: r
        title: R
        type: match
        match:
          {match_yaml}
    """)
    rule = ruleset.get("r")
    pc = ruleset.context(item)
    assert rule.matches(pc) == rule.explain(pc).ok  # the fast path and the explanation agree
    return rule.matches(pc)


@pytest.mark.parametrize("keywords, text, expected", [
    ("{en: [hacked]}", "My account got HACKED!", True),
    ("{en: [hacked]}", "hackedaccount", False),  # inside a longer word
    ("{en: ['hack*']}", "they hacked it", True),  # prefix
    ("{en: ['*coin']}", "fake bitcoin", True),  # suffix
    ("{en: ['*coin']}", "coinbase", False),
    ("{en: ['*ack*']}", "hackathon", True),  # anywhere
    ("{en: ['account hacked']}", "account\n   hacked", True),  # whitespace runs collapse
    ("{en: [okx]}", "okx에서 출금이 안돼요", True),  # a Latin word next to Hangul is still a word
    ("{en: [okx]}", "okx账号被盗", True),  # ... and next to Chinese
    ("{en: [okx]}", "ＯＫＸ is down", True),  # full width folds
    ("{en: [withdrawal]}", "with\u200bdrawal stuck", True),  # invisible characters are dropped
    ("{en: [\"can't log in\"]}", "I can’t log in", True),  # typographic apostrophe
    ("{zh: [被盗]}", "我的账号被盗了", True),  # Chinese: substring
    ("{ja: [乗っ取られ]}", "アカウントが乗っ取られました", True),
    ("{ko: [해킹]}", "해킹당했어요", True),  # Korean: prefix by default (particles attach)
    ("{ko: [해킹]}", "계정해킹", False),  # ... but it must start a word
    ("{ko: ['*해킹*']}", "계정해킹당함", True),
    ("{tr: [hacklen]}", "hesabım hacklendi", True),  # Turkish: prefix by default
    ("{tr: ['hesabım hacklendi']}", "HESABIM HACKLENDİ", True),  # Turkish capitals: I and İ fold to i
    ("{tr: ['hesabım hacklendi']}", "hesabim hacklendi", True),  # ... and ı typed as i on other keyboards
    ("{ru: ['взлом*']}", "Аккаунт ВЗЛОМАЛИ", True),  # Cyrillic case folds
    ("{ru: [взлом]}", "взломали", False),
    ("{vi: ['bị hack']}", "Tài khoản BỊ HACK rồi", True),
    ("{es: [sesión]}", "no puedo iniciar SESIÓN", True),
    ("[hacked, 被盗]", "号被盗", True),  # the plain list form picks the mode per keyword
])
def test_keywords(tmp_path, keywords, text, expected):
    assert rule_matches(tmp_path, f"keywords: {keywords}", enriched(text)) is expected


def test_keyword_modes():
    assert parse_keyword("hack*", "en").mode == Mode.PREFIX
    assert parse_keyword("被盗", None).mode == Mode.SUBSTRING
    assert parse_keyword("계정", "ko").mode == Mode.PREFIX
    assert parse_keyword("Account", "en").text == "account"
    assert normalize("  Ａｂｃ\u00ad  DEF ") == "abc def"


def test_regex_is_case_insensitive_on_normalised_text(tmp_path):
    assert rule_matches(tmp_path, r"regex: '\b[a-z0-9-]*okx[a-z0-9-]*\.(?!com\b)[a-z]{2,}'",
                        enriched("Claim at OKX-Bonus.XYZ now"))
    assert not rule_matches(tmp_path, r"regex: '\b[a-z0-9-]*okx[a-z0-9-]*\.(?!com\b)[a-z]{2,}'",
                            enriched("visit okx.com"))


@pytest.mark.parametrize("cond, kwargs, expected", [
    ("category: security", dict(categories=[("security", 0.4)]), True),
    ("category: [outage, security]", dict(categories=[("praise", 0.9)]), False),
    ("{category: security, min_score: 0.5}", dict(categories=[("security", 0.4)]), False),
    ("sentiment: negative", dict(sentiment=Sentiment.NEGATIVE), True),
    ("sentiment: [positive, neutral]", dict(sentiment=Sentiment.NEGATIVE), False),
    ("sentiment_below: -0.5", dict(score=-0.6), True),
    ("sentiment_below: -0.5", dict(score=-0.5), False),
    ("sentiment_above: 0.5", dict(score=0.7), True),
    ("source: okx-play", dict(source="okx-play"), True),
    ("source: [a, b]", dict(source="okx-play"), False),
    ("source_type: google_play", dict(source_type="google_play"), True),
    ("lang: [ko, ja]", dict(lang="ko"), True),
    ("lang: en", dict(lang="und"), False),
    ("rating_at_most: 2", dict(rating=2), True),
    ("rating_at_most: 2", dict(rating=3), False),
    ("rating_at_most: 2", dict(), False),  # no rating: not a low rating
    ("rating_at_least: 4", dict(rating=5), True),
    ("followers_at_least: 10000", dict(meta={"followers": 25000}), True),
    ("followers_at_least: 10000", dict(meta={"author_followers": "12000"}), True),
    ("followers_at_least: 10000", dict(meta={"followers": 50}), False),
    ("followers_at_least: 1", dict(), False),
    ("replied: false", dict(), True),
    ("replied: true", dict(meta={"reply_text": "Sorry, we are on it", "replied_at": "2026-03-02T00:00:00Z"}), True),
    ("replied: false", dict(meta={"reply_text": "Sorry"}), False),
    ("security: true", dict(security=True), True),
    ("author: [OKX, mexc_official]", dict(author="okx"), True),
])
def test_field_conditions(tmp_path, cond, kwargs, expected):
    assert rule_matches(tmp_path, cond, enriched("some text", **kwargs)) is expected


def test_all_any_not(tmp_path):
    cond = """all:
            - keywords: {en: [withdrawal]}
            - any:
                - lang: en
                - rating_at_most: 2
            - not: {author: [okx]}"""
    assert rule_matches(tmp_path, cond, enriched("withdrawal stuck", lang="en"))
    assert rule_matches(tmp_path, cond, enriched("withdrawal stuck", lang="ko", rating=1))
    assert not rule_matches(tmp_path, cond, enriched("withdrawal stuck", lang="ko", rating=4))
    assert not rule_matches(tmp_path, cond, enriched("withdrawal stuck", lang="en", author="OKX"))


def test_explanation_names_the_deciding_condition(tmp_path):
    ruleset = ruleset_from(tmp_path, """\
    rules:
      - id: r
        title: R
        type: match
        match:
          all:
            - keywords: {en: [hacked]}
            - rating_at_most: 2
    """)
    rule = ruleset.get("r")
    trace = rule.explain(ruleset.context(enriched("I was hacked", rating=5)))
    assert not trace.ok
    assert trace.decider().what == "rating_at_most 2" and trace.decider().why == "rating is 5"
    text = "\n".join(trace.lines())
    assert "[MATCH] keywords [en: hacked]: found 'hacked'" in text and "<- decided" in text
    near = rule.explain(ruleset.context(enriched("unhackedable", rating=1)))
    assert "inside longer words only: 'hacked'" in near.children[0].why


def test_keyword_index_gives_the_same_answer_as_evaluating_every_rule(tmp_path):
    """Rules are only evaluated on posts containing one of their keywords; that must never change a result."""
    rng = random.Random(7)
    words = ["hacked", "withdrawal", "stuck", "login", "被盗", "해킹", "scam", "token", "fine", "app"]
    conditions = ["keywords: {en: [%s]}", "any: [{keywords: [%s]}, {lang: ko}]",
                  "all: [{keywords: [%s]}, {not: {rating_at_most: 2}}]", "not: {keywords: [%s]}",
                  r"regex: '\b%s\w*'", r"any: [{regex: '(?:%s|stuck)\s+\w+'}, {keywords: [app]}]"]
    rules = "rules:\n" + "".join(
        f"  - id: r{i}\n    title: R\n    type: match\n    match: {{{conditions[i % 6] % rng.choice(words)}}}\n"
        for i in range(60))
    path = tmp_path / "many.yaml"
    path.write_text(rules, encoding="utf-8")
    from monitor.detect.rules import load_rules

    ruleset = load_rules([path])
    assert sum(r.anchors is not None for r in ruleset.active) >= 30  # regexes are indexed by their literals
    for n in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 4)))
        item = enriched(text, lang=rng.choice(["en", "ko"]), rating=rng.choice([None, 1, 5]))
        pc = ruleset.context(item)
        assert [r.id for r in ruleset.fired(pc)] == [r.id for r in ruleset.active if r.matches(pc)], text
