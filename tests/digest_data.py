"""A day of multilingual feedback (and the day before it) stored through the store API, for digest tests.

The period under test is [END - 24h, END). What it contains, so tests can assert exact numbers:
- 12 near-identical English withdrawal complaints and 6 Chinese ones ("提币失败"): two clusters;
- Google Play reviews: version 6.2.0 sinks (8 reviews of 1-2 stars) against a 4.x baseline,
  6.1.0 holds (4 reviews of 4-5 stars); 3 of the 6.2.0 reviews have a reply from the team;
- App Store reviews (whose feed has no replies);
- 3 security reports, 2 exposing sensitive data (a seed phrase, an e-mail, a phone number);
- hostile posts (<script>, a javascript: Markdown link, <!channel>, @here, a javascript: URL);
- posts in Korean, Japanese, Russian, Spanish, Vietnamese and Turkish;
- incidents: one opened, acknowledged and resolved in the period, one still open (with a hostile
  title), one resolved the day before (not in the period).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.models import (CategoryScore, Enrichment, Finding, Incident, IncidentState, Post, Sentiment,
                            Severity)

END = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # 08:00 in Asia/Singapore
START = END - timedelta(hours=24)
PREV_START = START - timedelta(hours=24)

HOSTILE = [
    "<script>document.body.setAttribute('data-pwned', '1')</script> withdrawal broken",
    "[click here](javascript:alert(1)) to get your refund",
    "<!channel> everyone look, withdrawal is stuck",
    "@here my account got frozen <img src=x onerror=alert(1)>",
    "**bold** _it_ `code` | pipe # heading <b>tag</b> & amp",
]
EN_CLUSTER = "Withdrawal stuck for hours, my USDT still has not arrived, support not answering"
ZH_CLUSTER = "提币失败，一直显示处理中，客服也不回复"
SEED = "abandon ability able about above absent absorb abstract absurd abuse access accident"
SECURITY_TEXTS = [
    f"My account was hacked and they took my funds. My seed phrase was {SEED} please help, "
    "mail me at victim@example.com",
    "Fake support on Telegram asked for my 2FA code, call me +44 7700 900123",
    "账户被盗，资金被转走了",
]
MULTILINGUAL = [
    ("ko", "출금이 안 돼요 도와주세요"),
    ("ja", "ログインできません、アプリが落ちます"),
    ("ru", "Не могу вывести деньги уже два дня"),
    ("es", "La aplicación se cierra al abrir el mercado"),
    ("vi", "Không rút tiền được, hỗ trợ không trả lời"),
    ("tr", "Para çekme işlemi iki gündür bekliyor"),
]
PRAISE = ["Great app, fast trading and low fees", "界面很好用，交易很快", "Love the new copy trading feature"]


def _enrich(sentiment: Sentiment, score: float, *categories: str, lang: str = "en", security: bool = False,
            sensitive: tuple[str, ...] = ()) -> Enrichment:
    return Enrichment(lang=lang, sentiment=sentiment, sentiment_score=score,
                      categories=tuple(CategoryScore(c, 0.9 - 0.1 * i) for i, c in enumerate(categories)),
                      security=security, sensitive=sensitive, backend="test")


NEG, NEU, POS = Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE


def populate(store, end: datetime = END) -> dict[str, int]:
    """Store the data set; returns a few ids the tests refer to."""
    start, prev_start = end - timedelta(hours=24), end - timedelta(hours=48)
    items: dict[str, list[tuple[Post, Enrichment]]] = {}

    def add(source: str, source_type: str, ext: str, text: str, at: datetime, e: Enrichment, **kw) -> None:
        url = kw.pop("url", f"https://example.com/{source}/{ext}")
        items.setdefault(source, []).append(
            (Post(source_type=source_type, source=source, external_id=ext, text=text, created_at=at, url=url, **kw), e))

    # --- the previous day: a calm baseline -------------------------------------------------------
    for i in range(30):
        add("x-mentions", "twitter", f"p{i}", f"Checking the market today, all fine number {i}",
            prev_start + timedelta(minutes=45 * i), _enrich(NEU, 0.0, "other"))
    for i in range(6):
        add("x-mentions", "twitter", f"pw{i}", f"Deposit took a while today {i}", prev_start + timedelta(hours=i + 1),
            _enrich(NEG, -0.4, "deposit_withdrawal"))
    for i in range(8):
        add("okx-google-play", "google_play", f"pgp{i}", f"Solid app, version 6.1 works well {i}",
            prev_start + timedelta(hours=2 * i + 1), _enrich(POS, 0.6, "praise"), rating=4 + (i % 2),
            app_version="6.1.0", meta={"reply_text": "Thanks!", "replied_at": "2026-02-28T10:00:00Z"})

    # --- the period under test -------------------------------------------------------------------
    for i in range(12):
        add("x-mentions", "twitter", f"w{i}", EN_CLUSTER + ("!" * (i % 3)), start + timedelta(hours=1, minutes=20 * i),
            _enrich(NEG, -0.8, "deposit_withdrawal"))
    for i in range(6):
        add("reddit", "rss", f"z{i}", ZH_CLUSTER + ("。" if i % 2 else ""), start + timedelta(hours=3, minutes=30 * i),
            _enrich(NEG, -0.7, "deposit_withdrawal", lang="zh"))
    for i, text in enumerate(HOSTILE):
        add("reddit", "rss", f"h{i}", text, start + timedelta(hours=6, minutes=i),
            _enrich(NEG, -0.5, "deposit_withdrawal" if i != 3 else "account"),
            url="javascript:alert(1)" if i == 1 else f"https://example.com/reddit/h{i}")
    for i, (lang, text) in enumerate(MULTILINGUAL):
        add("x-mentions", "twitter", f"m{i}", text, start + timedelta(hours=8, minutes=10 * i),
            _enrich(NEG, -0.6, "outage" if lang in ("ja", "es") else "deposit_withdrawal", lang=lang))
    for i, text in enumerate(PRAISE):
        add("x-mentions", "twitter", f"g{i}", text, start + timedelta(hours=10 + i), _enrich(POS, 0.8, "praise"))
    for i in range(8):  # the sinking release
        replied = {"reply_text": "Sorry, a fix is coming", "replied_at": "2026-03-01T12:00:00Z"} if i < 3 else \
            {"reply_text": None, "replied_at": None}
        add("okx-google-play", "google_play", f"gp62-{i}", f"Update 6.2.0 crashes on launch {i}" if i != 7 else
            HOSTILE[0], start + timedelta(hours=2 + i), _enrich(NEG, -0.7, "outage"),
            rating=1 + (i % 2), app_version="6.2.0", meta=replied)
    for i in range(4):
        add("okx-google-play", "google_play", f"gp61-{i}", f"Still on 6.1.0, works fine {i}",
            start + timedelta(hours=12 + i), _enrich(POS, 0.5, "praise"), rating=4 + (i % 2), app_version="6.1.0",
            meta={"reply_text": "Thank you!", "replied_at": "2026-03-01T18:00:00Z"})
    for i in range(3):
        add("okx-app-store", "app_store", f"as{i}", f"App Store review {i}: slow charts",
            start + timedelta(hours=14 + i), _enrich(NEG, -0.3, "outage"), rating=3, app_version="6.2.0")
    for i, text in enumerate(SECURITY_TEXTS):
        sensitive = [("seed_phrase", "email"), ("phone", "otp"), ()][i]
        add("x-mentions", "twitter", f"s{i}", text, start + timedelta(hours=16 + i),
            _enrich(NEG, -0.9, "security", lang="zh" if i == 2 else "en", security=True, sensitive=sensitive))

    ids: dict[str, int] = {}
    for source, pairs in items.items():
        store.save_batch(source, [p for p, _ in pairs], end)
        stored = store.get_posts(range(1, 10_000))
        by_key = {p.key: p for p in stored.values()}
        store.save_enrichments([(by_key[p.key], e) for p, e in pairs], end)
        ids.update({p.key: by_key[p.key].id for p, _ in pairs})

    store.save_findings([Finding(rule_id="security-takeover", event_time=start + timedelta(hours=16),
                                 severity=Severity.HIGH, group={}, post_ids=(ids["x-mentions:s0"],),
                                 fingerprint="s0")], end)
    _incident(store, "withdrawals-stuck", "Withdrawals stuck (spike)", Severity.HIGH, IncidentState.RESOLVED,
              start + timedelta(hours=1), start + timedelta(hours=1, minutes=30), start + timedelta(hours=5))
    _incident(store, "login", "<script>alert(1)</script> login failures @here", Severity.CRITICAL,
              IncidentState.OPEN, start + timedelta(hours=20), None, None)
    _incident(store, "old", "Resolved yesterday", Severity.LOW, IncidentState.RESOLVED,
              prev_start + timedelta(hours=2), prev_start + timedelta(hours=3), prev_start + timedelta(hours=4))
    return ids


def _incident(store, key, title, severity, state, opened, acked, resolved) -> None:
    store.insert_incident(Incident(id=None, key=key, rule_id=key, group={}, state=state, severity=severity,
                                   title=title, first_seen=opened, last_seen=resolved or opened, finding_count=3,
                                   post_count=7, opened_at=opened, acknowledged_at=acked, resolved_at=resolved),
                          opened)
